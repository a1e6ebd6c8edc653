// Wall clock <-> UTC in an IANA time zone, through Intl (node ships full ICU). A "wall second"
// is the local date and time read as if it were UTC, so calendar arithmetic on it never meets a
// daylight-saving shift. Instants are cut into segments of constant UTC offset; inside one,
// instant -> wall second is a plain shift, which is what lets a calendar step by fields.
import { apiError } from '../common/errors.js';

const WEEK = 7 * 86_400;
// How far one segment lookup looks ahead; a longer stretch without a transition is cut here.
const MAX_SEGMENT_WEEKS = 60;
const MAX_MEMO = 100_000;

export interface OffsetSegment {
  /** Wall second minus instant, constant from the queried instant up to `endSec` (exclusive). */
  offsetSec: number;
  endSec: number;
}

export interface TimeZone {
  /** The wall second shown at instant `sec` (Unix seconds). */
  wall(sec: number): number;
  segment(sec: number): OffsetSegment;
}

const utc: TimeZone = { wall: (sec) => sec, segment: () => ({ offsetSec: 0, endSec: Infinity }) };

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
  // Segment lookups probe only week-grid points and the bisection points between two of them,
  // so successive next() calls hit the same memoized offsets instead of asking Intl again.
  const memo = new Map<number, number>();
  const gridOffset = (sec: number): number => {
    let o = memo.get(sec);
    if (o === undefined) {
      if (memo.size >= MAX_MEMO) memo.clear();
      o = offset(sec);
      memo.set(sec, o);
    }
    return o;
  };
  // Successive next() calls mostly land in the segment the previous one found.
  let last = { startSec: 0, offsetSec: 0, endSec: 0 };
  const segment = (sec: number): OffsetSegment => {
    if (sec >= last.startSec && sec < last.endSec) return { offsetSec: last.offsetSec, endSec: last.endSec };
    // Assumes at most one transition per week, true of every zone's rules since 2000.
    const offsetSec = offset(sec);
    const grid = Math.floor(sec / WEEK) * WEEK;
    let endSec = grid + MAX_SEGMENT_WEEKS * WEEK;
    for (let k = 1; k <= MAX_SEGMENT_WEEKS; k++) {
      let hi = grid + k * WEEK;
      if (gridOffset(hi) === offsetSec) continue;
      let lo = hi - WEEK;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (gridOffset(mid) === offsetSec) lo = mid;
        else hi = mid;
      }
      endSec = hi;
      break;
    }
    last = { startSec: sec, offsetSec, endSec };
    return { offsetSec, endSec };
  };
  return { wall: (sec) => sec + segment(sec).offsetSec, segment };
}
