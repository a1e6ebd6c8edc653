// The live lag chart's data: the last window of lag readings per region pair, kept by the server
// so a page opened now shows the minutes before it was opened. Readings closer together than
// minSpacingMs are one reading (the sampler and every open page both record).
import type { LagView } from './backend.js';

export interface LagPoint {
  atMs: number;
  seconds: number;
  tasks: number;
}

export interface LagSeries {
  source: string;
  target: string;
  points: LagPoint[];
}

export class LagHistory {
  private readonly series = new Map<string, LagSeries>();

  constructor(
    private readonly windowMs: number,
    private readonly minSpacingMs: number,
  ) {}

  record(atMs: number, lag: LagView[]): void {
    for (const l of lag) {
      const key = `${l.source}\u0000${l.target}`;
      let s = this.series.get(key);
      if (!s) this.series.set(key, (s = { source: l.source, target: l.target, points: [] }));
      const last = s.points[s.points.length - 1];
      if (last && atMs - last.atMs < this.minSpacingMs) continue;
      s.points.push({ atMs, seconds: l.seconds, tasks: l.tasks });
    }
    this.trim(atMs);
  }

  /** Every pair seen within the window, sorted by source then target, oldest point first. */
  list(nowMs: number): LagSeries[] {
    this.trim(nowMs);
    return [...this.series.values()]
      .map((s) => ({ ...s, points: [...s.points] }))
      .sort((a, b) => a.source.localeCompare(b.source) || a.target.localeCompare(b.target));
  }

  private trim(nowMs: number): void {
    const oldest = nowMs - this.windowMs;
    for (const [key, s] of this.series) {
      const keep = s.points.findIndex((p) => p.atMs >= oldest);
      if (keep === -1) this.series.delete(key);
      else if (keep > 0) s.points.splice(0, keep);
    }
  }
}
