// What the shard count costs: for each store and each shard count, a fresh `tandem dev --shards N`
// is timed from spawn to every shard owned, then measured idle (CPU and resident memory: every
// shard's transfer and timer queue processors poll the store even with no work), then, for the
// counts in `loadShards`, loaded with starts. `npx tsx bench/shards.ts --help`.
import path from 'node:path';
import type { StoreKind } from '../test-e2e/harness.js';
import { alignTable, count, parseFlags, positiveList, positiveNumber, runIfMain, storesFlag, writeResultFile } from './cli.js';
import { cores, measureCpu, otherCores, round, type CpuWindow } from './cpu.js';
import { CASSANDRA_PARTY, DevServer, SERVER_PARTY } from './dev-server.js';
import { cpuMs, loadDefaults, machine, runLoad, type LoadResult } from './load.js';
import { shardsSettled } from './shards-owned.js';

export interface ShardBenchOptions {
  stores: StoreKind[];
  /** Shard counts, one fresh server each, in this order (repeat a count to see the spread). */
  shards: number[];
  /** Of those, the counts that also get the start load; the others are measured idle only. */
  loadShards: number[];
  /** The quiet interval measured for idle CPU; several queue poll intervals (5 s) long. */
  idleSeconds: number;
  /** Measured starts per loaded run, after `warmup` unmeasured ones. */
  workflows: number;
  warmup: number;
  concurrency: number;
  /** Cap on each load loop. */
  maxSeconds: number;
  log: (msg: string) => void;
}

export const shardDefaults = {
  stores: ['sqlite', 'cassandra'] as StoreKind[],
  shards: [16, 256, 1024],
  loadShards: [16, 256],
  idleSeconds: 15,
  workflows: 3000,
  warmup: 200,
  concurrency: loadDefaults.concurrency,
  maxSeconds: 60,
} as const;

/** Longest wait from spawn for every shard to be owned. */
const STARTUP_TIMEOUT_MS = 120_000;
/** Pause between start-up and the idle window: start-up's JIT, GC and store flushes settle first. */
const QUIET_MS = 5_000;
const MB = 2 ** 20;

export interface ShardRun {
  store: StoreKind;
  numShards: number;
  /** From spawning `tandem dev` to its /metrics reporting every shard owned (process and tsx start-up included). */
  startupSeconds: number;
  /** CPU of the server (and Cassandra) over the idle window, and the same in ms of CPU per second of wall time. */
  idle: { cpu: CpuWindow; msPerSecond: Record<string, number> };
  /** The server's resident memory at the end of the idle window, and after the load. */
  rssMb: { idle: number; afterLoad?: number };
  warmup?: LoadResult;
  load?: LoadResult;
  loadAverage1m: number;
}

export interface ShardBenchReport {
  startedAt: string;
  options: Omit<ShardBenchOptions, 'log'>;
  runs: ShardRun[];
}

/** One fresh server: start-up, idle, and (when asked) the start load; always stopped. */
export async function runShardCount(store: StoreKind, numShards: number, opts: ShardBenchOptions): Promise<ShardRun> {
  const loadAverage1m = machine().loadAverage1m;
  const t0 = performance.now();
  const server = await DevServer.start({ store, numShards });
  try {
    await shardsSettled(new Map([[SERVER_PARTY, { metricsUrl: server.metricsUrl, shards: numShards }]]), STARTUP_TIMEOUT_MS);
    const startupSeconds = round((performance.now() - t0) / 1000);
    opts.log(`${store} ${numShards} shards: all owned ${startupSeconds} s after spawn; idle for ${opts.idleSeconds} s`);
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const { cpu } = await measureCpu(server.probe, () => new Promise((r) => setTimeout(r, opts.idleSeconds * 1000)));
    const msPerSecond = Object.fromEntries(Object.entries(cores(cpu)).map(([party, c]) => [party, round(c * 1000, 1)]));
    const run: ShardRun = { store, numShards, startupSeconds, idle: { cpu, msPerSecond }, rssMb: { idle: round(server.rssBytes() / MB, 1) }, loadAverage1m };
    if (!opts.loadShards.includes(numShards)) return run;
    const base = { ...loadDefaults, store, mode: 'start' as const, address: server.address, probe: server.probe, concurrency: opts.concurrency, maxSeconds: opts.maxSeconds };
    if (opts.warmup > 0) run.warmup = await runLoad({ ...base, workflows: opts.warmup });
    opts.log(`${store} ${numShards} shards: ${opts.workflows} starts at concurrency ${opts.concurrency}`);
    run.load = await runLoad({ ...base, workflows: opts.workflows });
    run.rssMb.afterLoad = round(server.rssBytes() / MB, 1);
    return run;
  } finally {
    await server.stop();
  }
}

