// The options an activity runs with (task queue, timeouts, retry policy): those of its scheduled
// event, or those an operator set with UpdateActivityOptions, merged by field mask as the reference
// merges them. No event records such a change: the options are part of the activity's non-event
// state (replicated with its progress), and every deadline of the activity is read from them, so
// a timer written under older options finds its deadline moved and does nothing.
import { apiError } from '../common/errors.js';
import { durationFromMs, optionalDurationMs } from '../common/proto-time.js';
import { checkRetryPolicy } from '../common/retry-policy.js';
import type { activityv1, commonv1 } from '../common/temporal.js';
import { retryPolicyFromProto, retryPolicyToProto } from './retry-policy.js';
import type { ActivityInfo, ActivityOptionsInfo } from './state.js';

export type ActivityTimeoutType = 'scheduleToStart' | 'scheduleToClose' | 'startToClose' | 'heartbeat';

type Timeouts = Pick<ActivityOptionsInfo, 'scheduleToCloseMs' | 'scheduleToStartMs' | 'startToCloseMs' | 'heartbeatTimeoutMs'>;

/** What the activity runs with now. */
export function activityOptions(act: ActivityInfo): ActivityOptionsInfo {
  return (
    act.progress.options ?? {
      taskQueue: act.taskQueue,
      scheduleToStartMs: act.scheduleToStartMs,
      scheduleToCloseMs: act.scheduleToCloseMs,
      startToCloseMs: act.startToCloseMs,
      heartbeatTimeoutMs: act.heartbeatTimeoutMs,
      retryPolicy: act.retryPolicy,
    }
  );
}

/** When the current attempt's `type` timeout falls under the options the activity runs with now; 0: never. */
export function activityDeadline(act: ActivityInfo, type: ActivityTimeoutType): number {
  const o = activityOptions(act);
  const p = act.progress;
  const after = (fromMs: number, timeoutMs: number) => (timeoutMs > 0 ? fromMs + timeoutMs : 0);
  switch (type) {
    case 'scheduleToStart':
      return after(p.currentAttemptScheduledTimeMs, o.scheduleToStartMs);
    case 'scheduleToClose':
      return after(act.scheduledTimeMs, o.scheduleToCloseMs);
    case 'startToClose':
      return after(p.startedTimeMs, o.startToCloseMs);
    case 'heartbeat':
      return after(Math.max(p.lastHeartbeatMs, p.startedTimeMs), o.heartbeatTimeoutMs);
  }
}

/**
 * Temporal's activity timeout rules: the unset ones filled from the others, none longer than the
 * schedule-to-close or run timeout (0: none), the heartbeat within start-to-close. Null when
 * neither a start-to-close nor a schedule-to-close timeout is set.
 */
export function normalizeTimeouts(t: Timeouts, runTimeoutMs: number): Timeouts | null {
  let { scheduleToCloseMs, startToCloseMs, scheduleToStartMs, heartbeatTimeoutMs } = t;
  if (runTimeoutMs > 0) {
    if (scheduleToCloseMs === 0 || scheduleToCloseMs > runTimeoutMs) scheduleToCloseMs = runTimeoutMs;
  }
  if (scheduleToCloseMs === 0 && startToCloseMs === 0) return null;
  if (startToCloseMs === 0) startToCloseMs = scheduleToCloseMs;
  if (scheduleToCloseMs > 0) {
    if (scheduleToStartMs === 0 || scheduleToStartMs > scheduleToCloseMs) scheduleToStartMs = scheduleToCloseMs;
    if (startToCloseMs > scheduleToCloseMs) startToCloseMs = scheduleToCloseMs;
  }
  if (heartbeatTimeoutMs > startToCloseMs) heartbeatTimeoutMs = startToCloseMs;
  return { scheduleToCloseMs, startToCloseMs, scheduleToStartMs, heartbeatTimeoutMs };
}

/** A field mask path as the reference reads it: `retry_policy.initial_interval` and `retryPolicy.initialInterval` alike. */
export function fieldPath(path: string): string {
  const camel = (part: string) =>
    part
      .split('_')
      .map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()))
      .join('');
  return path.split('.').map(camel).join('.');
}

