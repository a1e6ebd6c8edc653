// Temporal's checks of a retry policy, with its messages: a start's policy (frontend) and the one an
// operator sets on an activity (history, UpdateActivityOptions) are refused for the same reasons.
import { apiError } from './errors.js';
import type { commonv1 } from './temporal.js';

/** An unset coefficient (0) is not refused: it means the default. */
export function checkRetryPolicy(p: commonv1.IRetryPolicy | null | undefined): void {
  if (!p) return;
  if ((p.maximumAttempts ?? 0) < 0) throw apiError('INVALID_ARGUMENT', 'MaximumAttempts cannot be negative on retry policy.');
  const coefficient = p.backoffCoefficient ?? 0;
  if (coefficient !== 0 && coefficient < 1) {
    throw apiError('INVALID_ARGUMENT', 'BackoffCoefficient cannot be less than 1 on retry policy.');
  }
  const initial = Number(p.initialInterval?.seconds ?? 0) + (p.initialInterval?.nanos ?? 0) / 1e9;
  const max = Number(p.maximumInterval?.seconds ?? 0) + (p.maximumInterval?.nanos ?? 0) / 1e9;
  if (max > 0 && max < initial) throw apiError('INVALID_ARGUMENT', 'MaximumInterval cannot be less than InitialInterval on retry policy.');
}
