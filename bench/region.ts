// One history node vs three: the load of bench/load.ts against a region of separate OS processes
// started the way `tandem up` starts them (frontend, one matching node, N history nodes) on the test
// Cassandra and the test Redis, one fresh region per topology. `npx tsx bench/region.ts --help`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropTestKeyspace, ensureTestCassandra } from '../deploy/cassandra/test-instance.js';
import { ensureTestRedis } from '../deploy/redis/test-instance.js';
import { LocalCluster } from '../deploy/processes/local-cluster.js';
import { loadTopology, type Service } from '../deploy/topology.js';
import { balancedRegionName, regionTopology } from '../test-e2e/region-fixture.js';
import { BENCH_PARTY, cores, measureCpu, otherCores, processProbe, round, type CpuProbe } from './cpu.js';
import { CASSANDRA_PARTY } from './dev-server.js';
import { alignTable, count, parseFlags, positiveList, positiveNumber, runIfMain, UsageError, writeResultFile } from './cli.js';
import { cpuMs, loadDefaults, runLoad, type LoadResult, type Mode } from './load.js';
import { localListenerPid } from './procfs.js';
import { shardsSettled } from './shards-owned.js';

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

/** The shard count `tandem up` runs (deploy/local/one-region.json): the bench measures what production runs. */
const productionShards = loadTopology(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'deploy', 'local', 'one-region.json')).cluster.numShards;

export const regionDefaults = {
  nodes: [1, 3],
  workflows: { start: 2000, complete: 400 },
  concurrency: loadDefaults.concurrency,
  maxSeconds: 60,
  warmup: 100,
  numShards: productionShards,
} as const;

const MODES: Mode[] = ['start', 'complete'];
/** Longest wait, after every process is ready, for the shards to settle on their rendezvous owners. */
const SETTLE_MS = 60_000;
/** Quiet interval, before any load, over which a region's idle CPU is measured (one queue poll interval and more). */
const IDLE_MS = 10_000;
/** A region's processes by role; with Cassandra, Redis, `bench` and `machine`, the parties of its CPU probe. */
export const ROLES: Service[] = ['frontend', 'matching', 'history'];
const REDIS_PARTY = 'redis';

export interface Phase {
  historyNodes: number;
  /** result.cpu has a party per role, plus cassandra and redis when they run on this machine. */
  result: LoadResult;
}

