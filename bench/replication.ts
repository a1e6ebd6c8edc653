// Replication under load, as `make dev` runs it: a fresh `tandem dev --regions 2` (regions a and b
// in one process on SQLite, replicating, the global endpoint in front), the official client and
// worker on the global endpoint only. Two phases:
//   lag       N one-activity workflows at concurrency C; for each, the time from its close event
//             being visible in a's own copy to the same event being visible in b's (the same long
//             poll on each region's frontend with xdc-redirection: false, both begun right after
//             the start), and a's replication lag gauges sampled every 100 ms;
//   failover  the same workflows, started until F graceful failovers a -> b -> a ... are done,
//             each timed from the UpdateNamespace request to the first start the new region
//             accepts (failover-timer.ts).
// Then every acknowledged start is checked in both regions' own copies: completed once, by the
// run its start returned, the same events at the same versions in a and b. Lost or duplicated
// workflows are reported, never expected. `npx tsx bench/replication.ts --help`; bench/README.md.
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { alignTable, count, parseFlags, positiveNumber, runIfMain, writeResultFile } from './cli.js';
import { msPer, otherCores, type CpuWindow } from './cpu.js';
import { DevServer, SERVER_PARTY } from './dev-server.js';
import { drive, type Measurement } from './drive.js';
import { timedFailover, type FailoverTiming } from './failover-timer.js';
import { LagGauge } from './lag-gauge.js';
import { machine } from './load.js';
import { summarize, type LatencySummary } from './percentiles.js';
import { RegionCopy } from './region-copy.js';
import { startWorker } from './worker.js';
import type { oneActivity } from './workflows.js';

export interface ReplicationOptions {
  /** Workflows of the lag phase. */
  workflows: number;
  concurrency: number;
  /** Graceful failovers, alternating a -> b -> a ...; 0 skips the failover phase. */
  failovers: number;
  /** Quiet load between two failovers, and before the first. */
  settleSeconds: number;
  /** Cap on each phase's load (and on the workflows the failover phase may start: 50 per second of it). */
  maxSeconds: number;
  /** Shards of each region; undefined keeps `tandem dev`'s. */
  numShards?: number;
}

export const replicationDefaults = { workflows: 500, concurrency: 20, failovers: 4, settleSeconds: 3, maxSeconds: 120 } as const;

const NAMESPACE = 'default';
const CLOSED_WITHIN_MS = 30_000;
const SAME_IN_BOTH_WITHIN_MS = 15_000;
/** temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED. */
const COMPLETED = 2;

export interface PhaseLoad {
  done: number;
  errors: number;
  unfinished: number;
  elapsedSeconds: number;
  perSecond: number;
  latencyMs: LatencySummary;
  cpu: CpuWindow;
  cpuMsPerWorkflow: Record<string, number>;
  otherCores?: number;
  errorSamples: string[];
}

export interface ReplicationResult {
  options: ReplicationOptions;
  /** Per workflow: close visible in b's copy minus close visible in a's, ms. */
  lagMs: LatencySummary & { n: number; min: number };
  /** a's gauges for the pair a -> b, sampled during the lag phase. */
  gauge: { samples: number; secondsMs: LatencySummary; tasks: LatencySummary };
  lagLoad: PhaseLoad;
  failovers: FailoverTiming[];
  failoverLoad?: PhaseLoad;
  check: {
    /** Acknowledged starts checked (both phases, failover probes included). */
    workflows: number;
    /** Not completed in the final active region within 30 s of the load's end. */
    lost: string[];
    /** Another run than the one the start returned, or more than one completion event. */
    duplicated: string[];
    /** b's copy and a's differ 15 s after the load's end. */
    diverged: string[];
    /** Activities that ran more than once (at-least-once: a retry after a failover is allowed). */
    activityReruns: number;
    finalActive: string;
  };
  startedAt: string;
  commit?: string;
  machine: ReturnType<typeof machine>;
}

