// A Temporal ScheduleSpec compiled into "when does it fire next": the union of its calendars and
// intervals, minus its exclusions, within [start_time, end_time], with deterministic jitter.
// Times have one-second resolution, as in the reference server.
import { apiError } from '../common/errors.js';
import { msFromDuration, msFromTimestamp } from '../common/proto-time.js';
import type { api } from '../common/temporal.js';
import { compileCalendar, MAX_CALENDAR_YEAR } from './calendar.js';
import { canonicalizeSpec, withExplicitRanges } from './canonical.js';
import { compileInterval, nextIntervalSec } from './interval.js';
import { jitteredMs } from './jitter.js';
import { loadTimeZone } from './time-zone.js';

type IScheduleSpec = api.schedule.v1.IScheduleSpec;

export interface ScheduleTime {
  nominalMs: number;
  actualMs: number;
}

export interface CompiledSpec {
  /** The first matching time strictly after `afterMs` (compared on nominal time), with its jittered actual time; null when none (end time passed or the spec is empty). */
  next(afterMs: number): ScheduleTime | null;
}

const AFTER_LAST_CALENDAR_YEAR = Date.UTC(MAX_CALENDAR_YEAR + 1, 0, 1) / 1000;
// Exclusions are skipped one candidate at a time; a spec whose every time is excluded would
// otherwise search until 2100 (a week of every-second candidates stays well under this).
const MAX_EXCLUDED_CANDIDATES = 1_000_000;

/** Validates and compiles; INVALID_ARGUMENT naming the bad part (e.g. "invalid schedule spec: cron_string \"61 * * * *\": Minute is not in range [0-59]"). */
export function compileScheduleSpec(spec: IScheduleSpec, scheduleId: string): CompiledSpec {
  const canonical = canonicalizeSpec(spec);
  if (canonical.timezoneData?.length) {
    throw apiError('INVALID_ARGUMENT', 'invalid schedule spec: timezone_data is not supported, use timezone_name');
  }
  const tz = loadTimeZone(canonical.timezoneName ?? '');
  const calendars = canonical.structuredCalendar!.map((c) => compileCalendar(c, tz));
  const excludes = canonical.excludeStructuredCalendar!.map((c) => compileCalendar(c, tz));
  const intervals = canonical.interval!.map(compileInterval);
  const startSec = canonical.startTime ? Math.ceil(msFromTimestamp(canonical.startTime) / 1000) : 0;
  const endMs = canonical.endTime ? msFromTimestamp(canonical.endTime) : Infinity;
  const jitterMs = Math.max(0, msFromDuration(canonical.jitter));

  const rawNextSec = (afterSec: number): number | null => {
    let best: number | null = null;
    for (const c of calendars) {
      const t = c.next(afterSec);
      if (t !== null && (best === null || t < best)) best = t;
    }
    for (const iv of intervals) {
      const t = nextIntervalSec(iv, afterSec);
      if (best === null || t < best) best = t;
    }
    return best;
  };

  return {
    next(afterMs) {
      // Start one second before start_time so that start_time itself can match.
      let afterSec = Math.max(Math.floor(afterMs / 1000), startSec - 1);
      let nominalSec: number | null = null;
      for (let i = 0; i < MAX_EXCLUDED_CANDIDATES; i++) {
        nominalSec = rawNextSec(afterSec);
        if (nominalSec === null || nominalSec * 1000 > endMs || nominalSec >= AFTER_LAST_CALENDAR_YEAR) return null;
        if (!excludes.some((e) => e.matches(nominalSec!))) break;
        afterSec = nominalSec;
        nominalSec = null;
      }
      if (nominalSec === null) return null;
      const nominalMs = nominalSec * 1000;
      // Jitter never pushes an action past the following nominal time (exclusions not considered, as the reference).
      const following = rawNextSec(nominalSec);
      const maxJitter = following === null ? jitterMs : Math.min(jitterMs, following * 1000 - nominalMs);
      return { nominalMs, actualMs: jitteredMs(scheduleId, nominalMs, maxJitter) };
    },
  };
}

/** The spec as DescribeSchedule shows it: cron strings and string calendars turned into structured calendars (and @every into intervals), as the reference canonicalizes. */
export function canonicalScheduleSpec(spec: IScheduleSpec): IScheduleSpec {
  const canonical = canonicalizeSpec(spec);
  return {
    ...canonical,
    structuredCalendar: canonical.structuredCalendar!.map(withExplicitRanges),
    excludeStructuredCalendar: canonical.excludeStructuredCalendar!.map(withExplicitRanges),
  };
}

const MAX_MATCHING_TIMES = 1000;

/**
 * ListScheduleMatchingTimes: the actual times of the nominal times strictly after fromMs, up to
 * toMs included, as the reference lists them (a time on fromMs itself is not listed); at most 1000.
 */
export function matchingTimes(spec: CompiledSpec, fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  for (let t = spec.next(fromMs); t && t.actualMs <= toMs && out.length < MAX_MATCHING_TIMES; t = spec.next(t.nominalMs)) {
    out.push(t.actualMs);
  }
  return out;
}
