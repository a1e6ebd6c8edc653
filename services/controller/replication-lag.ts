// Replication lag from one region to the others out of the replication gauges (labels shard,
// source, target): the worst shard's seconds and the sum of tasks, per target. The samples come
// from a region's /metrics text (`tandem up`) or its prom-client registry (`make dev`).
import type { ObserverReport } from './controller-store.js';

export interface LagSample {
  labels: Record<string, string | number | undefined>;
  value: number;
}

export const LAG_SECONDS = 'tandem_replication_lag_seconds';
export const LAG_TASKS = 'tandem_replication_lag_tasks';

export function lagFromSamples(seconds: LagSample[], tasks: LagSample[], source: string): NonNullable<ObserverReport['lag']> {
  const byTarget = new Map<string, { target: string; tasks: number; seconds: number }>();
  const entry = (s: LagSample) => {
    const target = String(s.labels.target);
    let e = byTarget.get(target);
    if (!e) byTarget.set(target, (e = { target, tasks: 0, seconds: 0 }));
    return e;
  };
  const mine = (s: LagSample) => s.labels.source === source && s.labels.target !== undefined && Number.isFinite(s.value);
  for (const s of seconds.filter(mine)) entry(s).seconds = Math.max(entry(s).seconds, s.value);
  for (const s of tasks.filter(mine)) entry(s).tasks += s.value;
  return [...byTarget.values()].sort((a, b) => a.target.localeCompare(b.target));
}