function phaseLoad(m: Measurement): PhaseLoad {
  const done = m.latencies.length;
  return {
    done,
    errors: m.errors.length,
    unfinished: m.unfinished,
    elapsedSeconds: m.cpu.wallSeconds,
    perSecond: Math.round((done / m.cpu.wallSeconds) * 10) / 10,
    latencyMs: summarize(m.latencies),
    cpu: m.cpu,
    cpuMsPerWorkflow: msPer(m.cpu, done),
    otherCores: otherCores(m.cpu),
    errorSamples: [...new Set(m.errors)].slice(0, 5),
  };
}

/** Runs `f` over `items`, `concurrency` at a time. */
async function eachLimited<T>(items: T[], concurrency: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await f(items[next++]!);
  }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runReplication(opts: ReplicationOptions): Promise<ReplicationResult> {
  const startedAt = new Date().toISOString();
  const host = machine();
  const runTag = `bench-repl-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const server = await DevServer.start({ store: 'sqlite', regions: 2, numShards: opts.numShards });
  const [regionA, regionB] = server.regions as [typeof server.regions[0], typeof server.regions[0]];
  const connection = await Connection.connect({ address: server.address });
  const copies = new Map<string, RegionCopy>();
  try {
    for (const r of server.regions) copies.set(r.name, await RegionCopy.connect(r.name, r.address, NAMESPACE));
    const [a, b] = [copies.get(regionA.name)!, copies.get(regionB.name)!];
    const client = new Client({ connection, namespace: NAMESPACE });
    const taskQueue = runTag;
    // Activity runs per input: a workflow whose activity ran twice shows here (allowed, reported).
    const activityRuns = new Map<number, number>();
    const worker = await startWorker(server.address, NAMESPACE, taskQueue, {
      echo: async (n: number) => {
        activityRuns.set(n, (activityRuns.get(n) ?? 0) + 1);
        return n;
      },
    });
    /** Every start acknowledged, with the run it returned. */
    const acked = new Map<string, string>();
    /** Starts and awaits one workflow; with `lags`, also when its close became visible in a's and in b's own copy. */
    const runOne = async (workflowId: string, n: number, signal: AbortSignal, lags?: number[]) => {
      const handle = await connection.withAbortSignal(signal, () => client.workflow.start<typeof oneActivity>('oneActivity', { taskQueue, workflowId, args: [n] }));
      acked.set(workflowId, handle.firstExecutionRunId);
      // The same long poll on each region's frontend, so both sides are seen the same way.
      const closedAt = (copy: RegionCopy) => copy.closed(workflowId, signal).then(() => performance.now());
      const visible = lags ? Promise.all([closedAt(a), closedAt(b)]) : undefined;
      // Awaited only after the result; a failed result must not leave it unhandled.
      visible?.catch(() => undefined);
      const result = await connection.withAbortSignal(signal, () => handle.result());
      if (result !== n) throw new Error(`${workflowId} returned ${String(result)}`);
      if (visible) {
        const [inA, inB] = await visible;
        lags!.push(inB - inA);
      }
    };
    let finalActive = regionA.name;
    let failoverLoad: PhaseLoad | undefined;
    const failovers: FailoverTiming[] = [];
    try {
      // Phase 1: lag.
      const lags: number[] = [];
      const gauge = new LagGauge(regionA.metricsUrl, regionA.name, regionB.name).start();
      const lagPhase = await drive(opts.workflows, opts.concurrency, opts.maxSeconds, server.probe, (i, signal) => runOne(`${runTag}-lag-${i}`, i, signal, lags));
      const samples = gauge.stop();

      // Phase 2: failovers under load.
      if (opts.failovers > 0) {
        const stopLoad = new AbortController();
        const offset = opts.workflows;
        const loading = drive(Math.ceil(opts.maxSeconds * 50), opts.concurrency, opts.maxSeconds, server.probe, (i, signal) => runOne(`${runTag}-fo-${i}`, offset + i, signal), stopLoad.signal);
        try {
          await sleep(opts.settleSeconds * 1000);
          for (let k = 0; k < opts.failovers; k++) {
            const to = finalActive === regionA.name ? b : a;
            const probe = { workflowId: `${runTag}-probe-${k}`, taskQueue, n: -1 - k };
            const t = await timedFailover(connection, NAMESPACE, finalActive, to, probe, opts.maxSeconds * 1000);
            acked.set(t.probe.workflowId, t.probe.runId);
            failovers.push(t);
            finalActive = to.region;
            console.error(`bench: failover ${t.from} -> ${t.to}: answered in ${t.requestMs} ms, first start in ${t.to} after ${t.firstStartMs} ms (${t.refusedStarts} refused)`);
            await sleep(opts.settleSeconds * 1000);
          }
        } finally {
          stopLoad.abort();
          failoverLoad = phaseLoad(await loading);
        }
      }

      const check = await checkEveryWorkflow(acked, copies.get(finalActive)!, [...copies.values()].filter((c) => c.region !== finalActive), activityRuns);
      const sortedLags = [...lags].sort((x, y) => x - y);
      return {
        options: opts,
        lagMs: { ...summarize(lags), n: lags.length, min: Math.round((sortedLags[0] ?? NaN) * 10) / 10 },
        gauge: {
          samples: samples.length,
          secondsMs: summarize(samples.map((s) => s.maxSeconds * 1000)),
          tasks: summarize(samples.map((s) => s.tasks)),
        },
        lagLoad: phaseLoad(lagPhase),
        failovers,
        failoverLoad,
        check: { ...check, finalActive },
        startedAt,
        machine: host,
      };
    } finally {
      await worker.stop();
    }
  } finally {
    for (const c of copies.values()) await c.close();
    await connection.close();
    await server.stop();
  }
}

/** Every acknowledged workflow: completed once in the final active region by its own run, the same in every other region. */
async function checkEveryWorkflow(acked: Map<string, string>, active: RegionCopy, others: RegionCopy[], activityRuns: Map<number, number>) {
  const lost: string[] = [];
  const duplicated: string[] = [];
  const diverged: string[] = [];
  await eachLimited([...acked], 10, async ([workflowId, runId]) => {
    try {
      const closedAs = await active.closed(workflowId, AbortSignal.timeout(CLOSED_WITHIN_MS));
      if (closedAs !== COMPLETED) return void lost.push(`${workflowId}: closed as ${String(closedAs)}`);
    } catch (err) {
      return void lost.push(`${workflowId}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const here = await active.history(workflowId);
    const completions = here.events.filter((e) => e.endsWith(`:${COMPLETED}`)).length;
    if (here.runId !== runId || completions !== 1) duplicated.push(`${workflowId}: run ${here.runId} (started ${runId}), ${completions} completions`);
    for (const other of others) {
      const deadline = Date.now() + SAME_IN_BOTH_WITHIN_MS;
      for (;;) {
        const there = await other.history(workflowId).catch(() => undefined);
        if (there && there.runId === here.runId && JSON.stringify(there.events) === JSON.stringify(here.events)) break;
        if (Date.now() > deadline) {
          diverged.push(`${workflowId}: ${other.region} has ${there ? `${there.events.length} events` : 'no copy'}, ${active.region} ${here.events.length}`);
          break;
        }
        await sleep(200);
      }
    }
  });
  return { workflows: acked.size, lost, duplicated, diverged, activityReruns: [...activityRuns.values()].filter((c) => c > 1).length };
}

