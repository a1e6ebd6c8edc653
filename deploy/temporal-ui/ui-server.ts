// The official Temporal Web UI (github.com/temporalio/ui-server, the Go server that embeds the
// UI's assets and proxies its /api/v1 calls to a Temporal frontend over gRPC) against Tandem:
// installed with `go install` into the project's cache, configured by one YAML file we write,
// started on a loopback port, ready when / answers 200.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot } from '../cassandra/fetch.js';
import { sleep } from '../../services/common/lifecycle.js';

const run = promisify(execFile);

/** Pinned: the release `temporal server start-dev` bundled when this was written. */
export const UI_SERVER_VERSION = 'v2.42.1';
export const UI_SERVER_MODULE = 'github.com/temporalio/ui-server/v2/cmd/server';

/** `<cache>/temporal-ui-server-<version>/server` (`$TANDEM_CACHE`, else `~/.cache/tandem`). */
export function uiServerBinary(version = UI_SERVER_VERSION): string {
  return path.join(cacheRoot(), `temporal-ui-server-${version}`, 'server');
}

/**
 * Ensures the ui-server binary is in the cache (go install through the Go module proxy; about a
 * minute and 150 MB the first time) and returns its path. Built into a temporary GOBIN renamed
 * at the end, so an interrupted install never looks complete.
 */
export async function installUiServer(version = UI_SERVER_VERSION, log: (msg: string) => void = () => {}): Promise<string> {
  const bin = uiServerBinary(version);
  if (existsSync(bin)) return bin;
  const dir = path.dirname(bin);
  mkdirSync(dir, { recursive: true });
  const work = path.join(dir, `install-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  log(`installing ${UI_SERVER_MODULE}@${version} with go into ${dir}`);
  try {
    await run('go', ['install', `${UI_SERVER_MODULE}@${version}`], {
      env: { ...process.env, GOBIN: work, GOFLAGS: [process.env.GOFLAGS, '-buildvcs=false'].filter(Boolean).join(' ') },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string };
    rmSync(work, { recursive: true, force: true });
    if (e.code === 'ENOENT') throw new Error('go is not installed: the Temporal UI server is built with `go install` (Go 1.23 or newer)');
    throw new Error(`go install ${UI_SERVER_MODULE}@${version} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
  const built = path.join(work, 'server');
  if (!existsSync(built)) throw new Error(`go install finished but ${built} is missing`);
  // Another install may have won the race; its binary is as good as ours.
  if (!existsSync(bin)) renameSync(built, bin);
  rmSync(work, { recursive: true, force: true });
  log(`installed ${bin}`);
  return bin;
}

export interface UiServerOptions {
  /** The Temporal frontend (or Tandem's global endpoint), host:port. */
  temporalAddress: string;
  port: number;
  host?: string;
  /** The UI's default namespace. */
  namespace?: string;
}

/** The ui-server's config (server/config/config.go): no auth, no codec, no TLS, every action enabled. */
export function uiServerConfig(o: UiServerOptions): string {
  const host = o.host ?? '127.0.0.1';
  return `# Written by deploy/temporal-ui (Tandem): the official Temporal UI server against ${o.temporalAddress}.
temporalGrpcAddress: ${o.temporalAddress}
host: ${host}
port: ${o.port}
publicPath: ""
enableUi: true
cloudUi: false
defaultNamespace: ${o.namespace ?? 'default'}
showTemporalSystemNamespace: false
notifyOnNewVersion: false
refreshInterval: 0s
hideLogs: true
disableWriteActions: false
workflowTerminateDisabled: false
workflowCancelDisabled: false
workflowSignalDisabled: false
workflowUpdateDisabled: false
workflowResetDisabled: false
batchActionsDisabled: false
startWorkflowDisabled: false
hideWorkflowQueryErrors: false
refreshWorkflowCountsDisabled: false
activityCommandsDisabled: false
auth:
  enabled: false
cors:
  cookieInsecure: true
  allowOrigins:
    - http://${host}:${o.port}
    - http://localhost:${o.port}
  unsafeAllowAllOrigins: false
codec:
  endpoint: ""
forwardHeaders: []
`;
}

/** Writes `<dir>/config/tandem.yaml`; the server reads it with `--root <dir> --env tandem`. */
export function writeUiServerConfig(dir: string, o: UiServerOptions): string {
  mkdirSync(path.join(dir, 'config'), { recursive: true });
  const file = path.join(dir, 'config', 'tandem.yaml');
  writeFileSync(file, uiServerConfig(o));
  return file;
}

export function uiServerArgs(dir: string): string[] {
  return ['--root', dir, '--config', 'config', '--env', 'tandem', 'start'];
}

/** GET url answers 200 (the UI's index.html). */
async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export class UiServer {
  private output = '';
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly dir: string,
    private readonly ownDir: boolean,
  ) {
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  get logs(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves with the exit code or signal when the server exits. */
  get exited(): Promise<number | string> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode!);
    return new Promise((r) => child.once('exit', (code, sig) => r(code ?? sig ?? -1)));
  }

  /**
   * Installs the binary if needed, writes its config into `dir` (a temp folder when omitted),
   * starts it as a child of this process, and resolves once http://host:port/ answers 200.
   */
  static async start(o: UiServerOptions & { dir?: string; timeoutMs?: number; log?: (msg: string) => void }): Promise<UiServer> {
    const bin = await installUiServer(UI_SERVER_VERSION, o.log);
    const dir = o.dir ?? mkdtempSync(path.join(os.tmpdir(), 'tandem-ui-'));
    writeUiServerConfig(dir, o);
    const child = spawn(bin, uiServerArgs(dir), { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = `http://${o.host ?? '127.0.0.1'}:${o.port}`;
    const server = new UiServer(child, url, dir, o.dir === undefined);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => reject(new Error(`cannot run ${bin}: ${err.message}`)));
    });
    const deadline = Date.now() + (o.timeoutMs ?? 30_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the UI server exited (${child.exitCode ?? child.signalCode}):\n${server.logs}`);
      if (await answers200(`${url}/`)) return server;
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`the UI server did not answer 200 on ${url}/ within ${o.timeoutMs ?? 30_000} ms:\n${server.logs}`);
      }
      await sleep(200);
    }
  }

  /** SIGTERM, SIGKILL after 5 s; resolves once the process is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
