// What sync replication costs a start: regions a and b in this process on SQLite
// (test-e2e/two-regions.ts, replicating over loopback gRPC, each history wired with
// replication/sync-acks.ts as a process main does), two global namespaces active in a, one async
// and one with data tandem.replication=sync. Rounds alternate async, sync, async, sync ...: N
// StartWorkflowExecution calls through a's frontend with the official client, C in flight, nobody
// polling the queue, so the latency is the start path alone (plus, in sync, the wait for b's ack).
// The server and the client share this process: CPU per start is the whole process's.
// `npx tsx bench/sync-replication.ts --help`; bench/README.md.
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { metricValue, startTwoRegions, type TwoRegions } from '../test-e2e/two-regions.js';
import { alignTable, parseFlags, positiveNumber, runIfMain, writeResultFile } from './cli.js';
import { BENCH_PARTY, msPer, otherCores, processProbe } from './cpu.js';
import { drive } from './drive.js';
import { machine } from './load.js';
import { summarize, type LatencySummary } from './percentiles.js';

export type Mode = 'async' | 'sync';

export interface SyncReplicationOptions {
  /** Starts per round. */
  workflows: number;
  concurrency: number;
  /** Pairs of rounds (async then sync), to see the spread between identical rounds. */
  rounds: number;
  /** Cap on each round. */
  maxSeconds: number;
}

export const syncReplicationDefaults = { workflows: 1000, concurrency: 20, rounds: 2, maxSeconds: 120 } as const;

export interface Round {
  mode: Mode;
  done: number;
  errors: number;
  unfinished: number;
  perSecond: number;
  latencyMs: LatencySummary;
  /** This process (both regions' servers and the client). */
  cpuMsPerStart: number;
  otherCores?: number;
  /** Sync starts answered UNAVAILABLE because b did not ack in time, during the round. */
  syncTimeouts: number;
  /** Writes of the round that waited for b's ack (a start is one write). */
  syncWaits: number;
  /** Mean wait for b's ack of the round's writes (tandem_replication_sync_wait_seconds), ms; 0 when none waited. */
  syncWaitMeanMs: number;
  errorSamples: string[];
}

export interface SyncReplicationResult {
  options: SyncReplicationOptions;
  rounds: Round[];
  startedAt: string;
  machine: ReturnType<typeof machine>;
}