export function formatReport(r: ReplicationResult): string {
  const ms = (x: number) => String(x);
  const lag = alignTable(
    ['N', 'C', 'done', 'errors', 'per s', 'server CPU ms/wf', 'other cores', 'lag p50 ms', 'p90', 'p99', 'max', 'min', 'gauge s p50 ms', 'p99', 'tasks p50', 'p99'],
    [[
      ...[r.options.workflows, r.options.concurrency, r.lagLoad.done, r.lagLoad.errors, r.lagLoad.perSecond, r.lagLoad.cpuMsPerWorkflow[SERVER_PARTY] ?? '-', r.lagLoad.otherCores ?? '-'].map(String),
      ...[r.lagMs.p50, r.lagMs.p90, r.lagMs.p99, r.lagMs.max, r.lagMs.min, r.gauge.secondsMs.p50, r.gauge.secondsMs.p99, r.gauge.tasks.p50, r.gauge.tasks.p99].map(ms),
    ]],
  );
  const fo = alignTable(
    ['failover', 'answered ms', 'first start ms', 'refused starts'],
    r.failovers.map((f) => [`${f.from} -> ${f.to}`, ms(f.requestMs), ms(f.firstStartMs), String(f.refusedStarts)]),
  );
  const l = r.failoverLoad;
  const c = r.check;
  return [
    lag,
    '',
    fo,
    l ? `load during failovers: ${l.done} completed, ${l.errors} errors, ${l.perSecond}/s, p99 ${l.latencyMs.p99} ms` : '',
    `checked ${c.workflows} acknowledged workflows in ${c.finalActive} and the other region: lost ${c.lost.length}, duplicated ${c.duplicated.length}, diverged ${c.diverged.length}, activities run twice ${c.activityReruns}`,
  ].join('\n');
}

