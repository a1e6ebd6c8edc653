// Load generator: drives a tandem server through the official Temporal SDK and reports throughput
// and latency. `npx tsx bench/load.ts --help` for usage; bench/README.md explains the numbers.
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { StoreFixture, TandemProcess, type StoreKind } from '../test-e2e/harness.js';
import * as activities from './activities.js';
import type { oneActivity } from './workflows.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));

export type Mode = 'start' | 'complete';

export interface LoadOptions {
  store: StoreKind;
  mode: Mode;
  workflows: number;
  concurrency: number;
  /** Hard cap on the measured loop; what finished by then is reported, marked partial. */
  maxSeconds: number;
  /** A server that is already running; without it a fresh `tandem dev` is spawned on `store`. */
  address?: string;
  namespace: string;
}

export const loadDefaults = { mode: 'start', workflows: 500, concurrency: 20, maxSeconds: 120, namespace: 'default' } as const;

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  store: StoreKind;
  mode: Mode;
  address: string;
  spawned: boolean;
  workflows: number;
  concurrency: number;
  maxSeconds: number;
  /** start mode: starts acknowledged; complete mode: results received. */
  completed: number;
  errors: number;
  /** In flight or never begun when the time cap hit. */
  unfinished: number;
  partial: boolean;
  elapsedSeconds: number;
  /** completed / elapsedSeconds. */
  perSecond: number;
  /** Per workflow: the start call (start mode), or start call to result (complete mode). */
  latencyMs: LatencySummary;
  errorSamples: string[];
  startedAt: string;
  /** loadAverage1m is taken before the run: on a shared machine it shows what else was running. */
  machine: { cpus: number; cpuModel: string; memoryGb: number; loadAverage1m: number; node: string };
}

interface Measurement {
  latencies: number[];
  errors: string[];
  unfinished: number;
  elapsedMs: number;
}

/**
 * Runs `op` for indexes 0..n-1, at most `concurrency` at a time, until all are done or the
 * deadline passes; at the deadline `signal` aborts the calls still in flight.
 */
async function drive(n: number, concurrency: number, maxSeconds: number, op: (i: number, signal: AbortSignal) => Promise<void>): Promise<Measurement> {
  const abort = new AbortController();
  // Every call in flight listens on the one signal; that is many listeners by design.
  setMaxListeners(0, abort.signal);
  const timer = setTimeout(() => abort.abort(new Error(`time cap of ${maxSeconds}s reached`)), maxSeconds * 1000);
  const latencies: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const runner = async () => {
    while (next < n && !abort.signal.aborted) {
      const i = next++;
      const t0 = performance.now();
      try {
        await op(i, abort.signal);
        latencies.push(performance.now() - t0);
      } catch (err) {
        // A call cut by the cap is unfinished, not an error of the server.
        if (!abort.signal.aborted) errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, runner));
  } finally {
    clearTimeout(timer);
  }
  return { latencies, errors, unfinished: n - latencies.length - errors.length, elapsedMs: performance.now() - t0 };
}

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

function summarize(latencies: number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return { p50: round(percentile(sorted, 0.5)), p90: round(percentile(sorted, 0.9)), p99: round(percentile(sorted, 0.99)), max: round(sorted.at(-1) ?? NaN) };
}

function machine(): LoadResult['machine'] {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
    node: process.version,
  };
}

async function startWorkflows(address: string, opts: LoadOptions, runTag: string): Promise<Measurement> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: opts.namespace });
    return await drive(opts.workflows, opts.concurrency, opts.maxSeconds, async (i, signal) => {
      await connection.withAbortSignal(signal, () =>
        // Nobody polls this queue: start mode measures the start path alone.
        client.workflow.start<typeof oneActivity>('oneActivity', { taskQueue: `${runTag}-unpolled`, workflowId: `${runTag}-${i}`, args: [i] }),
      );
    });
  } finally {
    await connection.close();
  }
}

// Bundling the workflow code takes seconds of CPU; one bundle serves every run of the process.
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** How long a worker may take to drain after the measured loop; its shutdown is not measured. */
const WORKER_SHUTDOWN_MS = 30_000;

async function completeWorkflows(address: string, opts: LoadOptions, runTag: string): Promise<Measurement> {
  bundle ??= bundleWorkflowCode({ workflowsPath: path.join(benchDir, 'workflows.ts'), logger: Runtime.instance().logger });
  const workerConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: opts.namespace });
    const taskQueue = runTag;
    const worker = await Worker.create({ connection: workerConnection, namespace: opts.namespace, taskQueue, workflowBundle: await bundle, activities });
    const running = worker.run();
    try {
      return await drive(opts.workflows, opts.concurrency, opts.maxSeconds, async (i, signal) => {
        const result = await connection.withAbortSignal(signal, () =>
          client.workflow.execute<typeof oneActivity>('oneActivity', { taskQueue, workflowId: `${runTag}-${i}`, args: [i] }),
        );
        if (result !== i) throw new Error(`workflow ${i} returned ${String(result)}`);
      });
    } finally {
      worker.shutdown();
      await boundedWait(running, WORKER_SHUTDOWN_MS, 'worker shutdown');
    }
  } finally {
    await connection.close();
    await workerConnection.close();
  }
}

