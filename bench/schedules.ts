// How many schedules one history node fires on time: N schedules on a fresh single-process server
// (one history node), each an interval of `every` seconds with its phase spread (in whole seconds) so the firings are
// even over the interval, then a measured window. Lateness of a firing is the time it was taken
// minus the time it was due (DescribeSchedule's recent actions: takenAt - scheduledAt); a due time
// in the window without an action is missed. The actions start workflows no worker polls, so the
// figure is the scheduler's alone; ALLOW_ALL overlap keeps those open runs from skipping firings.
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import type { StoreKind } from '../test-e2e/harness.js';
import { alignTable, parseFlags, positiveList, positiveNumber, runIfMain, storesFlag, writeResultFile } from './cli.js';
import { cores, measureCpu, otherCores, round, type CpuWindow } from './cpu.js';
import { CASSANDRA_PARTY, DevServer, SERVER_PARTY } from './dev-server.js';
import { drive } from './drive.js';
import { machine } from './load.js';
import { summarize, type LatencySummary } from './percentiles.js';

export interface ScheduleBenchOptions {
  stores: StoreKind[];
  /** Schedule counts, a fresh server each. */
  schedules: number[];
  everySeconds: number;
  /** The measured window; firings due in it are counted. */
  windowSeconds: number;
  /** Calls in flight while creating and describing the schedules. */
  concurrency: number;
  log: (msg: string) => void;
}

export const scheduleDefaults: Omit<ScheduleBenchOptions, 'log'> = {
  stores: ['sqlite'],
  schedules: [1000, 3000],
  everySeconds: 30,
  windowSeconds: 120,
  concurrency: 32,
};

export interface ScheduleRun {
  store: StoreKind;
  schedules: number;
  /** Due firings per second across all schedules. */
  duePerSecond: number;
  createSeconds: number;
  due: number;
  fired: number;
  missed: number;
  latenessMs: LatencySummary;
  cpu: CpuWindow;
  /** Cores each party kept busy in the window. */
  cores: Record<string, number>;
  loadAverage1m: number;
}

export interface ScheduleBenchReport {
  startedAt: string;
  options: Omit<ScheduleBenchOptions, 'log'>;
  runs: ScheduleRun[];
}

/** DescribeSchedule keeps the last 10 actions: the window must fit in them, or firings would look missed. */
const RECENT_ACTIONS = 10;
const NAMESPACE = 'default';

export async function runScheduleCount(store: StoreKind, n: number, opts: ScheduleBenchOptions): Promise<ScheduleRun> {
  const loadAverage1m = machine().loadAverage1m;
  const server = await DevServer.start({ store });
  const connection = await Connection.connect({ address: server.address });
  try {
    const client = new Client({ connection, namespace: NAMESPACE });
    const everyMs = opts.everySeconds * 1000;
    // Whole seconds: interval specs are evaluated in seconds (the reference's too), so a phase of
    // 30 ms would fire on the second and never match the due time computed here.
    const phaseMs = (i: number) => Math.floor((i * opts.everySeconds) / n) * 1000;
    const ids = Array.from({ length: n }, (_, i) => `bench-${i}-${randomUUID().slice(0, 8)}`);
    const taskQueue = `bench-schedules-${randomUUID().slice(0, 8)}`;
    opts.log(`${store} ${n} schedules: creating, every ${opts.everySeconds} s, phases spread over it`);
    const created = await drive(n, opts.concurrency, 600, server.probe, async (i) => {
      await client.schedule.create({
        scheduleId: ids[i]!,
        spec: { intervals: [{ every: everyMs, offset: phaseMs(i) }] },
        action: { type: 'startWorkflow', workflowType: 'benchScheduled', taskQueue, workflowId: ids[i]! },
        policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL },
      });
    });
    if (created.errors.length > 0 || created.unfinished > 0) throw new Error(`creating schedules: ${created.errors.length} errors (${created.errors[0]}), ${created.unfinished} unfinished`);
    // One whole interval so every schedule has fired once before the window opens.
    await new Promise((r) => setTimeout(r, everyMs));
    opts.log(`${store} ${n} schedules: measuring ${opts.windowSeconds} s`);
    const windowStart = Date.now();
    const { cpu } = await measureCpu(server.probe, () => new Promise((r) => setTimeout(r, opts.windowSeconds * 1000)));
    const windowEnd = windowStart + opts.windowSeconds * 1000;
    // The window's last firings are taken a little late by definition; let them land before reading.
    await new Promise((r) => setTimeout(r, 5_000));
    const lateness: number[] = [];
    let due = 0;
    const described = await drive(n, opts.concurrency, 600, server.probe, async (i) => {
      const offset = phaseMs(i);
      const d = await client.schedule.getHandle(ids[i]!).describe();
      const taken = new Map(d.info.recentActions.map((a) => [a.scheduledAt.getTime(), a.takenAt.getTime()]));
      // Due times of this schedule in the window: (k * every + offset) in [windowStart, windowEnd).
      for (let t = Math.ceil((windowStart - offset) / everyMs) * everyMs + offset; t < windowEnd; t += everyMs) {
        due++;
        const at = taken.get(t);
        if (at !== undefined) lateness.push(at - t);
      }
    });
    if (described.errors.length > 0) throw new Error(`describing schedules: ${described.errors[0]}`);
    return {
      store,
      schedules: n,
      duePerSecond: round(n / opts.everySeconds, 1),
      createSeconds: round(created.cpu.wallSeconds, 1),
      due,
      fired: lateness.length,
      missed: due - lateness.length,
      latenessMs: summarize(lateness),
      cpu,
      cores: cores(cpu),
      loadAverage1m,
    };
  } finally {
    await connection.close();
    await server.stop();
  }
}

