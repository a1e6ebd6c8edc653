// StructuredCalendarSpec: a time matches when every field of its wall clock (in the spec's time
// zone) is in that field's ranges; day_of_month and day_of_week must BOTH match (Temporal does not
// copy cron's "or"). As in the reference, a wall time skipped by spring-forward never fires and
// one repeated by fall-back fires in both copies.
import { apiError } from '../common/errors.js';
import type { api } from '../common/temporal.js';
import type { TimeZone } from './time-zone.js';

type IRange = api.schedule.v1.IRange;
type IStructuredCalendarSpec = api.schedule.v1.IStructuredCalendarSpec;

export const MIN_CALENDAR_YEAR = 2000;
// The reference stops looking at 2100; so do we, to agree on "never fires again".
export const MAX_CALENDAR_YEAR = 2100;
const MAX_COMMENT_LENGTH = 200;

export interface CompiledCalendar {
  matches(sec: number): boolean;
  /** The first matching instant strictly after `afterSec`, or null before 2101. */
  next(afterSec: number): number | null;
}

const bounds = {
  second: ['Second', 0, 59],
  minute: ['Minute', 0, 59],
  hour: ['Hour', 0, 23],
  dayOfMonth: ['DayOfMonth', 1, 31],
  month: ['Month', 1, 12],
  year: ['Year', MIN_CALENDAR_YEAR, MAX_CALENDAR_YEAR],
  dayOfWeek: ['DayOfWeek', 0, 6],
} as const;

/** Throws INVALID_ARGUMENT listing every bad range, with the reference's wording. */
export function validateStructuredCalendar(cal: IStructuredCalendarSpec, where: string): void {
  const errs: string[] = [];
  for (const [key, [field, min, max]] of Object.entries(bounds)) {
    for (const r of cal[key as keyof typeof bounds] ?? []) {
      const start = r.start ?? 0;
      const end = r.end ?? 0;
      if (start < min || start > max) errs.push(`${field} Start is not in range [${min}-${max}]`);
      if (end !== 0 && (end < start || end > max)) errs.push(`${field} End is before Start or not in range [${min}-${max}]`);
      if ((r.step ?? 0) < 0) errs.push(`${field} has invalid Step`);
    }
  }
  if ((cal.comment ?? '').length > MAX_COMMENT_LENGTH) errs.push('comment is too long');
  if (errs.length > 0) throw apiError('INVALID_ARGUMENT', `invalid schedule spec: ${where}: ${errs.join(', ')}`);
}

/** Each value a list of ranges covers; an end before its start means the start alone, step 0 means 1. */
export function* rangeValues(ranges: IRange[]): Generator<number> {
  for (const r of ranges) {
    const start = r.start ?? 0;
    const end = Math.max(r.end ?? 0, start);
    const step = r.step || 1;
    for (let v = start; v <= end; v += step) yield v;
  }
}

/** A field's values as a "next member at or above v" table (-1: none), so iteration jumps instead of counting. */
function nextTable(ranges: IRange[], max: number): Int16Array {
  const member = new Uint8Array(max + 1);
  for (const v of rangeValues(ranges)) if (v >= 0 && v <= max) member[v] = 1;
  const table = new Int16Array(max + 2).fill(-1);
  for (let v = max; v >= 0; v--) table[v] = member[v] ? v : table[v + 1]!;
  return table;
}

const daysInMonth = (y: number, mo: number) => new Date(Date.UTC(y, mo, 0)).getUTCDate();

