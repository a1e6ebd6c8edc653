// CalendarSpec (each field a string such as "*", "1,3,5", "1-5/2", "mon-fri", "jan/3") parsed
// into a StructuredCalendarSpec, with the reference's defaults, wording and Sunday-as-7 rule.
import type { api } from '../common/temporal.js';
import { MAX_CALENDAR_YEAR, MIN_CALENDAR_YEAR } from './calendar.js';

type IRange = api.schedule.v1.IRange;

/** A CalendarSpec or cron string that does not parse; the caller names which one and wraps it in INVALID_ARGUMENT. */
export class SpecTextError extends Error {}

type Mode = 'int' | 'year' | 'month' | 'dow';

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** A month name needs three letters and a weekday two, as in the reference ("ju" is not a month). */
function parseValue(text: string, min: number, max: number, mode: Mode): number | null {
  const lower = text.toLowerCase();
  const names = mode === 'month' && text.length >= 3 ? MONTHS : mode === 'dow' && text.length >= 2 ? WEEKDAYS : null;
  const named = names?.findIndex((n) => n.startsWith(lower)) ?? -1;
  const v = named >= 0 ? named + (mode === 'month' ? 1 : 0) : /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  return Number.isInteger(v) && v >= min && v <= max ? v : null;
}

function parseRanges(text: string | null | undefined, field: string, def: string, min: number, max: number, mode: Mode): IRange[] {
  const s = (text ?? '').trim() || def;
  // An empty year list means every year; spelling the years out would cap the schedule at 2100.
  if (s === '*' && mode === 'year') return [];
  const ranges: IRange[] = [];
  for (let part of s.split(',')) {
    let step = 1;
    let hasStep = false;
    const slashes = part.split('/').length - 1;
    if (slashes > 1) throw new SpecTextError(`${field} has too many slashes`);
    if (slashes === 1) {
      const [range, stepText] = part.split('/') as [string, string];
      if (stepText === '') throw new SpecTextError(`${field} missing step value`);
      step = /^[+-]?\d+$/.test(stepText) ? Number(stepText) : NaN;
      if (!(step >= 1)) throw new SpecTextError(`${field} has invalid Step`);
      part = range;
      hasStep = true;
    }
    let start = min;
    let end = max;
    if (part !== '*') {
      if (part.includes('-')) {
        const pieces = part.split('-');
        if (pieces.length > 2) throw new SpecTextError(`${field} has too many dashes`);
        const a = parseValue(pieces[0]!, min, max, mode);
        if (a === null) throw new SpecTextError(`${field} Start is not in range [${min}-${max}]`);
        const b = parseValue(pieces[1]!, a, max, mode);
        if (b === null) throw new SpecTextError(`${field} End is before Start or not in range [${min}-${max}]`);
        [start, end] = [a, b];
      } else {
        const v = parseValue(part, min, max, mode);
        if (v === null) throw new SpecTextError(`${field} is not in range [${min}-${max}]`);
        // "x/y" runs from x to the field's maximum; a bare "x" is x alone.
        [start, end] = [v, hasStep ? max : v];
      }
    }
    // Sunday may be written 7: fold it onto 0, adding a separate 0 when the range cannot just
    // end at 6 instead (3-7 is 0,3-6; 1-7/2 is 0,1-6/2; 3-7/3 never reaches 7).
    if (mode === 'dow' && end === 7) {
      if ((7 - start) % step === 0 && (step > 1 || start > 1)) {
        ranges.push({ start: 0, end: 0, step: 0 });
        if (start === 7) continue;
      }
      end = 6;
    }
    // The reference leaves default values out of the proto (end 0 = start, step 0 = 1).
    ranges.push({ start, end: start === end ? 0 : end, step: step === 1 ? 0 : step });
  }
  return ranges;
}

/** Parses every field, collecting all errors; throws SpecTextError with them joined by ", " as the reference does. */
export function parseCalendarString(cal: api.schedule.v1.ICalendarSpec): api.schedule.v1.IStructuredCalendarSpec {
  const errs: string[] = [];
  const field = (f: () => IRange[]) => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof SpecTextError)) throw e;
      errs.push(e.message);
      return [];
    }
  };
  const out = {
    second: field(() => parseRanges(cal.second, 'Second', '0', 0, 59, 'int')),
    minute: field(() => parseRanges(cal.minute, 'Minute', '0', 0, 59, 'int')),
    hour: field(() => parseRanges(cal.hour, 'Hour', '0', 0, 23, 'int')),
    dayOfMonth: field(() => parseRanges(cal.dayOfMonth, 'DayOfMonth', '*', 1, 31, 'int')),
    month: field(() => parseRanges(cal.month, 'Month', '*', 1, 12, 'month')),
    year: field(() => parseRanges(cal.year, 'Year', '*', MIN_CALENDAR_YEAR, MAX_CALENDAR_YEAR, 'year')),
    dayOfWeek: field(() => parseRanges(cal.dayOfWeek, 'DayOfWeek', '*', 0, 7, 'dow')),
    comment: cal.comment ?? '',
  };
  if (errs.length > 0) throw new SpecTextError(errs.join(', '));
  return out;
}

