// CPU per started and per completed workflow, side by side in one run: Tandem as one process
// (`tandem dev`, SQLite and Cassandra), a Tandem region of separate processes as `tandem up` runs
// it (frontend, matching, one history node, on Cassandra), and the reference server (`temporal
// server start-dev`, SQLite) when its CLI is on this machine. The same load of bench/load.ts goes
// to each in turn; every process of a target is read from /proc, Cassandra's JVM apart, so each
// figure is work done, and the ratios compare runs of the same minutes on the same machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, type StoreKind } from '../test-e2e/harness.js';
import { alignTable, count, parseFlags, positiveNumber, runIfMain, writeResultFile } from './cli.js';
import { processProbe, round } from './cpu.js';
import { CASSANDRA_PARTY, DevServer, SERVER_PARTY } from './dev-server.js';
import { loadDefaults, machine, runLoad, type LoadResult, type Mode } from './load.js';
import { ROLES, regionDefaults, runTopology } from './region.js';

export type TargetName = 'tandem one process' | 'tandem up region' | 'reference start-dev';

export interface SideBySideOptions {
  workflows: Record<Mode, number>;
  warmup: number;
  concurrency: number;
  maxSeconds: number;
  /** The `temporal` CLI; null: the reference server is left out. */
  temporalCli: string | null;
  /** Which targets to run (all by default). */
  targets: TargetName[];
  log: (msg: string) => void;
}

export interface TargetRun {
  target: TargetName;
  store: StoreKind;
  mode: Mode;
  result: LoadResult;
  /** CPU ms per done workflow of the target's own processes, summed. */
  serverMsPerWorkflow: number;
  cassandraMsPerWorkflow: number | null;
}

export interface SideBySideReport {
  startedAt: string;
  loadAverage1m: number;
  options: Omit<SideBySideOptions, 'log'>;
  runs: TargetRun[];
  ratios: { what: string; mode: Mode; ratio: number }[];
}

const MODES: Mode[] = ['start', 'complete'];
const REFERENCE_PARTY = 'reference';

/** The `temporal` CLI: TEMPORAL_CLI, then PATH, then where `go install` puts it. */
export function findTemporalCli(): string | null {
  const candidates = [process.env.TEMPORAL_CLI, 'temporal', path.join(os.homedir(), 'go', 'bin', 'temporal')].filter((c): c is string => Boolean(c));
  for (const c of candidates) {
    try {
      execFileSync(c, ['--version'], { stdio: 'ignore' });
      return c;
    } catch {
      // not this one
    }
  }
  return null;
}

const msPerWorkflow = (r: LoadResult, parties: string[]) => round((parties.reduce((s, p) => s + (r.cpu.seconds[p] ?? 0), 0) * 1000) / Math.max(1, r.completed));
const cassandraMs = (r: LoadResult) => (r.cpu.seconds[CASSANDRA_PARTY] === undefined ? null : msPerWorkflow(r, [CASSANDRA_PARTY]));

/** Warm-up (unmeasured), then each mode measured, against a running target. */
async function measureModes(target: TargetName, store: StoreKind, base: Parameters<typeof runLoad>[0], parties: string[], opts: SideBySideOptions): Promise<TargetRun[]> {
  const runs: TargetRun[] = [];
  for (const mode of MODES.filter((m) => opts.workflows[m] > 0)) {
    if (opts.warmup > 0) await runLoad({ ...base, mode, workflows: opts.warmup });
    opts.log(`${target} (${store}): ${mode} x${opts.workflows[mode]}`);
    const result = await runLoad({ ...base, mode, workflows: opts.workflows[mode] });
    runs.push({ target, store, mode, result, serverMsPerWorkflow: msPerWorkflow(result, parties), cassandraMsPerWorkflow: cassandraMs(result) });
  }
  return runs;
}

async function oneProcess(store: StoreKind, opts: SideBySideOptions): Promise<TargetRun[]> {
  const server = await DevServer.start({ store });
  try {
    const base = { ...loadDefaults, store, address: server.address, probe: server.probe, concurrency: opts.concurrency, maxSeconds: opts.maxSeconds };
    return await measureModes('tandem one process', store, base, [SERVER_PARTY], opts);
  } finally {
    await server.stop();
  }
}

async function upRegion(opts: SideBySideOptions): Promise<TargetRun[]> {
  const run = await runTopology(1, { ...regionDefaults, nodes: [1], workflows: opts.workflows, concurrency: opts.concurrency, maxSeconds: opts.maxSeconds, warmup: opts.warmup, log: opts.log });
  return run.phases.map(({ result }) => ({
    target: 'tandem up region' as const,
    store: 'cassandra' as const,
    mode: result.mode,
    result,
    serverMsPerWorkflow: msPerWorkflow(result, ROLES),
    cassandraMsPerWorkflow: cassandraMs(result),
  }));
}

