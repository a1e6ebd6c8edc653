// CPU accounting of a bench window: who spent how much CPU between two readings. A probe reads
// each party's cumulative CPU seconds (a process, the processes of one role, this process, the
// whole machine); a window is the difference of a reading right before and right after the work.
import { machineCpuSeconds, processUsage } from './procfs.js';

/** Cumulative CPU seconds per party at one instant; NaN for a party that could not be read. */
export type CpuReading = Record<string, number>;
export type CpuProbe = () => CpuReading;

export interface CpuWindow {
  /** CPU seconds each party spent in the window. */
  seconds: Record<string, number>;
  wallSeconds: number;
}

/** Parties every probe of `processProbe` adds besides the named processes. */
export const BENCH_PARTY = 'bench';
export const MACHINE_PARTY = 'machine';

/**
 * A probe over named groups of processes (e.g. {server: [pid]}, or a region's {history: [p1, p2, p3]}),
 * plus `bench` (this process: the SDK client and worker) and, where /proc/stat exists, `machine`
 * (every busy CPU, Cassandra and other users included). A process that is gone reads NaN, so a
 * window over its death is NaN rather than a wrong number.
 */
export function processProbe(groups: Record<string, number[]>): CpuProbe {
  return () => {
    const reading: CpuReading = {};
    for (const [party, pids] of Object.entries(groups)) {
      reading[party] = pids.reduce((sum, pid) => sum + (processUsage(pid)?.cpuSeconds ?? NaN), 0);
    }
    const self = process.cpuUsage();
    reading[BENCH_PARTY] = (self.user + self.system) / 1e6;
    const machine = machineCpuSeconds();
    if (machine !== null) reading[MACHINE_PARTY] = machine;
    return reading;
  };
}

/** Runs `work` between two readings of `probe`. */
export async function measureCpu<T>(probe: CpuProbe, work: () => Promise<T>): Promise<{ result: T; cpu: CpuWindow }> {
  const before = probe();
  const t0 = performance.now();
  const result = await work();
  const wallSeconds = (performance.now() - t0) / 1000;
  const after = probe();
  const seconds = Object.fromEntries(Object.keys(before).map((k) => [k, round(after[k]! - before[k]!, 3)]));
  return { result, cpu: { seconds, wallSeconds: round(wallSeconds, 3) } };
}

/** Milliseconds of CPU per unit of work (per started or completed workflow), per party. */
export function msPer(cpu: CpuWindow, units: number): Record<string, number> {
  return mapValues(cpu.seconds, (s) => (units > 0 ? round((s * 1000) / units, 2) : NaN));
}

/** Cores each party kept busy over the window (CPU seconds / wall seconds). */
export function cores(cpu: CpuWindow): Record<string, number> {
  return mapValues(cpu.seconds, (s) => round(s / cpu.wallSeconds, 3));
}

/**
 * Cores the machine kept busy beyond every party read (other users of a shared machine, the
 * kernel): what competed with the measured processes. Undefined without a `machine` reading.
 */
export function otherCores(cpu: CpuWindow): number | undefined {
  const busy = cores(cpu);
  if (busy[MACHINE_PARTY] === undefined) return undefined;
  const parties = Object.entries(busy).reduce((sum, [party, c]) => sum + (party === MACHINE_PARTY ? 0 : c), 0);
  return round(busy[MACHINE_PARTY] - parties);
}

export function round(x: number, digits = 2): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

function mapValues(o: Record<string, number>, f: (v: number) => number): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}
