// Standard five-field cron (minute hour day-of-month month day-of-week, UTC) plus the
// @every <duration> form, as Temporal accepts them for cron workflows.
import { apiError } from '../common/errors.js';

interface CronSpec {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  anyDay: boolean;
  anyWeekday: boolean;
}

function parseField(field: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText ? Number(stepText) : 1;
    let lo = min;
    let hi = max;
    if (range !== '*') {
      const [a, b] = range!.split('-');
      lo = Number(a);
      hi = b !== undefined ? Number(b) : stepText ? max : lo;
    }
    if (![lo, hi, step].every(Number.isInteger) || lo < min || hi > max || lo > hi || step < 1) {
      throw apiError('INVALID_ARGUMENT', `Invalid CronSchedule: bad field "${field}".`);
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

function parseEvery(expr: string): number {
  const m = /^@every\s+(\d+)(ms|s|m|h)$/.exec(expr.trim());
  if (!m) return -1;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

export function parseCron(expr: string): CronSpec {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) throw apiError('INVALID_ARGUMENT', `Invalid CronSchedule: "${expr}" must have 5 fields.`);
  return {
    minutes: parseField(fields[0]!, 0, 59),
    hours: parseField(fields[1]!, 0, 23),
    days: parseField(fields[2]!, 1, 31),
    months: parseField(fields[3]!, 1, 12),
    weekdays: parseField(fields[4]!.replace(/\b7\b/, '0'), 0, 6),
    anyDay: fields[2] === '*',
    anyWeekday: fields[4] === '*',
  };
}

/** Milliseconds from nowMs until the next time the schedule fires (strictly after now). */
export function nextCronDelayMs(expr: string, nowMs: number): number {
  const every = parseEvery(expr);
  if (every > 0) return every - (nowMs % every);
  const spec = parseCron(expr);
  const t = new Date(Math.floor(nowMs / 60_000) * 60_000 + 60_000);
  for (let i = 0; i < 366 * 24 * 60; i++) {
    const dayOk =
      spec.anyDay && spec.anyWeekday
        ? true
        : spec.anyDay
          ? spec.weekdays.has(t.getUTCDay())
          : spec.anyWeekday
            ? spec.days.has(t.getUTCDate())
            : spec.days.has(t.getUTCDate()) || spec.weekdays.has(t.getUTCDay());
    if (
      spec.months.has(t.getUTCMonth() + 1) &&
      dayOk &&
      spec.hours.has(t.getUTCHours()) &&
      spec.minutes.has(t.getUTCMinutes())
    ) {
      return t.getTime() - nowMs;
    }
    t.setTime(t.getTime() + 60_000);
  }
  throw apiError('INVALID_ARGUMENT', `Invalid CronSchedule: "${expr}" never fires.`);
}
