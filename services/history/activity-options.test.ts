// UpdateActivityOptions' merge as the reference does it: field mask paths in either case, only the
// named fields changed, timeouts normalized, a named retry policy field checked, and every
// deadline of the activity read from the options it runs with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTandemError } from '../common/errors.js';
import { durationFromMs } from '../common/proto-time.js';
import { activityDeadline, fieldPath, mergeOptions, optionsToProto } from './activity-options.js';
import { newActivityProgress, type ActivityInfo } from './state.js';

const WORKFLOW_QUEUE = 'workflow-queue';

function activity(): ActivityInfo {
  return {
    scheduledEventId: 5,
    activityId: 'a1',
    activityType: 'charge',
    taskQueue: 'activities',
    scheduledTimeMs: 1_000,
    scheduleToStartMs: 60_000,
    scheduleToCloseMs: 60_000,
    startToCloseMs: 10_000,
    heartbeatTimeoutMs: 2_000,
    cancelRequested: false,
    cancelRequestedEventId: 0,
    retryPolicy: { initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 100_000, maximumAttempts: 0, nonRetryableErrorTypes: ['Fatal'] },
    progress: newActivityProgress(1_000),
  };
}

const paths = (...p: string[]) => new Set(p.map(fieldPath));
const invalid = (message: RegExp) => (err: unknown) => isTandemError(err, 'INVALID_ARGUMENT') && message.test(err.message);

test('field mask paths are read in snake case and camel case alike', () => {
  assert.equal(fieldPath('retry_policy.initial_interval'), 'retryPolicy.initialInterval');
  assert.equal(fieldPath('task_queue.name'), 'taskQueue.name');
  assert.equal(fieldPath('scheduleToCloseTimeout'), 'scheduleToCloseTimeout');
});

test('only the named fields change; the others and the non-retryable error types stay', () => {
  const merged = mergeOptions(
    activity(),
    { startToCloseTimeout: durationFromMs(30_000), heartbeatTimeout: durationFromMs(1), retryPolicy: { initialInterval: durationFromMs(5_000), maximumAttempts: 9 } },
    paths('start_to_close_timeout', 'retry_policy.initial_interval'),
    WORKFLOW_QUEUE,
  );
  assert.deepEqual(merged, {
    taskQueue: 'activities',
    scheduleToCloseMs: 60_000,
    scheduleToStartMs: 60_000,
    startToCloseMs: 30_000,
    heartbeatTimeoutMs: 2_000,
    retryPolicy: { initialIntervalMs: 5_000, backoffCoefficient: 2, maximumIntervalMs: 100_000, maximumAttempts: 0, nonRetryableErrorTypes: ['Fatal'] },
  });
});

test('timeouts are normalized as when scheduled: none longer than schedule-to-close, the heartbeat within start-to-close', () => {
  const merged = mergeOptions(activity(), { scheduleToCloseTimeout: durationFromMs(5_000) }, paths('schedule_to_close_timeout'), WORKFLOW_QUEUE);
  assert.deepEqual([merged.scheduleToCloseMs, merged.scheduleToStartMs, merged.startToCloseMs, merged.heartbeatTimeoutMs], [5_000, 5_000, 5_000, 2_000]);
  assert.throws(
    () => mergeOptions(activity(), {}, paths('schedule_to_close_timeout', 'start_to_close_timeout'), WORKFLOW_QUEUE),
    invalid(/A valid StartToClose or ScheduleToCloseTimeout is not set.*ActivityId=a1 ActivityType=charge/),
  );
});

test("an empty task queue name is the workflow's queue; a named field needs its message", () => {
  assert.equal(mergeOptions(activity(), { taskQueue: {} }, paths('task_queue.name'), WORKFLOW_QUEUE).taskQueue, WORKFLOW_QUEUE);
  assert.equal(mergeOptions(activity(), { taskQueue: { name: 'elsewhere' } }, paths('task_queue.name'), WORKFLOW_QUEUE).taskQueue, 'elsewhere');
  assert.throws(() => mergeOptions(activity(), {}, paths('task_queue.name'), WORKFLOW_QUEUE), invalid(/TaskQueue is not provided/));
  assert.throws(() => mergeOptions(activity(), {}, paths('retry_policy.maximum_attempts'), WORKFLOW_QUEUE), invalid(/RetryPolicy is not provided/));
});

test('a retry policy whose fields are named is checked', () => {
  assert.throws(
    () => mergeOptions(activity(), { retryPolicy: { backoffCoefficient: 0.5 } }, paths('retry_policy.backoff_coefficient'), WORKFLOW_QUEUE),
    invalid(/BackoffCoefficient cannot be less than 1/),
  );
  assert.throws(
    () => mergeOptions(activity(), { retryPolicy: { maximumInterval: durationFromMs(500) } }, paths('retry_policy.maximum_interval'), WORKFLOW_QUEUE),
    invalid(/MaximumInterval cannot be less than InitialInterval/),
  );
});

test("every deadline is read from the options the activity runs with; the answer shows them as the reference's describe does", () => {
  const act = activity();
  act.progress.started = true;
  act.progress.startedTimeMs = 2_000;
  assert.equal(activityDeadline(act, 'startToClose'), 12_000);
  act.progress.options = mergeOptions(act, { startToCloseTimeout: durationFromMs(40_000), heartbeatTimeout: {} }, paths('start_to_close_timeout', 'heartbeat_timeout'), WORKFLOW_QUEUE);
  assert.equal(activityDeadline(act, 'startToClose'), 42_000);
  assert.equal(activityDeadline(act, 'heartbeat'), 0, 'no heartbeat timeout any more');
  assert.equal(activityDeadline(act, 'scheduleToClose'), 61_000);
  const shown = optionsToProto(act.progress.options);
  assert.deepEqual(shown.taskQueue, { name: 'activities', normalName: 'activities' });
  assert.equal(shown.retryPolicy?.maximumAttempts, 0);
  assert.equal('nonRetryableErrorTypes' in (shown.retryPolicy ?? {}), false);
});