export async function runScheduleBench(opts: ScheduleBenchOptions): Promise<ScheduleBenchReport> {
  if (opts.windowSeconds / opts.everySeconds > RECENT_ACTIONS - 2) {
    throw new Error(`--window-seconds / --every-seconds must be at most ${RECENT_ACTIONS - 2}: DescribeSchedule shows the last ${RECENT_ACTIONS} actions`);
  }
  const startedAt = new Date().toISOString();
  const runs: ScheduleRun[] = [];
  for (const store of opts.stores) for (const n of opts.schedules) runs.push(await runScheduleCount(store, n, opts));
  const { log: _log, ...options } = opts;
  return { startedAt, options, runs };
}

export function formatScheduleTable(report: ScheduleBenchReport): string {
  const header = ['store', 'schedules', 'due/s', 'due', 'fired', 'missed', 'late p50 ms', 'p90', 'p99', 'max', 'server cores', 'cassandra', 'other', 'load 1m'];
  const rows = report.runs.map((r) => [
    r.store,
    String(r.schedules),
    String(r.duePerSecond),
    String(r.due),
    String(r.fired),
    String(r.missed),
    String(r.latenessMs.p50),
    String(r.latenessMs.p90),
    String(r.latenessMs.p99),
    String(r.latenessMs.max),
    String(r.cores[SERVER_PARTY] ?? '-'),
    String(r.cores[CASSANDRA_PARTY] ?? '-'),
    String(otherCores(r.cpu) ?? '-'),
    String(r.loadAverage1m),
  ]);
  return alignTable(header, rows);
}

const usage = `usage: npx tsx bench/schedules.ts [--store sqlite|cassandra|both] [--schedules 1000,3000]
                                  [--every-seconds S] [--window-seconds S] [--concurrency C]
  --store           where each fresh server keeps its data (default sqlite)
  --schedules       schedule counts, one fresh server each (default ${scheduleDefaults.schedules.join(',')})
  --every-seconds   every schedule's interval (default ${scheduleDefaults.everySeconds})
  --window-seconds  the measured window (default ${scheduleDefaults.windowSeconds}; at most ${RECENT_ACTIONS - 2} intervals)
  --concurrency     calls in flight while creating and describing (default ${scheduleDefaults.concurrency})`;

export function parseScheduleCommandLine(argv: string[]): Omit<ScheduleBenchOptions, 'log'> {
  const values = parseFlags(argv, ['store', 'schedules', 'every-seconds', 'window-seconds', 'concurrency']);
  return {
    stores: storesFlag(values.store, 'sqlite'),
    schedules: positiveList('schedules', values.schedules, scheduleDefaults.schedules),
    everySeconds: positiveNumber('every-seconds', values['every-seconds'], scheduleDefaults.everySeconds, true),
    windowSeconds: positiveNumber('window-seconds', values['window-seconds'], scheduleDefaults.windowSeconds, true),
    concurrency: positiveNumber('concurrency', values.concurrency, scheduleDefaults.concurrency, true),
  };
}

async function main(argv: string[]): Promise<void> {
  const report = await runScheduleBench({ ...parseScheduleCommandLine(argv), log: (msg) => console.error(`bench: ${msg}`) });
  console.error(`bench: wrote ${path.relative(process.cwd(), writeResultFile(report.startedAt, 'schedules', report))}`);
  console.log(formatScheduleTable(report));
}

runIfMain(import.meta.url, main, usage);
