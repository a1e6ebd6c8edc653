// The bounded driver every load of bench/ runs: n operations, at most `concurrency` in flight, a
// time cap, and the CPU each party spent in between, read right before and right after.
import { setMaxListeners } from 'node:events';
import { measureCpu, type CpuProbe, type CpuWindow } from './cpu.js';

export interface Measurement {
  latencies: number[];
  errors: string[];
  /** In flight when the cap hit, or never begun. */
  unfinished: number;
  /** The loop's wall time and the CPU each party of the probe spent in it. */
  cpu: CpuWindow;
}

/**
 * Runs `op` for indexes 0..n-1, at most `concurrency` at a time, until all are done or the
 * deadline passes; at the deadline `signal` aborts the calls still in flight. When `until` aborts,
 * no new index begins and the calls in flight finish (a load that lasts as long as something else
 * does). `probe` is read right before the first call and right after the last one ends:
 * connecting and worker start-up and shutdown are outside the measured window.
 */
export async function drive(
  n: number,
  concurrency: number,
  maxSeconds: number,
  probe: CpuProbe,
  op: (i: number, signal: AbortSignal) => Promise<void>,
  until?: AbortSignal,
): Promise<Measurement> {
  const abort = new AbortController();
  // Every call in flight listens on the one signal; that is many listeners by design.
  setMaxListeners(0, abort.signal);
  const timer = setTimeout(() => abort.abort(new Error(`time cap of ${maxSeconds}s reached`)), maxSeconds * 1000);
  const latencies: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const runner = async () => {
    while (next < n && !abort.signal.aborted && !until?.aborted) {
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
  try {
    const { cpu } = await measureCpu(probe, () => Promise.all(Array.from({ length: Math.min(concurrency, n) }, runner)));
    const begun = until?.aborted ? next : n;
    return { latencies, errors, unfinished: begun - latencies.length - errors.length, cpu };
  } finally {
    clearTimeout(timer);
  }
}
