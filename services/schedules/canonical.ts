// A ScheduleSpec in the one form the engine runs and DescribeSchedule shows: calendar strings and
// cron strings become structured calendars (@every becomes an interval, CRON_TZ the time zone),
// and every part is validated, naming the part in the INVALID_ARGUMENT message.
import { apiError } from '../common/errors.js';
import type { api } from '../common/temporal.js';
import { validateStructuredCalendar } from './calendar.js';
import { parseCalendarString, SpecTextError } from './calendar-string.js';
import { parseCronString } from './cron.js';
import { compileInterval } from './interval.js';

type IScheduleSpec = api.schedule.v1.IScheduleSpec;
type IStructuredCalendarSpec = api.schedule.v1.IStructuredCalendarSpec;

const invalid = (what: string) => apiError('INVALID_ARGUMENT', `invalid schedule spec: ${what}`);

function parsing<T>(where: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof SpecTextError) throw invalid(`${where}: ${e.message}`);
    throw e;
  }
}

/** Throws INVALID_ARGUMENT for any part that does not parse or is out of range. */
export function canonicalizeSpec(spec: IScheduleSpec): IScheduleSpec {
  const structured = [...(spec.structuredCalendar ?? [])];
  const excluded = [...(spec.excludeStructuredCalendar ?? [])];
  const intervals = [...(spec.interval ?? [])];
  (spec.calendar ?? []).forEach((c, i) => structured.push(parsing(`calendar[${i}]`, () => parseCalendarString(c))));
  (spec.excludeCalendar ?? []).forEach((c, i) => excluded.push(parsing(`exclude_calendar[${i}]`, () => parseCalendarString(c))));

  // All cron strings must agree on their zone, present or not (the reference's rule).
  let cronZone: string | undefined;
  for (const cron of spec.cronString ?? []) {
    const parsed = parsing(`cron_string ${JSON.stringify(cron)}`, () => parseCronString(cron));
    if (cronZone !== undefined && parsed.timezoneName !== cronZone) throw invalid('conflicting timezone names');
    cronZone = parsed.timezoneName;
    if (parsed.calendar) structured.push(parsed.calendar);
    if (parsed.interval) intervals.push(parsed.interval);
  }
  let timezoneName = spec.timezoneName ?? '';
  if (cronZone) {
    if ((timezoneName !== '' && timezoneName !== cronZone) || spec.timezoneData?.length) throw invalid('conflicting timezone names');
    timezoneName = cronZone;
  }

  structured.forEach((c, i) => validateStructuredCalendar(c, `structured_calendar[${i}]`));
  excluded.forEach((c, i) => validateStructuredCalendar(c, `exclude_structured_calendar[${i}]`));
  intervals.forEach(compileInterval);
  return {
    ...spec,
    structuredCalendar: structured,
    calendar: [],
    cronString: [],
    interval: intervals,
    excludeCalendar: [],
    excludeStructuredCalendar: excluded,
    timezoneName,
  };
}

/** The reference's CleanSpec for Describe: every range spells out its end and step. */
export function withExplicitRanges(cal: IStructuredCalendarSpec): IStructuredCalendarSpec {
  const clean = (ranges: api.schedule.v1.IRange[] | null | undefined) =>
    (ranges ?? []).map((r) => ({ start: r.start ?? 0, end: Math.max(r.end ?? 0, r.start ?? 0), step: r.step || 1 }));
  return {
    ...cal,
    second: clean(cal.second),
    minute: clean(cal.minute),
    hour: clean(cal.hour),
    dayOfMonth: clean(cal.dayOfMonth),
    month: clean(cal.month),
    year: clean(cal.year),
    dayOfWeek: clean(cal.dayOfWeek),
  };
}
