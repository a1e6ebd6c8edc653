// One process of a topology (a region's frontend, history or matching node; the global router; a
// link between regions; the failover controller) as its own OS process: what `tandem up` and the
// end-to-end tests run. Never restarts anything by itself; the caller decides.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../../services/common/lifecycle.js';
import type { NodeSpec, Service } from '../topology.js';
import { cpuProfileFlags } from './cpu-profile.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What a process runs: its main is deploy/processes/<kind>.ts (`link` runs link-proxy.ts). */
export type ProcessKind = Service | 'router' | 'link' | 'controller';

const MAIN: Record<ProcessKind, string> = {
  frontend: 'frontend.ts',
  history: 'history.ts',
  matching: 'matching.ts',
  router: 'router.ts',
  link: 'link-proxy.ts',
  controller: 'controller.ts',
};

function processMain(kind: ProcessKind): string {
  return path.join(root, 'deploy', 'processes', MAIN[kind]);
}

export interface NodeProcessOptions {
  topologyFile: string;
  /** The region a region process belongs to; global processes have none. */
  region?: string;
  service: ProcessKind;
  /** Its id, and where its /healthz answers once it is ready. */
  node: NodeSpec;
  /** The arguments after the main, when they are not `--topology F [--region R] --node ID --log-level L`. */
  args?: string[];
  /** false: ready once spawned (a main that serves no /healthz). */
  waitHealthy?: boolean;
  /** Called with the pid each time the process is spawned. */
  onSpawn?: (pid: number) => void;
  /** Each line the process writes (stdout and stderr), without its newline. */
  onLine?: (line: string) => void;
  logLevel?: string;
  /** Lines kept for logs(); default 5000. */
  keepLines?: number;
  /** Called every time the process exits (crash, signal or stop). */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export class NodeProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private readonly lines: string[] = [];

  constructor(readonly options: NodeProcessOptions) {}

  get id(): string {
    return this.options.node.id;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get metricsUrl(): string {
    const n = this.options.node;
    return `http://${n.host === '0.0.0.0' ? '127.0.0.1' : n.host}:${n.metricsPort}/metrics`;
  }

  /** The last lines the process wrote (all of its runs). */
  logs(): string[] {
    return [...this.lines];
  }

  /** Spawns the process and resolves once its /healthz answers (it is ready). */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) throw new Error(`${this.id} is already running`);
    const o = this.options;
    const args = o.args ?? ['--topology', o.topologyFile, ...(o.region ? ['--region', o.region] : []), '--node', o.node.id, '--log-level', o.logLevel ?? 'info'];
    const child = spawn(process.execPath, [...cpuProfileFlags(o.node.id), '--import', 'tsx', processMain(o.service), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    if (child.pid !== undefined) o.onSpawn?.(child.pid);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        resolve();
        o.onExit?.(code, signal);
      }),
    );
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.on('data', (b: Buffer) => {
        const parts = (partial + b.toString()).split('\n');
        partial = parts.pop()!;
        for (const line of parts) this.line(line);
      });
      stream.on('end', () => partial && this.line(partial));
    }
    if (o.waitHealthy === false) return;
    const deadline = Date.now() + timeoutMs;
    const healthz = this.metricsUrl.replace(/\/metrics$/, '/healthz');
    for (;;) {
      if (!this.running) throw new Error(`${this.id} exited during start (code ${child.exitCode}, signal ${child.signalCode}):\n${this.lines.slice(-30).join('\n')}`);
      if (await fetch(healthz, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)) return;
      if (Date.now() > deadline) throw new Error(`${this.id} did not become ready within ${timeoutMs} ms:\n${this.lines.slice(-30).join('\n')}`);
      await sleep(200);
    }
  }

  /** Sends a signal (SIGKILL to crash it, SIGSTOP/SIGCONT to pause it). */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child!.kill(sig);
  }

  /** SIGTERM (graceful), SIGKILL after graceMs; resolves when the process is gone. */
  async stop(graceMs = 25_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGCONT');
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL; resolves when the process is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** Resolves when the process exits by itself or by a signal. */
  wait(): Promise<void> {
    return this.exited ?? Promise.resolve();
  }

  private line(line: string): void {
    this.lines.push(line);
    const keep = this.options.keepLines ?? 5000;
    if (this.lines.length > keep) this.lines.splice(0, this.lines.length - keep);
    this.options.onLine?.(line);
  }
}

/** GET a process's /metrics as Prometheus text; null when it does not answer. */
export async function scrape(url: string, timeoutMs = 2000): Promise<string | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}