/** Every store, every shard count, one server at a time (two at once would share the cores). */
export async function runShardBench(opts: ShardBenchOptions): Promise<ShardBenchReport> {
  const startedAt = new Date().toISOString();
  const runs: ShardRun[] = [];
  for (const store of opts.stores) for (const n of opts.shards) runs.push(await runShardCount(store, n, opts));
  const { log: _log, ...options } = opts;
  return { startedAt, options, runs };
}

export function formatShardTable(report: ShardBenchReport): string {
  // `other`: cores the rest of the machine kept busy in that window (a shared machine's other users).
  const header = ['store', 'shards', 'startup s', 'idle CPU ms/s: server', 'cassandra', 'other', 'RSS MB idle', 'after load', 'starts/s', 'p50 ms', 'p99 ms', 'CPU ms/start: server', 'cassandra', 'other'];
  const rows = report.runs.map((r) => {
    const idle = (party: string) => String(r.idle.msPerSecond[party] ?? '-');
    const l = r.load;
    const loaded = l ? [l.perSecond, l.latencyMs.p50, l.latencyMs.p99].map(String).concat(cpuMs(l, SERVER_PARTY), cpuMs(l, CASSANDRA_PARTY), String(otherCores(l.cpu) ?? '-')) : Array<string>(6).fill('-');
    return [r.store, String(r.numShards), String(r.startupSeconds), idle(SERVER_PARTY), idle(CASSANDRA_PARTY), String(otherCores(r.idle.cpu) ?? '-'), String(r.rssMb.idle), String(r.rssMb.afterLoad ?? '-'), ...loaded];
  });
  return alignTable(header, rows);
}

const usage = `usage: npx tsx bench/shards.ts [--store sqlite|cassandra|both] [--shards 16,256,1024] [--load-shards 16,256]
                               [--idle-seconds S] [--workflows N] [--warmup W] [--concurrency C] [--max-seconds S]
  --store         where each fresh server keeps its data (default both: SQLite, then the test Cassandra)
  --shards        shard counts, one fresh server each, in this order (default ${shardDefaults.shards.join(',')})
  --load-shards   the counts that also get the start load (default ${shardDefaults.loadShards.join(',')})
  --idle-seconds  the idle window (default ${shardDefaults.idleSeconds})
  --workflows     measured starts per loaded count (default ${shardDefaults.workflows})
  --warmup        unmeasured starts before them (default ${shardDefaults.warmup}, 0 for none)
  --concurrency   calls in flight at once (default ${shardDefaults.concurrency})
  --max-seconds   cap on each load loop (default ${shardDefaults.maxSeconds})`;

export function parseShardCommandLine(argv: string[]): Omit<ShardBenchOptions, 'log'> {
  const values = parseFlags(argv, ['store', 'shards', 'load-shards', 'idle-seconds', 'workflows', 'warmup', 'concurrency', 'max-seconds']);
  return {
    stores: storesFlag(values.store, 'both'),
    shards: positiveList('shards', values.shards, shardDefaults.shards),
    loadShards: positiveList('load-shards', values['load-shards'], shardDefaults.loadShards),
    idleSeconds: positiveNumber('idle-seconds', values['idle-seconds'], shardDefaults.idleSeconds, false),
    workflows: positiveNumber('workflows', values.workflows, shardDefaults.workflows, true),
    warmup: count('warmup', values.warmup, shardDefaults.warmup),
    concurrency: positiveNumber('concurrency', values.concurrency, shardDefaults.concurrency, true),
    maxSeconds: positiveNumber('max-seconds', values['max-seconds'], shardDefaults.maxSeconds, false),
  };
}

async function main(argv: string[]): Promise<void> {
  const report = await runShardBench({ ...parseShardCommandLine(argv), log: (msg) => console.error(`bench: ${msg}`) });
  console.error(`bench: wrote ${path.relative(process.cwd(), writeResultFile(report.startedAt, 'shards', report))}`);
  for (const r of report.runs.flatMap((run) => [run.warmup, run.load])) for (const e of r?.errorSamples ?? []) console.error(`bench: ${r!.store} error: ${e}`);
  console.log(formatShardTable(report));
}

runIfMain(import.meta.url, main, usage);