export async function runSyncReplication(opts: SyncReplicationOptions): Promise<SyncReplicationResult> {
  const startedAt = new Date().toISOString();
  const host = machine();
  const tag = `bench-sync-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const regions = await startTwoRegions();
  let connection: Connection | undefined;
  try {
    const namespaces = { async: `${tag}-async`, sync: `${tag}-sync` };
    for (const mode of ['async', 'sync'] as const) await registerInBoth(regions, namespaces[mode], mode);
    connection = await Connection.connect({ address: regions.a.address });
    const probe = processProbe({});
    const rounds: Round[] = [];
    for (let k = 0; k < opts.rounds * 2; k++) {
      const mode: Mode = k % 2 === 0 ? 'async' : 'sync';
      const client = new Client({ connection, namespace: namespaces[mode] });
      const timeoutsBefore = await metricValue(regions.a, 'tandem_replication_sync_timeouts_total');
      const waitsBefore = await syncWaits(regions);
      const m = await drive(opts.workflows, opts.concurrency, opts.maxSeconds, probe, async (i, signal) => {
        await connection!.withAbortSignal(signal, () => client.workflow.start('oneActivity', { taskQueue: tag, workflowId: `${tag}-${k}-${i}`, args: [i] }));
      });
      const done = m.latencies.length;
      const waits = await syncWaits(regions);
      const waited = waits.count - waitsBefore.count;
      rounds.push({
        mode,
        done,
        errors: m.errors.length,
        unfinished: m.unfinished,
        perSecond: Math.round((done / m.cpu.wallSeconds) * 10) / 10,
        latencyMs: summarize(m.latencies),
        cpuMsPerStart: msPer(m.cpu, done)[BENCH_PARTY]!,
        otherCores: otherCores(m.cpu),
        syncTimeouts: (await metricValue(regions.a, 'tandem_replication_sync_timeouts_total')) - timeoutsBefore,
        syncWaits: waited,
        syncWaitMeanMs: waited > 0 ? Math.round(((waits.sum - waitsBefore.sum) / waited) * 10_000) / 10 : 0,
        errorSamples: [...new Set(m.errors)].slice(0, 5),
      });
      console.error(`bench: round ${k + 1}/${opts.rounds * 2} (${mode}): p50 ${rounds.at(-1)!.latencyMs.p50} ms, p99 ${rounds.at(-1)!.latencyMs.p99} ms`);
    }
    return { options: opts, rounds, startedAt, machine: host };
  } finally {
    await connection?.close();
    await regions.stop();
  }
}

/** a's sync waits so far: how many, and their total seconds. */
async function syncWaits(regions: TwoRegions): Promise<{ count: number; sum: number }> {
  const metric = regions.a.registry!.getSingleMetric('tandem_replication_sync_wait_seconds');
  const values = (metric ? (await metric.get()).values : []) as { metricName?: string; value: number }[];
  const of = (suffix: string) => values.find((v) => v.metricName === `tandem_replication_sync_wait_seconds_${suffix}`)?.value ?? 0;
  return { count: of('count'), sum: of('sum') };
}

/** A global namespace active in a with the given mode, once b has it too. */
async function registerInBoth(regions: TwoRegions, name: string, mode: Mode): Promise<void> {
  const rec = await regions.a.namespaces!.register({ name, isGlobal: true, regions: ['a', 'b'], activeRegion: 'a', data: { 'tandem.replication': mode } });
  for (let i = 0; !(await regions.b.store!.namespaces.getNamespaceById(rec.id)); i++) {
    if (i > 300) throw new Error(`namespace ${name} did not reach b`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function formatReport(r: SyncReplicationResult): string {
  return alignTable(
    ['mode', 'N', 'C', 'done', 'errors', 'per s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'process CPU ms/start', 'other cores', 'sync waits', 'mean wait ms', 'sync timeouts'],
    r.rounds.map((x) => [
      x.mode,
      ...[r.options.workflows, r.options.concurrency, x.done, x.errors, x.perSecond, x.latencyMs.p50, x.latencyMs.p90, x.latencyMs.p99, x.latencyMs.max, x.cpuMsPerStart, x.otherCores ?? '-', x.syncWaits, x.syncWaitMeanMs, x.syncTimeouts].map(String),
    ]),
  );
}

const usage = `usage: npx tsx bench/sync-replication.ts [--workflows N] [--concurrency C] [--rounds R] [--max-seconds S]
  --workflows    starts per round (default ${syncReplicationDefaults.workflows})
  --concurrency  starts in flight at once (default ${syncReplicationDefaults.concurrency})
  --rounds       pairs of rounds, async then sync (default ${syncReplicationDefaults.rounds})
  --max-seconds  cap on each round (default ${syncReplicationDefaults.maxSeconds})`;

export function parseCommandLine(argv: string[]): SyncReplicationOptions {
  const v = parseFlags(argv, ['workflows', 'concurrency', 'rounds', 'max-seconds']);
  return {
    workflows: positiveNumber('workflows', v.workflows, syncReplicationDefaults.workflows, true),
    concurrency: positiveNumber('concurrency', v.concurrency, syncReplicationDefaults.concurrency, true),
    rounds: positiveNumber('rounds', v.rounds, syncReplicationDefaults.rounds, true),
    maxSeconds: positiveNumber('max-seconds', v['max-seconds'], syncReplicationDefaults.maxSeconds, false),
  };
}

async function main(argv: string[]): Promise<void> {
  const opts = parseCommandLine(argv);
  console.error(`bench: sync replication: ${opts.rounds} x (async, sync) rounds of ${opts.workflows} starts at concurrency ${opts.concurrency}`);
  const r = await runSyncReplication(opts);
  console.error(`bench: wrote ${path.relative(process.cwd(), writeResultFile(r.startedAt, 'sync-replication', r))}`);
  for (const e of r.rounds.flatMap((x) => x.errorSamples)) console.error(`bench: error: ${e}`);
  console.log(formatReport(r));
}

runIfMain(import.meta.url, main, usage);
