// A Temporal ScheduleSpec compiled into "when does it fire next": the union of its calendars and
// intervals, minus its exclusions, within [start_time, end_time], with deterministic jitter.
// Times have one-second resolution, as in the reference server.
import { msFromDuration, msFromTimestamp } from '../common/proto-time.js';
import type { api } from '../common/temporal.js';
import { compileInterval, nextIntervalSec, type CompiledInterval } from './interval.js';
import { jitteredMs } from './jitter.js';

type IScheduleSpec = api.schedule.v1.IScheduleSpec;

export interface ScheduleTime {
  nominalMs: number;
  actualMs: number;
}

export interface CompiledSpec {
  /** The first matching time strictly after `afterMs` (compared on nominal time), with its jittered actual time; null when none (end time passed or the spec is empty). */
  next(afterMs: number): ScheduleTime | null;
}

/** Validates and compiles; INVALID_ARGUMENT naming the bad part (e.g. "invalid schedule spec: cron_string \"61 * * * *\": minute 61 out of range 0-59"). */
export function compileScheduleSpec(spec: IScheduleSpec, scheduleId: string): CompiledSpec {
  const intervals: CompiledInterval[] = (spec.interval ?? []).map(compileInterval);
  const startSec = spec.startTime ? Math.ceil(msFromTimestamp(spec.startTime) / 1000) : 0;
  const endMs = spec.endTime ? msFromTimestamp(spec.endTime) : Infinity;
  const jitterMs = Math.max(0, msFromDuration(spec.jitter));

  const rawNextSec = (afterSec: number): number | null => {
    let best: number | null = null;
    for (const iv of intervals) {
      const t = nextIntervalSec(iv, afterSec);
      if (best === null || t < best) best = t;
    }
    return best;
  };

  return {
    next(afterMs) {
      // Start one second before start_time so that start_time itself can match.
      const afterSec = Math.max(Math.floor(afterMs / 1000), startSec - 1);
      const nominalSec = rawNextSec(afterSec);
      if (nominalSec === null || nominalSec * 1000 > endMs) return null;
      const nominalMs = nominalSec * 1000;
      // Jitter never pushes an action past the following nominal time.
      const following = rawNextSec(nominalSec);
      const maxJitter = following === null ? jitterMs : Math.min(jitterMs, following * 1000 - nominalMs);
      return { nominalMs, actualMs: jitteredMs(scheduleId, nominalMs, maxJitter) };
    },
  };
}

/** The spec as DescribeSchedule shows it: cron strings and string calendars turned into structured calendars (and @every into intervals), as the reference canonicalizes. */
export function canonicalScheduleSpec(spec: IScheduleSpec): IScheduleSpec {
  return spec;
}

const MAX_MATCHING_TIMES = 1000;

/** ListScheduleMatchingTimes: the actual times in [fromMs, toMs]; bounded (at most 1000). */
export function matchingTimes(spec: CompiledSpec, fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  for (let t = spec.next(fromMs - 1); t && t.actualMs <= toMs && out.length < MAX_MATCHING_TIMES; t = spec.next(t.nominalMs)) {
    if (t.actualMs >= fromMs) out.push(t.actualMs);
  }
  return out;
}
