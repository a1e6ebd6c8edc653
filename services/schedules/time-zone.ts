// Wall clock <-> UTC in an IANA time zone, through Intl (node ships full ICU). A "wall second"
// is the local date and time read as if it were UTC, so calendar arithmetic on it never meets a
// daylight-saving shift; only the conversion back to instants does.
import { apiError } from '../common/errors.js';

const DAY = 86_400;
// No zone has moved its clock back by more than this in one transition (the largest are 2 h).
export const MAX_FALL_BACK = 3 * 3600;

export interface TimeZone {
  /** The wall second shown at instant `sec` (Unix seconds). */
  wall(sec: number): number;
  /** The instants whose wall clock reads `wallSec`, ascending: none in a spring-forward gap, two in a fall-back overlap. */
  instants(wallSec: number): number[];
  /** How far the clock goes back in the MAX_FALL_BACK seconds after `sec` (0 when it does not). */
  fallBackAfter(sec: number): number;
}

const utc: TimeZone = { wall: (sec) => sec, instants: (w) => [w], fallBackAfter: () => 0 };

export function loadTimeZone(name: string): TimeZone {
  if (name === '' || name === 'UTC') return utc;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw apiError('INVALID_ARGUMENT', `invalid schedule spec: unknown time zone "${name}"`);
  }
  const offset = (sec: number): number => {
    const p: Record<string, number> = {};
    for (const part of format.formatToParts(sec * 1000)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) / 1000 - sec;
  };
  return {
    wall: (sec) => sec + offset(sec),
    instants(w) {
      // The offsets a day either side bracket any transition near w; keep those that read back as w.
      const candidates = new Set([offset(w - DAY), offset(w + DAY), offset(w - offset(w))]);
      const out = [...candidates].map((o) => w - o).filter((t) => offset(t) === w - t);
      return [...new Set(out)].sort((a, b) => a - b);
    },
    fallBackAfter: (sec) => Math.max(0, offset(sec) - offset(sec + MAX_FALL_BACK)),
  };
}
