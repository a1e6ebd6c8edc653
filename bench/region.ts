// One history node vs three: the load of bench/load.ts against a region of separate OS processes
// started the way `tandem up` starts them (frontend, one matching node, N history nodes) on the test
// Cassandra and the test Redis, one fresh region per topology. `npx tsx bench/region.ts --help`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { dropTestKeyspace, ensureTestCassandra } from '../deploy/cassandra/test-instance.js';
import { ensureTestRedis } from '../deploy/redis/test-instance.js';
import { LocalCluster } from '../deploy/processes/local-cluster.js';
import { scrape } from '../deploy/processes/node-process.js';
import { parsePrometheusText, sumSamples } from '../deploy/processes/prom-text.js';
import type { Service } from '../deploy/topology.js';
import { balancedRegionName, regionTopology } from '../test-e2e/region-fixture.js';
import { alignTable, loadDefaults, positiveNumber, runIfMain, runLoad, UsageError, writeResultFile, type LoadResult, type Mode } from './load.js';

export interface RegionBenchOptions {
  /** History node counts, one region each, run in this order (e.g. [1, 3], or [1, 3, 3, 1] to cancel order effects). */
  nodes: number[];
  /** Measured workflows per mode; a mode with 0 is skipped. */
  workflows: Record<Mode, number>;
  concurrency: number;
  /** Cap on each measured phase. */
  maxSeconds: number;
  /** Unmeasured workflows per mode before the measured ones: JIT, prepared statements, connections. */
  warmup: number;
  numShards: number;
  log: (msg: string) => void;
}

export const regionDefaults = {
  nodes: [1, 3],
  workflows: { start: 2000, complete: 400 },
  concurrency: loadDefaults.concurrency,
  maxSeconds: 60,
  warmup: 100,
  numShards: 16,
} as const;

const MODES: Mode[] = ['start', 'complete'];
/** Longest wait, after every process is ready, for the shards to settle on their rendezvous owners. */
const SETTLE_MS = 60_000;
/** Quiet interval, before any load, over which a region's idle CPU is measured. */
const IDLE_MS = 5_000;

export interface PhaseCpu {
  /** CPU seconds of the tandem processes, per service, over the phase (connect and worker shutdown included). */
  tandemSeconds: Record<Service, number>;
  /** CPU seconds of this process: the SDK client and, in complete mode, the worker. */
  benchSeconds: number;
  /** Busy cores of the whole machine over the phase (Cassandra, Redis and other users included); null off Linux. */
  machineBusyCores: number | null;
  wallSeconds: number;
}

export interface Phase {
  historyNodes: number;
  result: LoadResult;
  cpu: PhaseCpu;
}

export interface TopologyRun {
  historyNodes: number;
  region: string;
  keyspace: string;
  /** Shards each history node owned when the load began (its rendezvous share). */
  shardsOwned: Record<string, number>;
  /** From spawning the first process to every shard owned by its settled owner. */
  startupSeconds: number;
  /** Cores the region's processes kept busy with no load at all: heartbeats, shard task polling. */
  idleCores: Record<Service, number>;
  warmup: LoadResult[];
  phases: Phase[];
}

export interface Ratio {
  mode: Mode;
  /** Node counts compared: the most history nodes over the fewest. */
  over: [number, number];
  /** Mean workflows/s at each of the two node counts, and their quotient. */
  perSecond: [number, number];
  ratio: number;
}

export interface RegionBenchReport {
  startedAt: string;
  options: Omit<RegionBenchOptions, 'log'>;
  runs: TopologyRun[];
  ratios: Ratio[];
}

async function metricsOf(cluster: LocalCluster, id: string) {
  const text = await scrape(cluster.node(id).metricsUrl);
  return text === null ? null : parsePrometheusText(text);
}

