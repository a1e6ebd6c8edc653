// Retry policies of activities and workflows: stored form, proto form, and the next backoff.
import { commonv1, enums, failure as failurev1 } from '../common/temporal.js';
import { durationFromMs, msFromDuration, optionalDurationMs, timestampFromMs } from '../common/proto-time.js';
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

/**
 * A policy with the reference's defaults filled in, as its events record it: 1 s initial interval,
 * coefficient 2, maximum interval 100 times the initial one, unlimited attempts.
 */
export function retryPolicyWithDefaults(p: commonv1.IRetryPolicy | null | undefined): commonv1.IRetryPolicy {
  const initial = optionalDurationMs(p?.initialInterval) || 1000;
  return {
    initialInterval: durationFromMs(initial),
    backoffCoefficient: p?.backoffCoefficient && p.backoffCoefficient >= 1 ? p.backoffCoefficient : 2,
    maximumInterval: durationFromMs(optionalDurationMs(p?.maximumInterval) || initial * 100),
    maximumAttempts: p?.maximumAttempts ?? 0,
    nonRetryableErrorTypes: p?.nonRetryableErrorTypes ?? [],
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

const RS = enums.RetryState;

/** Where the reference lets a retry policy name timeouts in its non-retryable error types. */
const TIMEOUT_TYPE_PREFIX = 'TemporalTimeout:';

/**
 * Whether a failure may be retried at all, whatever the attempts left: as the reference judges
 * it, a schedule-to-start or schedule-to-close timeout has spent the whole budget, and a
 * start-to-close or heartbeat timeout is retried unless the policy lists `TemporalTimeout:<type>`.
 */
function retryableFailure(failure: failurev1.IFailure | null | undefined, nonRetryableTypes: string[]): boolean {
  if (!failure) return true;
  if (failure.terminatedFailureInfo || failure.canceledFailureInfo) return false;
  const timeout = failure.timeoutFailureInfo;
  if (timeout) {
    const type = timeout.timeoutType ?? 0;
    if (type !== enums.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE && type !== enums.TimeoutType.TIMEOUT_TYPE_HEARTBEAT) return false;
    return !nonRetryableTypes.includes(TIMEOUT_TYPE_PREFIX + enums.TimeoutType[type]);
  }
  if (failure.serverFailureInfo) return !failure.serverFailureInfo.nonRetryable;
  const app = failure.applicationFailureInfo;
  if (app) return !app.nonRetryable && !nonRetryableTypes.includes(app.type ?? '');
  return true;
}

/** A retry policy's verdict on a failed attempt: retry after `backoffMs`, or stop for `retryState`. */
export type RetryDecision = { retryState: typeof RS.RETRY_STATE_IN_PROGRESS; backoffMs: number } | { retryState: enums.RetryState; backoffMs: -1 };

const stop = (retryState: enums.RetryState): RetryDecision => ({ retryState, backoffMs: -1 });

/** The policy's wait after failed attempt `attempt`: exponential, capped by its maximum interval. */
export function retryIntervalMs(policy: RetryPolicyInfo, attempt: number): number {
  const backoff = policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, attempt - 1);
  return Math.min(backoff, policy.maximumIntervalMs || policy.initialIntervalMs * 100);
}

/**
 * What follows attempt `attempt`, in the reference's order: a failure no policy retries, the
 * attempts used up, then a next try that would start after `deadlineMs` (0: none).
 */
export function retryDecision(
  policy: RetryPolicyInfo | null,
  attempt: number,
  failure: failurev1.IFailure | null | undefined,
  nowMs: number,
  deadlineMs: number,
): RetryDecision {
  if (!policy) return stop(RS.RETRY_STATE_RETRY_POLICY_NOT_SET);
  if (!retryableFailure(failure, policy.nonRetryableErrorTypes)) return stop(RS.RETRY_STATE_NON_RETRYABLE_FAILURE);
  if (policy.maximumAttempts > 0 && attempt >= policy.maximumAttempts) return stop(RS.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
  let backoff = retryIntervalMs(policy, attempt);
  const nextDelay = failure?.applicationFailureInfo?.nextRetryDelay ? msFromDuration(failure.applicationFailureInfo.nextRetryDelay) : 0;
  if (nextDelay > 0) backoff = nextDelay;
  if (deadlineMs > 0 && nowMs + backoff >= deadlineMs) return stop(RS.RETRY_STATE_TIMEOUT);
  return { retryState: RS.RETRY_STATE_IN_PROGRESS, backoffMs: Math.round(backoff) };
}
