// Load generator: drives a tandem server through the official Temporal SDK and reports throughput,
// latency and the CPU each party spent per workflow. `npx tsx bench/load.ts --help` for usage;
// bench/README.md explains the numbers.
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { StoreKind } from '../test-e2e/harness.js';
import { alignTable, oneOf, parseFlags, positiveNumber, runIfMain, storesFlag, UsageError, writeResultFile } from './cli.js';
import { msPer, otherCores, processProbe, type CpuProbe, type CpuWindow } from './cpu.js';
import { CASSANDRA_PARTY, DevServer, SERVER_PARTY } from './dev-server.js';
import { drive, type Measurement } from './drive.js';
import { summarize, type LatencySummary } from './percentiles.js';
import { startWorker } from './worker.js';
import type { oneActivity } from './workflows.js';

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
  /**
   * With `address`: reads the CPU of that server's processes (bench/region.ts passes one per role);
   * without, only this process and the machine are read. A spawned server brings its own.
   */
  probe?: CpuProbe;
  namespace: string;
  /** Start mode on a spawned server: run it with --auth and start with its admin key (what auth costs a start). */
  auth?: boolean;
}

export const loadDefaults = { mode: 'start', workflows: 500, concurrency: 20, maxSeconds: 120, namespace: 'default' } as const;

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
  /**
   * CPU seconds each party spent in the measured loop, read from /proc right before and right
   * after it: `server` (a spawned `tandem dev`) and `cassandra` (its JVM, when on this machine), or
   * the parties of `probe`; always `bench` (this process: client and worker) and `machine`.
   */
  cpu: CpuWindow;
  /** cpu.seconds in ms per done workflow: per started (start mode) or completed (complete mode) workflow. */
  cpuMsPerWorkflow: Record<string, number>;
  errorSamples: string[];
  startedAt: string;
  /** loadAverage1m is taken before the run: on a shared machine it shows what else was running. */
  machine: { cpus: number; cpuModel: string; memoryGb: number; loadAverage1m: number; node: string };
}

export function machine(): LoadResult['machine'] {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
    node: process.version,
  };
}

async function startWorkflows(address: string, probe: CpuProbe, opts: LoadOptions, runTag: string, apiKey: string | undefined): Promise<Measurement> {
  // tls: false: with an apiKey the SDK would turn TLS on by itself, and tandem dev serves plaintext.
  const connection = await Connection.connect({ address, apiKey, tls: false });
  try {
    const client = new Client({ connection, namespace: opts.namespace });
    return await drive(opts.workflows, opts.concurrency, opts.maxSeconds, probe, async (i, signal) => {
      await connection.withAbortSignal(signal, () =>
        // Nobody polls this queue: start mode measures the start path alone.
        client.workflow.start<typeof oneActivity>('oneActivity', { taskQueue: `${runTag}-unpolled`, workflowId: `${runTag}-${i}`, args: [i] }),
      );
    });
  } finally {
    await connection.close();
  }
}

async function completeWorkflows(address: string, probe: CpuProbe, opts: LoadOptions, runTag: string): Promise<Measurement> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: opts.namespace });
    const taskQueue = runTag;
    const worker = await startWorker(address, opts.namespace, taskQueue);
    try {
      return await drive(opts.workflows, opts.concurrency, opts.maxSeconds, probe, async (i, signal) => {
        const result = await connection.withAbortSignal(signal, () =>
          client.workflow.execute<typeof oneActivity>('oneActivity', { taskQueue, workflowId: `${runTag}-${i}`, args: [i] }),
        );
        if (result !== i) throw new Error(`workflow ${i} returned ${String(result)}`);
      });
    } finally {
      await worker.stop();
    }
  } finally {
    await connection.close();
  }
}

