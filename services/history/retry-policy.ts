// Retry policies of activities and workflows: stored form, proto form, and the next backoff.
import { commonv1, failure as failurev1 } from '../common/temporal.js';
import { msFromDuration, optionalDurationMs, timestampFromMs } from '../common/proto-time.js';
import type { RetryPolicyInfo } from './state.js';

export function retryPolicyFromProto(p: commonv1.IRetryPolicy | null | undefined): RetryPolicyInfo | null {
  if (!p) return null;
  return {
    initialIntervalMs: optionalDurationMs(p.initialInterval) || 1000,
    backoffCoefficient: p.backoffCoefficient && p.backoffCoefficient >= 1 ? p.backoffCoefficient : 2,
    maximumIntervalMs: optionalDurationMs(p.maximumInterval),
    maximumAttempts: p.maximumAttempts ?? 0,
    nonRetryableErrorTypes: p.nonRetryableErrorTypes ?? [],
  };
}

export function retryPolicyToProto(p: RetryPolicyInfo | null): commonv1.IRetryPolicy | null {
  if (!p) return null;
  return {
    initialInterval: timestampFromMs(p.initialIntervalMs),
    backoffCoefficient: p.backoffCoefficient,
    maximumInterval: p.maximumIntervalMs ? timestampFromMs(p.maximumIntervalMs) : null,
    maximumAttempts: p.maximumAttempts,
    nonRetryableErrorTypes: p.nonRetryableErrorTypes,
  };
}

/**
 * Backoff before attempt `attempt + 1`, or -1 when the policy says stop: attempts exhausted,
 * a non-retryable failure type, or the next try would start after `deadlineMs` (0: none).
 */
export function retryBackoffMs(
  policy: RetryPolicyInfo | null,
  attempt: number,
  failure: failurev1.IFailure | null | undefined,
  nowMs: number,
  deadlineMs: number,
): number {
  if (!policy) return -1;
  if (policy.maximumAttempts > 0 && attempt >= policy.maximumAttempts) return -1;
  const app = failure?.applicationFailureInfo;
  if (app?.nonRetryable) return -1;
  if (app?.type && policy.nonRetryableErrorTypes.includes(app.type)) return -1;
  if (failure?.timeoutFailureInfo && policy.nonRetryableErrorTypes.includes('timeout')) return -1;
  let backoff = policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, attempt - 1);
  const max = policy.maximumIntervalMs || policy.initialIntervalMs * 100;
  backoff = Math.min(backoff, max);
  const nextDelay = app?.nextRetryDelay ? msFromDuration(app.nextRetryDelay) : 0;
  if (nextDelay > 0) backoff = nextDelay;
  if (deadlineMs > 0 && nowMs + backoff >= deadlineMs) return -1;
  return Math.round(backoff);
}