export interface TopologyRun {
  historyNodes: number;
  region: string;
  keyspace: string;
  /** Shards each history node owned when the load began (its rendezvous share). */
  shardsOwned: Record<string, number>;
  /** From spawning the first process to every shard owned by its settled owner. */
  startupSeconds: number;
  /** Cores each party kept busy with no load at all: heartbeats, membership, shard task polling. */
  idleCores: Record<string, number>;
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

/**
 * The CPU of every process of the region, per role, and of its Cassandra and Redis when they run
 * here; `listeners` adds more parties by the host:port they listen on (e.g. an OpenSearch).
 */
export function regionProbe(cluster: LocalCluster, cassandraContactPoint: string, redis: string, listeners: Record<string, string> = {}): CpuProbe {
  const groups: Record<string, number[]> = Object.fromEntries(ROLES.map((role) => [role, cluster.nodes.filter((n) => n.options.service === role).map((n) => n.pid!)]));
  for (const [party, address] of [[CASSANDRA_PARTY, cassandraContactPoint], [REDIS_PARTY, redis], ...Object.entries(listeners)] as const) {
    const pid = localListenerPid(address);
    if (pid !== null) groups[party] = [pid];
  }
  return processProbe(groups);
}

/** Starts one region of `historyNodes` history nodes, runs the modes against it, stops it. */
export async function runTopology(historyNodes: number, opts: RegionBenchOptions): Promise<TopologyRun> {
  const cassandra = await ensureTestCassandra();
  const redis = await ensureTestRedis();
  // Within 10 % of an even split (5/5/6 of 16; at least 77 each of 256): exact evenness is rare with many shards.
  const fair = Math.floor(opts.numShards / historyNodes);
  const { region, expected } = balancedRegionName('b', historyNodes, opts.numShards, fair - Math.floor(fair / 10));
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
    const shardsOwned = await shardsSettled(new Map([...expected].map(([id, shards]) => [id, { metricsUrl: cluster.node(id).metricsUrl, shards }])), SETTLE_MS);
    const startupSeconds = round((performance.now() - t0) / 1000);
    opts.log(`${historyNodes} history node(s): ready in ${startupSeconds} s, shards ${Object.values(shardsOwned).join('/')}`);
    const probe = regionProbe(cluster, cassandra.contactPoint, redis);
    const idle = await measureCpu(probe, () => new Promise((r) => setTimeout(r, IDLE_MS)));
    const idleCores = cores(idle.cpu);
    opts.log(`${historyNodes} history node(s): idle cores ${JSON.stringify(idleCores)}`);
    const address = `127.0.0.1:${topology.regions[0]!.frontend.port}`;
    const base = { ...loadDefaults, store: 'cassandra' as const, address, probe, concurrency: opts.concurrency, maxSeconds: opts.maxSeconds };
    const modes = MODES.filter((m) => opts.workflows[m] > 0);
    const warmup: LoadResult[] = [];
    for (const mode of opts.warmup > 0 ? modes : []) {
      opts.log(`${historyNodes} history node(s): warm-up ${mode} x${opts.warmup}`);
      warmup.push(await runLoad({ ...base, mode, workflows: opts.warmup }));
    }
    const phases: Phase[] = [];
    for (const mode of modes) {
      opts.log(`${historyNodes} history node(s): ${mode} x${opts.workflows[mode]} at concurrency ${opts.concurrency}`);
      phases.push({ historyNodes, result: await runLoad({ ...base, mode, workflows: opts.workflows[mode] }) });
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

/** The region's own processes together (every role), per done workflow and in cores. */
function tandemTotal(r: LoadResult): { msPerWorkflow: number; cores: number } {
  const seconds = ROLES.reduce((sum, role) => sum + (r.cpu.seconds[role] ?? 0), 0);
  return { msPerWorkflow: round((seconds * 1000) / r.completed), cores: round(seconds / r.cpu.wallSeconds) };
}

export function formatRegionTable(report: RegionBenchReport): string {
  // CPU ms per workflow (started in start mode, completed in complete mode): the region's processes
  // together and per role, and Cassandra. Then cores kept busy: tandem, Cassandra, this process
  // (client, worker), and what the machine spent besides every party read (Redis is one: JSON only).
  const header = ['nodes', 'mode', 'N', 'C', 'done', 'errors', 'partial', 'per s', 'p50 ms', 'p99 ms', 'CPU ms/wf: tandem', ...ROLES, 'cassandra', 'cores: tandem', 'cassandra', 'bench', 'other'];
  const rows = report.runs
    .flatMap((run) => run.phases)
    .map(({ historyNodes, result: r }) => {
      const busy = cores(r.cpu);
      const tandem = tandemTotal(r);
      return [
        ...[historyNodes, r.mode, r.workflows, r.concurrency, r.completed, r.errors, r.partial ? 'yes' : 'no', r.perSecond, r.latencyMs.p50, r.latencyMs.p99, tandem.msPerWorkflow].map(String),
        ...[...ROLES, CASSANDRA_PARTY].map((party) => cpuMs(r, party)),
        String(tandem.cores),
        String(busy[CASSANDRA_PARTY] === undefined ? '-' : round(busy[CASSANDRA_PARTY])),
        String(round(busy[BENCH_PARTY]!)),
        String(otherCores(r.cpu) ?? '-'),
      ];
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
                               [--max-seconds S] [--warmup W] [--nodes 1,3] [--shards N]
  --workflows           measured workflows of each mode (default start ${regionDefaults.workflows.start}, complete ${regionDefaults.workflows.complete})
  --start-workflows     measured workflows of start mode only (0 skips it)
  --complete-workflows  measured workflows of complete mode only (0 skips it)
  --concurrency         calls in flight at once (default ${regionDefaults.concurrency})
  --max-seconds         cap on each measured phase (default ${regionDefaults.maxSeconds})
  --warmup              unmeasured workflows per mode before measuring, on each region (default ${regionDefaults.warmup}, 0 for none)
  --nodes               history node counts, one fresh region each, in this order (default ${regionDefaults.nodes.join(',')})
  --shards              the region's numShards (default ${regionDefaults.numShards}, as deploy/local/one-region.json)`;

export function parseRegionCommandLine(argv: string[]): Omit<RegionBenchOptions, 'log'> {
  const values = parseFlags(argv, ['workflows', 'start-workflows', 'complete-workflows', 'concurrency', 'max-seconds', 'warmup', 'nodes', 'shards']);
  const both = values.workflows === undefined ? undefined : positiveNumber('workflows', values.workflows, 0, true);
  const workflows = {
    start: count('start-workflows', values['start-workflows'], both ?? regionDefaults.workflows.start),
    complete: count('complete-workflows', values['complete-workflows'], both ?? regionDefaults.workflows.complete),
  };
  if (workflows.start + workflows.complete === 0) throw new UsageError('nothing to measure: both modes have 0 workflows');
  return {
    nodes: positiveList('nodes', values.nodes, regionDefaults.nodes),
    workflows,
    concurrency: positiveNumber('concurrency', values.concurrency, regionDefaults.concurrency, true),
    maxSeconds: positiveNumber('max-seconds', values['max-seconds'], regionDefaults.maxSeconds, false),
    warmup: count('warmup', values.warmup, regionDefaults.warmup),
    numShards: positiveNumber('shards', values.shards, regionDefaults.numShards, true),
  };
}

async function main(argv: string[]): Promise<void> {
  const opts = parseRegionCommandLine(argv);
  const report = await runRegionBench({ ...opts, log: (msg) => console.error(`bench: ${msg}`) });
  console.error(`bench: wrote ${path.relative(process.cwd(), writeResultFile(report.startedAt, 'region', report))}`);
  for (const r of report.runs.flatMap((run) => [...run.warmup, ...run.phases.map((p) => p.result)])) {
    for (const e of r.errorSamples) console.error(`bench: ${r.mode} error: ${e}`);
  }
  console.log(formatRegionTable(report));
}

runIfMain(import.meta.url, main, usage);