const TIMEOUT_PATHS = [
  ['scheduleToCloseTimeout', 'scheduleToCloseMs'],
  ['scheduleToStartTimeout', 'scheduleToStartMs'],
  ['startToCloseTimeout', 'startToCloseMs'],
  ['heartbeatTimeout', 'heartbeatTimeoutMs'],
] as const;

const RETRY_FIELDS = ['initialInterval', 'backoffCoefficient', 'maximumInterval', 'maximumAttempts'] as const;

/**
 * UpdateActivityOptions' merge of the fields `paths` names (fieldPath form) from `from` into
 * `current`, as the reference does it: an empty task queue name is the workflow's queue; a retry
 * policy whose fields are named is checked; the timeouts are normalized with no run timeout to cap
 * them. The policy's non-retryable error types stay (the reference never changes them). Other
 * paths are ignored, as the reference ignores them, the priority ones included: an activity keeps
 * the priority it was scheduled with.
 */
export function mergeOptions(
  act: ActivityInfo,
  from: activityv1.IActivityOptions,
  paths: ReadonlySet<string>,
  workflowTaskQueue: string,
): ActivityOptionsInfo {
  const current = activityOptions(act);
  let taskQueue = current.taskQueue;
  if (paths.has('taskQueue.name')) {
    if (!from.taskQueue) throw apiError('INVALID_ARGUMENT', 'TaskQueue is not provided');
    taskQueue = from.taskQueue.name || workflowTaskQueue;
  }
  const timeouts: Timeouts = { ...current };
  for (const [path, field] of TIMEOUT_PATHS) if (paths.has(path)) timeouts[field] = optionalDurationMs(from[path]);
  const normalized = normalizeTimeouts(timeouts, 0);
  if (!normalized) {
    throw apiError(
      'INVALID_ARGUMENT',
      `A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand. ActivityId=${act.activityId} ActivityType=${act.activityType}`,
    );
  }
  return { taskQueue, ...normalized, retryPolicy: mergeRetryPolicy(current.retryPolicy, from.retryPolicy, paths) };
}

function mergeRetryPolicy(current: ActivityOptionsInfo['retryPolicy'], from: commonv1.IRetryPolicy | null | undefined, paths: ReadonlySet<string>): ActivityOptionsInfo['retryPolicy'] {
  const fields = RETRY_FIELDS.filter((f) => paths.has(`retryPolicy.${f}`));
  if (!paths.has('retryPolicy') && fields.length === 0) return current;
  if (!from) throw apiError('INVALID_ARGUMENT', 'RetryPolicy is not provided');
  const merged: commonv1.IRetryPolicy = { ...(paths.has('retryPolicy') ? from : retryPolicyToProto(current)) };
  for (const f of fields) Object.assign(merged, { [f]: from[f] });
  if (fields.length > 0) checkRetryPolicy(merged);
  return { ...retryPolicyFromProto(merged)!, nonRetryableErrorTypes: current?.nonRetryableErrorTypes ?? [] };
}

/** The options as the API shows them (describe, UpdateActivityOptions' answer), without the non-retryable types, as the reference. */
export function optionsToProto(o: ActivityOptionsInfo): activityv1.IActivityOptions {
  const policy = retryPolicyToProto(o.retryPolicy);
  return {
    taskQueue: { name: o.taskQueue, normalName: o.taskQueue },
    scheduleToCloseTimeout: durationFromMs(o.scheduleToCloseMs),
    scheduleToStartTimeout: durationFromMs(o.scheduleToStartMs),
    startToCloseTimeout: durationFromMs(o.startToCloseMs),
    heartbeatTimeout: durationFromMs(o.heartbeatTimeoutMs),
    retryPolicy: policy && { initialInterval: policy.initialInterval, backoffCoefficient: policy.backoffCoefficient, maximumInterval: policy.maximumInterval, maximumAttempts: policy.maximumAttempts },
  };
}