/** `temporal server start-dev` on a SQLite file of its own, headless, until its frontend answers. */
async function reference(cli: string, opts: SideBySideOptions): Promise<TargetRun[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-reference-'));
  const port = await freePort();
  const child: ChildProcess = spawn(cli, ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', '0', '--http-port', '0', '--metrics-port', '0', '--db-filename', path.join(dir, 'ref.db'), '--log-level', 'error'], { stdio: 'ignore' });
  try {
    const address = `127.0.0.1:${port}`;
    await waitForFrontend(cli, address);
    const probe = processProbe({ [REFERENCE_PARTY]: [child.pid!] });
    const base = { ...loadDefaults, store: 'sqlite' as const, address, probe, concurrency: opts.concurrency, maxSeconds: opts.maxSeconds };
    return await measureModes('reference start-dev', 'sqlite', base, [REFERENCE_PARTY], opts);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function waitForFrontend(cli: string, address: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      execFileSync(cli, ['operator', 'namespace', 'describe', '--address', address, '--namespace', 'default'], { stdio: 'ignore' });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the reference server on ${address} did not answer within 60 s`, { cause: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Server CPU per workflow of `over` divided by that of `under`, per mode, where both ran. */
function ratiosOf(runs: TargetRun[]): SideBySideReport['ratios'] {
  const find = (target: TargetName, store: StoreKind, mode: Mode) => runs.find((r) => r.target === target && r.store === store && r.mode === mode);
  const pairs: [string, TargetRun | undefined, TargetRun | undefined][] = MODES.flatMap((mode) => [
    ['tandem one process / reference (SQLite)', find('tandem one process', 'sqlite', mode), find('reference start-dev', 'sqlite', mode)],
    ['tandem up region / tandem one process (Cassandra)', find('tandem up region', 'cassandra', mode), find('tandem one process', 'cassandra', mode)],
  ] as [string, TargetRun | undefined, TargetRun | undefined][]);
  return pairs.filter(([, a, b]) => a && b).map(([what, a, b]) => ({ what, mode: a!.mode, ratio: round(a!.serverMsPerWorkflow / b!.serverMsPerWorkflow) }));
}

export async function runSideBySide(opts: SideBySideOptions): Promise<SideBySideReport> {
  const startedAt = new Date().toISOString();
  const loadAverage1m = machine().loadAverage1m;
  const runs: TargetRun[] = [];
  if (opts.targets.includes('tandem one process')) for (const store of ['sqlite', 'cassandra'] as const) runs.push(...(await oneProcess(store, opts)));
  if (opts.targets.includes('tandem up region')) runs.push(...(await upRegion(opts)));
  if (opts.targets.includes('reference start-dev')) {
    if (opts.temporalCli) runs.push(...(await reference(opts.temporalCli, opts)));
    else opts.log('reference start-dev: no `temporal` CLI here (TEMPORAL_CLI, PATH, ~/go/bin); left out');
  }
  const { log: _log, ...options } = opts;
  return { startedAt, loadAverage1m, options, runs, ratios: ratiosOf(runs) };
}

export function formatSideBySide(report: SideBySideReport): string {
  const header = ['target', 'store', 'mode', 'done', 'per s', 'p50 ms', 'p99 ms', 'server CPU ms/wf', 'cassandra CPU ms/wf', 'load 1m'];
  const rows = report.runs.map((r) => [
    r.target,
    r.store,
    r.mode,
    String(r.result.completed),
    String(r.result.perSecond),
    String(r.result.latencyMs.p50),
    String(r.result.latencyMs.p99),
    String(r.serverMsPerWorkflow),
    r.cassandraMsPerWorkflow === null ? '-' : String(r.cassandraMsPerWorkflow),
    String(r.result.machine.loadAverage1m),
  ]);
  const ratios = report.ratios.map((x) => `${x.what}, ${x.mode}: ${x.ratio}`);
  return [alignTable(header, rows), '', 'server CPU per workflow, ratios:', ...ratios].join('\n');
}

const ALL_TARGETS: TargetName[] = ['tandem one process', 'tandem up region', 'reference start-dev'];
const defaults = { workflows: { start: 2000, complete: 400 }, warmup: 100, concurrency: loadDefaults.concurrency, maxSeconds: 120 };

const usage = `usage: npx tsx bench/side-by-side.ts [--starts N] [--completes N] [--warmup W] [--concurrency C] [--max-seconds S]
                                     [--targets one,up,reference]
  --starts       measured starts per target (default ${defaults.workflows.start}; 0 skips the mode)
  --completes    measured completed workflows per target (default ${defaults.workflows.complete}; 0 skips)
  --warmup       unmeasured workflows per mode before them (default ${defaults.warmup})
  --concurrency  calls in flight (default ${defaults.concurrency})
  --max-seconds  cap on each measured loop (default ${defaults.maxSeconds})
  --targets      which to run: one (tandem dev, SQLite then Cassandra), up (a tandem up region on
                 Cassandra), reference (temporal server start-dev; TEMPORAL_CLI names the CLI)
The test Cassandra and Redis (deploy/) are started when needed, as for bench/region.ts.`;

export function parseSideBySideCommandLine(argv: string[]): Omit<SideBySideOptions, 'log' | 'temporalCli'> {
  const v = parseFlags(argv, ['starts', 'completes', 'warmup', 'concurrency', 'max-seconds', 'targets']);
  const names: Record<string, TargetName> = { one: 'tandem one process', up: 'tandem up region', reference: 'reference start-dev' };
  const targets = v.targets === undefined ? ALL_TARGETS : v.targets.split(',').map((t) => {
    if (!(t in names)) throw new Error(`--targets takes one, up and reference, got ${t}`);
    return names[t]!;
  });
  return {
    workflows: { start: count('starts', v.starts, defaults.workflows.start), complete: count('completes', v.completes, defaults.workflows.complete) },
    warmup: count('warmup', v.warmup, defaults.warmup),
    concurrency: positiveNumber('concurrency', v.concurrency, defaults.concurrency, true),
    maxSeconds: positiveNumber('max-seconds', v['max-seconds'], defaults.maxSeconds, false),
    targets,
  };
}

async function main(argv: string[]): Promise<void> {
  const report = await runSideBySide({ ...parseSideBySideCommandLine(argv), temporalCli: findTemporalCli(), log: (msg) => console.error(`bench: ${msg}`) });
  console.error(`bench: wrote ${path.relative(process.cwd(), writeResultFile(report.startedAt, 'side-by-side', report))}`);
  console.log(formatSideBySide(report));
}

runIfMain(import.meta.url, main, usage);