/** One measured run on one store: spawns a fresh server unless `opts.address` names one. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const startedAt = new Date().toISOString();
  const host = machine();
  const runTag = `bench-${opts.mode}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  if (opts.auth && (opts.address || opts.mode !== 'start')) throw new UsageError('--auth runs start mode on a spawned server only');
  const server = opts.address ? undefined : await DevServer.start({ store: opts.store, auth: opts.auth });
  try {
    const address = server?.address ?? opts.address!;
    const probe = server?.probe ?? opts.probe ?? processProbe({});
    const m = opts.mode === 'start' ? await startWorkflows(address, probe, opts, runTag, server?.apiKey) : await completeWorkflows(address, probe, opts, runTag);
    const completed = m.latencies.length;
    const elapsedSeconds = m.cpu.wallSeconds;
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
      cpu: m.cpu,
      cpuMsPerWorkflow: msPer(m.cpu, completed),
      errorSamples: [...new Set(m.errors)].slice(0, 5),
      startedAt,
      machine: host,
    };
  } finally {
    await server?.stop();
  }
}

/** A party's CPU ms per workflow, or '-' where it was not measured. */
export function cpuMs(r: LoadResult, party: string): string {
  const ms = r.cpuMsPerWorkflow[party];
  return ms === undefined ? '-' : String(ms);
}

export function formatTable(results: LoadResult[]): string {
  // CPU per workflow: per started one in start mode, per completed one in complete mode.
  // Other cores: what the rest of the machine kept busy meanwhile (a shared machine's other users).
  const header = ['store', 'mode', 'N', 'C', 'done', 'errors', 'partial', 'elapsed s', 'per s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'server CPU ms/wf', 'cassandra CPU ms/wf', 'other cores'];
  const rows = results.map((r) => [
    ...[r.store, r.mode, r.workflows, r.concurrency, r.completed, r.errors, r.partial ? 'yes' : 'no', r.elapsedSeconds, r.perSecond, r.latencyMs.p50, r.latencyMs.p90, r.latencyMs.p99, r.latencyMs.max].map(String),
    cpuMs(r, SERVER_PARTY),
    cpuMs(r, CASSANDRA_PARTY),
    String(otherCores(r.cpu) ?? '-'),
  ]);
  return alignTable(header, rows);
}

const usage = `usage: npx tsx bench/load.ts [--store sqlite|cassandra|both] [--workflows N] [--concurrency C]
                             [--mode start|complete] [--max-seconds S] [--address host:port] [--namespace default] [--auth]
  --store        where the spawned server keeps its data (default sqlite); with --address it only labels the results
  --workflows    workflows to start (default ${loadDefaults.workflows})
  --concurrency  calls in flight at once (default ${loadDefaults.concurrency})
  --mode         start: start calls only, no worker; complete: a worker runs each workflow's one activity (default ${loadDefaults.mode})
  --max-seconds  cap on each measured loop; a run cut by it is reported as partial (default ${loadDefaults.maxSeconds})
  --address      use this running server instead of spawning one per store
  --auth         start mode: the spawned server runs with --auth and every start carries its admin API key`;

/** Parses the command line into one LoadOptions per store to run, in order. */
export function parseCommandLine(argv: string[]): LoadOptions[] {
  const values = parseFlags(argv, ['store', 'workflows', 'concurrency', 'mode', 'max-seconds', 'address', 'namespace'], ['auth']);
  const stores = storesFlag(values.store, 'sqlite');
  if (stores.length > 1 && values.address) throw new UsageError('--store both spawns a server per store; it cannot be combined with --address');
  const base = {
    mode: oneOf('mode', values.mode, ['start', 'complete'], loadDefaults.mode),
    workflows: positiveNumber('workflows', values.workflows, loadDefaults.workflows, true),
    concurrency: positiveNumber('concurrency', values.concurrency, loadDefaults.concurrency, true),
    maxSeconds: positiveNumber('max-seconds', values['max-seconds'], loadDefaults.maxSeconds, false),
    address: values.address,
    namespace: values.namespace ?? loadDefaults.namespace,
    auth: values.auth === true,
  };
  return stores.map((s) => ({ ...base, store: s }));
}

async function main(argv: string[]): Promise<void> {
  const runs = parseCommandLine(argv);
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

runIfMain(import.meta.url, main, usage);
