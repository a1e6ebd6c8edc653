// IntervalSpec: every `interval` seconds counted from the Unix epoch, shifted by `phase`. The
// reference truncates both to whole seconds, so a 1.5 s interval runs every second.
import { apiError } from '../common/errors.js';
import { msFromDuration } from '../common/proto-time.js';
import type { api } from '../common/temporal.js';

export interface CompiledInterval {
  everySec: number;
  phaseSec: number;
}

export function compileInterval(iv: api.schedule.v1.IIntervalSpec): CompiledInterval {
  const everyMs = msFromDuration(iv.interval);
  const phaseMs = msFromDuration(iv.phase);
  if (everyMs < 1000) throw apiError('INVALID_ARGUMENT', 'invalid schedule spec: interval is too small');
  if (phaseMs < 0) throw apiError('INVALID_ARGUMENT', 'invalid schedule spec: phase is negative');
  if (phaseMs >= everyMs) throw apiError('INVALID_ARGUMENT', 'invalid schedule spec: phase cannot be greater than Interval');
  return { everySec: Math.floor(everyMs / 1000), phaseSec: Math.floor(phaseMs / 1000) };
}

/** The first second strictly after `afterSec` where (t - phase) is a multiple of the interval. */
export function nextIntervalSec(iv: CompiledInterval, afterSec: number): number {
  return (Math.floor((afterSec - iv.phaseSec) / iv.everySec) + 1) * iv.everySec + iv.phaseSec;
}