async function boundedWait(p: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      console.error(`bench: ${what} still pending after ${ms} ms; moving on`);
      resolve();
    }, ms);
  });
  try {
    await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One measured run on one store: spawns a fresh server unless `opts.address` names one. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const startedAt = new Date().toISOString();
  const host = machine();
  const runTag = `bench-${opts.mode}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  let fixture: StoreFixture | undefined;
  let server: TandemProcess | undefined;
  try {
    let address = opts.address;
    if (!address) {
      fixture = await StoreFixture.create(opts.store);
      server = await TandemProcess.start(fixture);
      address = server.address;
    }
    const m = opts.mode === 'start' ? await startWorkflows(address, opts, runTag) : await completeWorkflows(address, opts, runTag);
    const completed = m.latencies.length;
    const elapsedSeconds = m.elapsedMs / 1000;
    return {
      store: opts.store,
      mode: opts.mode,
      address,
      spawned: server !== undefined,
      workflows: opts.workflows,
      concurrency: opts.concurrency,
      maxSeconds: opts.maxSeconds,
      completed,
      errors: m.errors.length,
      unfinished: m.unfinished,
      partial: m.unfinished > 0,
      elapsedSeconds: Math.round(elapsedSeconds * 100) / 100,
      perSecond: Math.round((completed / elapsedSeconds) * 10) / 10,
      latencyMs: summarize(m.latencies),
      errorSamples: [...new Set(m.errors)].slice(0, 5),
      startedAt,
      machine: host,
    };
  } finally {
    await server?.stop();
    await fixture?.dispose();
  }
}

export function formatTable(results: LoadResult[]): string {
  const header = ['store', 'mode', 'N', 'C', 'done', 'errors', 'partial', 'elapsed s', 'per s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'];
  const rows = results.map((r) =>
    [r.store, r.mode, r.workflows, r.concurrency, r.completed, r.errors, r.partial ? 'yes' : 'no', r.elapsedSeconds, r.perSecond, r.latencyMs.p50, r.latencyMs.p90, r.latencyMs.p99, r.latencyMs.max].map(String),
  );
  return alignTable(header, rows);
}

/** Right-aligned columns, two spaces apart, the header first. */
export function alignTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c]!)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

const usage = `usage: npx tsx bench/load.ts [--store sqlite|cassandra|both] [--workflows N] [--concurrency C]
                             [--mode start|complete] [--max-seconds S] [--address host:port] [--namespace default]
  --store        where the spawned server keeps its data (default sqlite); with --address it only labels the results
  --workflows    workflows to start (default ${loadDefaults.workflows})
  --concurrency  calls in flight at once (default ${loadDefaults.concurrency})
  --mode         start: start calls only, no worker; complete: a worker runs each workflow's one activity (default ${loadDefaults.mode})
  --max-seconds  cap on each measured loop; a run cut by it is reported as partial (default ${loadDefaults.maxSeconds})
  --address      use this running server instead of spawning one per store`;

export class UsageError extends Error {}

export function positiveNumber(name: string, v: string | undefined, fallback: number, integer: boolean): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n > 0) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  return n;
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${v}`);
  return v as T;
}

/** Parses the command line into one LoadOptions per store to run, in order. */
export function parseCommandLine(argv: string[]): LoadOptions[] {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        store: { type: 'string' },
        workflows: { type: 'string' },
        concurrency: { type: 'string' },
        mode: { type: 'string' },
        'max-seconds': { type: 'string' },
        address: { type: 'string' },
        namespace: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  const store = oneOf('store', values.store, ['sqlite', 'cassandra', 'both'], 'sqlite');
  if (store === 'both' && values.address) throw new UsageError('--store both spawns a server per store; it cannot be combined with --address');
  const base = {
    mode: oneOf('mode', values.mode, ['start', 'complete'], loadDefaults.mode),
    workflows: positiveNumber('workflows', values.workflows, loadDefaults.workflows, true),
    concurrency: positiveNumber('concurrency', values.concurrency, loadDefaults.concurrency, true),
    maxSeconds: positiveNumber('max-seconds', values['max-seconds'], loadDefaults.maxSeconds, false),
    address: values.address,
    namespace: values.namespace ?? loadDefaults.namespace,
  };
  const stores: StoreKind[] = store === 'both' ? ['sqlite', 'cassandra'] : [store];
  return stores.map((s) => ({ ...base, store: s }));
}

/** Writes `bench/results/<startedAt>-<suffix>.json`; returns its path. */
export function writeResultFile(startedAt: string, suffix: string, data: unknown): string {
  const dir = path.join(benchDir, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${startedAt.slice(0, 19).replace(/:/g, '-')}-${suffix}.json`);
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

async function main(argv: string[]): Promise<void> {
  const runs = parseCommandLine(argv);
  // The worker's state changes are INFO lines; they would bury the report.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const results: LoadResult[] = [];
  // Sequential on purpose: two stores measured at once would share the cores and skew both.
  for (const opts of runs) {
    console.error(`bench: ${opts.store} ${opts.mode}: ${opts.workflows} workflows at concurrency ${opts.concurrency} (cap ${opts.maxSeconds}s)${opts.address ? ` on ${opts.address}` : ''}`);
    const r = await runLoad(opts);
    results.push(r);
    console.error(`bench: wrote ${path.relative(process.cwd(), writeResultFile(r.startedAt, `${r.store}-${r.mode}`, r))}`);
    for (const e of r.errorSamples) console.error(`bench: error: ${e}`);
  }
  console.log(formatTable(results));
}

/** Runs a bench CLI's main when `moduleUrl` is the script node was started with. */
export function runIfMain(moduleUrl: string, main: (argv: string[]) => Promise<void>, usageText: string): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(path.resolve(process.argv[1])).href) return;
  main(process.argv.slice(2)).then(
    // The worker's native runtime can keep handles open after shutdown; the report is done.
    () => process.exit(0),
    (err: unknown) => {
      if (err instanceof UsageError) {
        if (err.message) console.error(`bench: ${err.message}`);
        console.error(usageText);
        process.exit(2);
      }
      console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}

runIfMain(import.meta.url, main, usage);