export function compileCalendar(cal: IStructuredCalendarSpec, tz: TimeZone): CompiledCalendar {
  const second = nextTable(cal.second ?? [], 59);
  const minute = nextTable(cal.minute ?? [], 59);
  const hour = nextTable(cal.hour ?? [], 23);
  const dayOfMonth = nextTable(cal.dayOfMonth ?? [], 31);
  const month = nextTable(cal.month ?? [], 12);
  const dayOfWeek = nextTable(cal.dayOfWeek ?? [], 6);
  // An empty year list means every year (the other fields list their values explicitly).
  const years = cal.year?.length ? nextTable(cal.year, MAX_CALENDAR_YEAR) : null;
  const empty = [second, minute, hour, dayOfMonth, month, dayOfWeek].some((t) => t[0] === -1) || years?.[0] === -1;

  const matchesWall = (w: number): boolean => {
    const d = new Date(w * 1000);
    const y = d.getUTCFullYear();
    return (
      (years === null || (y <= MAX_CALENDAR_YEAR && years[y] === y)) &&
      month[d.getUTCMonth() + 1] === d.getUTCMonth() + 1 &&
      dayOfMonth[d.getUTCDate()] === d.getUTCDate() &&
      dayOfWeek[d.getUTCDay()] === d.getUTCDay() &&
      hour[d.getUTCHours()] === d.getUTCHours() &&
      minute[d.getUTCMinutes()] === d.getUTCMinutes() &&
      second[d.getUTCSeconds()] === d.getUTCSeconds()
    );
  };

  /** The first matching wall second at or after `from`, stepping field by field from the year down. */
  const nextWall = (from: number): number | null => {
    const d = new Date(from * 1000);
    let [y, mo, day, h, m, s] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
    for (;;) {
      if (s > 59) [m, s] = [m + 1, 0];
      if (m > 59) [h, m] = [h + 1, 0];
      if (h > 23) [day, h] = [day + 1, 0];
      if (day > daysInMonth(y, mo)) [mo, day] = [mo + 1, 1];
      if (mo > 12) [y, mo] = [y + 1, 1];
      if (y > MAX_CALENDAR_YEAR) return null;
      if (years !== null && years[Math.max(y, 0)] !== y) {
        const ny = years[Math.max(y, 0)]!;
        if (ny === -1) return null;
        [y, mo, day, h, m, s] = [ny, 1, 1, 0, 0, 0];
        continue;
      }
      const nmo = month[mo]!;
      if (nmo !== mo) {
        [y, mo, day, h, m, s] = nmo === -1 ? [y + 1, 1, 1, 0, 0, 0] : [y, nmo, 1, 0, 0, 0];
        continue;
      }
      const nday = dayOfMonth[day]!;
      if (nday === -1 || nday > daysInMonth(y, mo)) {
        [mo, day, h, m, s] = [mo + 1, 1, 0, 0, 0];
        continue;
      }
      if (nday !== day) {
        [day, h, m, s] = [nday, 0, 0, 0];
        continue;
      }
      const dow = new Date(Date.UTC(y, mo - 1, day)).getUTCDay();
      if (dayOfWeek[dow] !== dow) {
        [day, h, m, s] = [day + 1, 0, 0, 0];
        continue;
      }
      const nh = hour[h]!;
      if (nh !== h) {
        [day, h, m, s] = nh === -1 ? [day + 1, 0, 0, 0] : [day, nh, 0, 0];
        continue;
      }
      const nm = minute[m]!;
      if (nm !== m) {
        [h, m, s] = nm === -1 ? [h + 1, 0, 0] : [h, nm, 0];
        continue;
      }
      const ns = second[s]!;
      if (ns !== s) {
        [m, s] = ns === -1 ? [m + 1, 0] : [m, ns];
        continue;
      }
      return Date.UTC(y, mo - 1, day, h, m, s) / 1000;
    }
  };

  return {
    matches: (sec) => !empty && matchesWall(tz.wall(sec)),
    next(afterSec) {
      if (empty) return null;
      // Inside a segment of constant offset, the first matching wall second is the first
      // matching instant; if it falls past the segment, go on from the segment's end.
      for (let from = afterSec + 1; ; ) {
        const { offsetSec, endSec } = tz.segment(from);
        const w = nextWall(from + offsetSec);
        if (w === null) return null;
        if (w - offsetSec < endSec) return w - offsetSec;
        from = endSec;
      }
    },
  };
}