/** Waits until every history node owns exactly its rendezvous share (so no shard moves under load). */
async function settled(cluster: LocalCluster, expected: Map<string, number>): Promise<Record<string, number>> {
  const deadline = Date.now() + SETTLE_MS;
  let owned: Record<string, number> = {};
  for (;;) {
    owned = {};
    for (const id of expected.keys()) {
      const m = await metricsOf(cluster, id);
      if (m) owned[id] = sumSamples(m, 'tandem_history_shards_owned');
    }
    if ([...expected].every(([id, n]) => owned[id] === n)) return owned;
    if (Date.now() > deadline) throw new Error(`shards not settled within ${SETTLE_MS} ms: owned ${JSON.stringify(owned)}, expected ${JSON.stringify(Object.fromEntries(expected))}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Busy and total jiffies of all CPUs since boot, from /proc/stat; null where there is none. */
function machineJiffies(): { busy: number; total: number } | null {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    // idle and iowait are the 4th and 5th fields.
    return { busy: total - fields[3]! - fields[4]!, total };
  } catch {
    return null;
  }
}

async function tandemCpu(cluster: LocalCluster): Promise<Record<Service, number>> {
  const cpu: Record<Service, number> = { frontend: 0, matching: 0, history: 0 };
  for (const p of cluster.nodes) {
    const m = await metricsOf(cluster, p.id);
    if (m) cpu[p.options.service] += sumSamples(m, 'tandem_process_process_cpu_seconds_total');
  }
  return cpu;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

function mapValues<K extends string>(o: Record<K, number>, f: (v: number) => number): Record<K, number> {
  return Object.fromEntries(Object.entries<number>(o).map(([k, v]) => [k, f(v)])) as Record<K, number>;
}

/** `work` (a runLoad, or an idle wait) with the CPU that every party spent around it. */
async function measuredPhase<T>(cluster: LocalCluster, historyNodes: number, work: () => Promise<T>): Promise<{ historyNodes: number; result: T; cpu: PhaseCpu }> {
  const tandem0 = await tandemCpu(cluster);
  const bench0 = process.cpuUsage();
  const machine0 = machineJiffies();
  const t0 = performance.now();
  const result = await work();
  const wallSeconds = (performance.now() - t0) / 1000;
  const machine1 = machineJiffies();
  const bench1 = process.cpuUsage(bench0);
  const tandem1 = await tandemCpu(cluster);
  const cores = os.cpus().length;
  return {
    historyNodes,
    result,
    cpu: {
      tandemSeconds: { frontend: round(tandem1.frontend - tandem0.frontend), matching: round(tandem1.matching - tandem0.matching), history: round(tandem1.history - tandem0.history) },
      benchSeconds: round((bench1.user + bench1.system) / 1e6),
      machineBusyCores: machine0 && machine1 ? round(((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * cores) : null,
      wallSeconds: round(wallSeconds),
    },
  };
}

/** Starts one region of `historyNodes` history nodes, runs the modes against it, stops it. */
export async function runTopology(historyNodes: number, opts: RegionBenchOptions): Promise<TopologyRun> {
  const cassandra = await ensureTestCassandra();
  const redis = await ensureTestRedis();
  const { region, expected } = balancedRegionName('b', historyNodes, opts.numShards, Math.floor(opts.numShards / historyNodes));
  const topology = await regionTopology({ region, historyNodes, numShards: opts.numShards, cassandra, redis });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-region-'));
  const topologyFile = path.join(dir, 'topology.json');
  fs.writeFileSync(topologyFile, JSON.stringify(topology, null, 2));
  const logFile = path.join(dir, 'nodes.log');
  const write = (line: string) => fs.appendFileSync(logFile, `${line}\n`);
  // warn: info lines per shard and per poll would be CPU taken from the measured processes.
  const cluster = new LocalCluster({ topologyFile, topology, logLevel: 'warn', log: (msg) => write(`[up] ${msg}`), onLine: (id, line) => write(`[${id}] ${line}`) });
  let clean = false;
  try {
    opts.log(`${historyNodes} history node(s): starting region ${region} (keyspace ${cassandra.keyspace})`);
    const t0 = performance.now();
    await cluster.start();
    const shardsOwned = await settled(cluster, expected);
    const startupSeconds = round((performance.now() - t0) / 1000);
    opts.log(`${historyNodes} history node(s): ready in ${startupSeconds} s, shards ${Object.values(shardsOwned).join('/')}`);
    const idle = await measuredPhase(cluster, historyNodes, () => new Promise((r) => setTimeout(r, IDLE_MS)));
    const idleCores = mapValues(idle.cpu.tandemSeconds, (s) => round(s / idle.cpu.wallSeconds));
    opts.log(`${historyNodes} history node(s): idle cores ${JSON.stringify(idleCores)}`);
    const address = `127.0.0.1:${topology.regions[0]!.frontend.port}`;
    const base = { ...loadDefaults, store: 'cassandra' as const, address, concurrency: opts.concurrency, maxSeconds: opts.maxSeconds };
    const modes = MODES.filter((m) => opts.workflows[m] > 0);
    const warmup: LoadResult[] = [];
    for (const mode of opts.warmup > 0 ? modes : []) {
      opts.log(`${historyNodes} history node(s): warm-up ${mode} x${opts.warmup}`);
      warmup.push(await runLoad({ ...base, mode, workflows: opts.warmup }));
    }
    const phases: Phase[] = [];
    for (const mode of modes) {
      opts.log(`${historyNodes} history node(s): ${mode} x${opts.workflows[mode]} at concurrency ${opts.concurrency}`);
      phases.push(await measuredPhase(cluster, historyNodes, () => runLoad({ ...base, mode, workflows: opts.workflows[mode] })));
    }
    clean = [...warmup, ...phases.map((p) => p.result)].every((r) => r.errors === 0);
    return { historyNodes, region, keyspace: cassandra.keyspace, shardsOwned, startupSeconds, idleCores, warmup, phases };
  } finally {
    await cluster.stop();
    await dropTestKeyspace(cassandra);
    if (clean) fs.rmSync(dir, { recursive: true, force: true });
    else opts.log(`${historyNodes} history node(s): node output kept in ${logFile}`);
  }
}

/** Mean throughput of the most history nodes over that of the fewest, per mode. */
export function ratios(runs: TopologyRun[]): Ratio[] {
  const counts = [...new Set(runs.map((r) => r.historyNodes))].sort((a, b) => a - b);
  if (counts.length < 2) return [];
  const lo = counts[0]!;
  const hi = counts.at(-1)!;
  const mean = (nodes: number, mode: Mode) => {
    const xs = runs.filter((r) => r.historyNodes === nodes).flatMap((r) => r.phases.filter((p) => p.result.mode === mode).map((p) => p.result.perSecond));
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  };
  return MODES.map((mode) => ({ mode, over: [hi, lo] as [number, number], perSecond: [round(mean(hi, mode), 1), round(mean(lo, mode), 1)] as [number, number] }))
    .filter((r) => r.perSecond.every(Number.isFinite))
    .map((r) => ({ ...r, ratio: round(r.perSecond[0] / r.perSecond[1]) }));
}

export function formatRegionTable(report: RegionBenchReport): string {
  // Cores each party kept busy: tandem's processes, this process (client, worker), the rest (Cassandra, Redis, others).
  const header = ['nodes', 'mode', 'N', 'C', 'done', 'errors', 'partial', 'per s', 'p50 ms', 'p99 ms', 'cores: tandem', 'bench', 'rest'];
  const rows = report.runs
    .flatMap((run) => run.phases)
    .map(({ historyNodes, result: r, cpu }) => {
      const tandem = Object.values(cpu.tandemSeconds).reduce((a, b) => a + b, 0) / cpu.wallSeconds;
      const bench = cpu.benchSeconds / cpu.wallSeconds;
      const rest = cpu.machineBusyCores === null ? '-' : round(cpu.machineBusyCores - tandem - bench);
      return [historyNodes, r.mode, r.workflows, r.concurrency, r.completed, r.errors, r.partial ? 'yes' : 'no', r.perSecond, r.latencyMs.p50, r.latencyMs.p99, round(tandem), round(bench), rest].map(String);
    });
  const parts = [alignTable(header, rows)];
  const first = report.ratios[0];
  if (first) {
    const [hi, lo] = first.over;
    const ratioRows = report.ratios.map((r) => [r.mode, String(r.perSecond[0]), String(r.perSecond[1]), String(r.ratio)]);
    parts.push(alignTable(['mode', `per s @${hi}`, `per s @${lo}`, `ratio ${hi}/${lo}`], ratioRows));
  }
  return parts.join('\n\n');
}

/** Every topology in order, one after the other (two regions at once would share the cores). */
export async function runRegionBench(opts: RegionBenchOptions): Promise<RegionBenchReport> {
  const startedAt = new Date().toISOString();
  const runs: TopologyRun[] = [];
  for (const n of opts.nodes) runs.push(await runTopology(n, opts));
  const { log: _log, ...options } = opts;
  return { startedAt, options, runs, ratios: ratios(runs) };
}

const usage = `usage: npx tsx bench/region.ts [--workflows N] [--start-workflows N] [--complete-workflows N] [--concurrency C]
                               [--max-seconds S] [--warmup W] [--nodes 1,3]
  --workflows           measured workflows of each mode (default start ${regionDefaults.workflows.start}, complete ${regionDefaults.workflows.complete})
  --start-workflows     measured workflows of start mode only (0 skips it)
  --complete-workflows  measured workflows of complete mode only (0 skips it)
  --concurrency         calls in flight at once (default ${regionDefaults.concurrency})
  --max-seconds         cap on each measured phase (default ${regionDefaults.maxSeconds})
  --warmup              unmeasured workflows per mode before measuring, on each region (default ${regionDefaults.warmup}, 0 for none)
  --nodes               history node counts, one fresh region each, in this order (default ${regionDefaults.nodes.join(',')})`;

function count(name: string, v: string | undefined, fallback: number): number {
  return v === '0' ? 0 : positiveNumber(name, v, fallback, true);
}

export function parseRegionCommandLine(argv: string[]): Omit<RegionBenchOptions, 'log'> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        workflows: { type: 'string' },
        'start-workflows': { type: 'string' },
        'complete-workflows': { type: 'string' },
        concurrency: { type: 'string' },
        'max-seconds': { type: 'string' },
        warmup: { type: 'string' },
        nodes: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  const both = values.workflows === undefined ? undefined : positiveNumber('workflows', values.workflows, 0, true);
  const nodes = (values.nodes ?? regionDefaults.nodes.join(',')).split(',').map((n) => positiveNumber('nodes', n, 0, true));
  const workflows = {
    start: count('start-workflows', values['start-workflows'], both ?? regionDefaults.workflows.start),
    complete: count('complete-workflows', values['complete-workflows'], both ?? regionDefaults.workflows.complete),
  };
  if (workflows.start + workflows.complete === 0) throw new UsageError('nothing to measure: both modes have 0 workflows');
  return {
    nodes,
    workflows,
    concurrency: positiveNumber('concurrency', values.concurrency, regionDefaults.concurrency, true),
    maxSeconds: positiveNumber('max-seconds', values['max-seconds'], regionDefaults.maxSeconds, false),
    warmup: count('warmup', values.warmup, regionDefaults.warmup),
    numShards: regionDefaults.numShards,
  };
}

async function main(argv: string[]): Promise<void> {
  const opts = parseRegionCommandLine(argv);
  // The worker's state changes are INFO lines; they would bury the report.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const report = await runRegionBench({ ...opts, log: (msg) => console.error(`bench: ${msg}`) });
  console.error(`bench: wrote ${path.relative(process.cwd(), writeResultFile(report.startedAt, 'region', report))}`);
  for (const r of report.runs.flatMap((run) => [...run.warmup, ...run.phases.map((p) => p.result)])) {
    for (const e of r.errorSamples) console.error(`bench: ${r.mode} error: ${e}`);
  }
  console.log(formatRegionTable(report));
}

runIfMain(import.meta.url, main, usage);