const usage = `usage: npx tsx bench/replication.ts [--workflows N] [--concurrency C] [--failovers F] [--settle-seconds S] [--max-seconds S] [--shards N]
  --workflows       one-activity workflows of the lag phase (default ${replicationDefaults.workflows})
  --concurrency     workflows in flight at once, in both phases (default ${replicationDefaults.concurrency})
  --failovers       graceful failovers under load, a -> b -> a ... (default ${replicationDefaults.failovers}; 0 skips the phase)
  --settle-seconds  load without a failover before the first one and after each (default ${replicationDefaults.settleSeconds})
  --max-seconds     cap on each phase's load (default ${replicationDefaults.maxSeconds})
  --shards          shards per region (default: tandem dev's)`;

export function parseCommandLine(argv: string[]): ReplicationOptions {
  const v = parseFlags(argv, ['workflows', 'concurrency', 'failovers', 'settle-seconds', 'max-seconds', 'shards']);
  return {
    workflows: positiveNumber('workflows', v.workflows, replicationDefaults.workflows, true),
    concurrency: positiveNumber('concurrency', v.concurrency, replicationDefaults.concurrency, true),
    failovers: count('failovers', v.failovers, replicationDefaults.failovers),
    settleSeconds: positiveNumber('settle-seconds', v['settle-seconds'], replicationDefaults.settleSeconds, false),
    maxSeconds: positiveNumber('max-seconds', v['max-seconds'], replicationDefaults.maxSeconds, false),
    numShards: v.shards === undefined ? undefined : positiveNumber('shards', v.shards, 0, true),
  };
}

async function main(argv: string[]): Promise<void> {
  const opts = parseCommandLine(argv);
  console.error(`bench: replication: ${opts.workflows} workflows at concurrency ${opts.concurrency}, then ${opts.failovers} failovers under load`);
  const r = await runReplication(opts);
  console.error(`bench: wrote ${path.relative(process.cwd(), writeResultFile(r.startedAt, 'replication', r))}`);
  for (const e of [...r.lagLoad.errorSamples, ...(r.failoverLoad?.errorSamples ?? [])]) console.error(`bench: error: ${e}`);
  for (const w of [...r.check.lost, ...r.check.duplicated, ...r.check.diverged].slice(0, 10)) console.error(`bench: check: ${w}`);
  console.log(formatReport(r));
}

runIfMain(import.meta.url, main, usage);
