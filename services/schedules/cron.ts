// A schedule's cron_string: "[CRON_TZ=zone |TZ=zone ]fields [# comment]" where fields are 5
// (minute hour day-of-month month day-of-week), 6 (+ year) or 7 (second first, + year), a
// shorthand (@hourly, @daily...), or "@every <duration>[/<phase>]" which becomes an interval.
// Unlike classic cron, day-of-month and day-of-week must both match (the reference's choice).
import { durationFromMs } from '../common/proto-time.js';
import type { api } from '../common/temporal.js';
import { parseCalendarString, SpecTextError } from './calendar-string.js';

export interface ParsedCron {
  calendar?: api.schedule.v1.IStructuredCalendarSpec;
  interval?: api.schedule.v1.IIntervalSpec;
  /** The CRON_TZ= / TZ= zone, '' when the string has none. */
  timezoneName: string;
}

const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A Go duration ("1h30m", "1.5h", "90s") with the reference's extra "d" (24 h) unit. */
function parseDurationMs(text: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/gy;
  let ms = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = re.lastIndex;
  }
  if (text === '' || end !== text.length) throw new SpecTextError(`invalid duration "${text}"`);
  return Math.round(ms);
}

function parseEvery(text: string): api.schedule.v1.IIntervalSpec {
  const space = text.indexOf(' ');
  if (space < 0) throw new SpecTextError('CronString does not have interval after @every');
  const [every, phase] = text.slice(space + 1).split('/', 2) as [string, string | undefined];
  const interval = durationFromMs(parseDurationMs(every));
  return phase ? { interval, phase: durationFromMs(parseDurationMs(phase)) } : { interval };
}

/** Throws SpecTextError for a string that does not parse. */
export function parseCronString(cron: string): ParsedCron {
  let c = cron.trim();
  let timezoneName = '';
  if (c.startsWith('TZ=') || c.startsWith('CRON_TZ=')) {
    const space = c.indexOf(' ');
    if (space < 0) throw new SpecTextError('CronString has time zone but missing fields');
    timezoneName = c.slice(c.indexOf('=') + 1, space);
    c = c.slice(space + 1);
  }
  const hash = c.indexOf('#');
  const comment = hash < 0 ? '' : c.slice(hash + 1).trim();
  c = (hash < 0 ? c : c.slice(0, hash)).trim();
  // As the reference, an @every interval drops the string's time zone: intervals have none.
  if (c.startsWith('@every')) return { interval: parseEvery(c), timezoneName: '' };
  const f = (SHORTHANDS[c] ?? c).split(/\s+/).filter(Boolean);
  const fields =
    f.length === 5 ? { minute: f[0], hour: f[1], dayOfMonth: f[2], month: f[3], dayOfWeek: f[4] }
    : f.length === 6 ? { minute: f[0], hour: f[1], dayOfMonth: f[2], month: f[3], dayOfWeek: f[4], year: f[5] }
    : f.length === 7 ? { second: f[0], minute: f[1], hour: f[2], dayOfMonth: f[3], month: f[4], dayOfWeek: f[5], year: f[6] }
    : null;
  if (!fields) throw new SpecTextError('CronString does not have 5-7 fields');
  return { calendar: parseCalendarString({ ...fields, comment }), timezoneName };
}
