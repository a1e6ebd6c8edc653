import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enums } from '../common/temporal.js';
import { durationFromMs, toLong, toNumber } from '../common/proto-time.js';

const L = (n: number) => toLong(BigInt(n));
import { foldHistory } from './event-fold.js';
import { MutableState } from './mutable-state.js';
import { differences, eventPart } from './replay-check.js';
import { generateTasks } from './task-generator.js';
import { retryDecision } from './retry-policy.js';
import type { RetryPolicyInfo } from './state.js';

const ET = enums.EventType;
const key = { namespaceId: 'ns', workflowId: 'wf', runId: 'run' };

function started(): MutableState {
  const ms = MutableState.empty(key, 7n, 'run');
  ms.addEvent(
    ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
    { workflowExecutionStartedEventAttributes: { workflowType: { name: 'T' }, taskQueue: { name: 'q' }, workflowRunTimeout: durationFromMs(60_000) } },
    1_000,
  );
  return ms;
}

test('events get contiguous ids, the namespace version and a version history', () => {
  const ms = started();
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, { workflowTaskScheduledEventAttributes: { taskQueue: { name: 'q' } } }, 1_001);
  const tx = ms.takeTransaction();
  assert.deepEqual(tx.events.map((e) => toNumber(e.eventId)), [1, 2]);
  assert.ok(tx.events.every((e) => toNumber(e.version) === 7));
  assert.deepEqual(ms.info.versionHistory, [{ eventId: 2, version: '7' }]);
  assert.equal(ms.info.runExpirationTimeMs, 61_000);
  assert.deepEqual(tx.tasks, [], 'events alone add no task: the transaction derives them once');
  const tasks = generateTasks(ms, tx.events, { nowMs: 1_002, retentionMs: 0 });
  assert.deepEqual(tasks.map((t) => t.type).sort(), ['runTimeout', 'visibility', 'workflowTask']);
});

test('tasks come from the state after the whole transaction: a timer started and canceled in it makes none', () => {
  const ms = started();
  ms.takeTransaction();
  ms.addEvent(ET.EVENT_TYPE_TIMER_STARTED, { timerStartedEventAttributes: { timerId: 't', startToFireTimeout: durationFromMs(5_000) } }, 2_000);
  ms.addEvent(ET.EVENT_TYPE_TIMER_CANCELED, { timerCanceledEventAttributes: { timerId: 't' } }, 2_000);
  assert.deepEqual(generateTasks(ms, ms.takeTransaction().events, { nowMs: 2_000, retentionMs: 0 }), []);
});

test('folding a history from scratch gives the state that wrote it', () => {
  const ms = started();
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, { workflowTaskScheduledEventAttributes: { taskQueue: { name: 'q' } } }, 1_001);
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, { workflowExecutionSignaledEventAttributes: { signalName: 's', requestId: 'r1' } }, 1_002);
  const events = ms.takeTransaction().events;
  // Stored events carry the task id of their write; the fold's size does not depend on it.
  for (const e of events) e.taskId = toLong(1n << 40n);
  const rebuilt = foldHistory(key, 'run', events);
  assert.deepEqual(differences(eventPart(ms.data), eventPart(rebuilt)), []);
  assert.deepEqual(rebuilt.info.signalRequestIds, ['r1'], 'signal dedup ids are folded from the signaled events');
});

test('events that arrive during a running workflow task wait in the buffer, then get ids in order', () => {
  const ms = started();
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, { workflowTaskScheduledEventAttributes: { taskQueue: { name: 'q' } } }, 1_001);
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_TASK_STARTED, { workflowTaskStartedEventAttributes: { scheduledEventId: L(2) } }, 1_002);
  ms.takeTransaction();
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, { workflowExecutionSignaledEventAttributes: { signalName: 'a' } }, 1_003);
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, { workflowExecutionSignaledEventAttributes: { signalName: 'b' } }, 1_004);
  assert.equal(ms.takeTransaction().events.length, 0);
  assert.equal(ms.progress.buffered.length, 2);
  assert.equal(ms.dirty, true, 'buffered events still need the write that acknowledges them');
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, { workflowTaskCompletedEventAttributes: { scheduledEventId: L(2), startedEventId: L(3) } }, 1_005);
  const flushed = ms.flushBuffered();
  assert.deepEqual(flushed.map((e) => [toNumber(e.eventId), e.workflowExecutionSignaledEventAttributes?.signalName]), [[5, 'a'], [6, 'b']]);
  assert.equal(ms.info.nextEventId, 7);
});

test('a signal (by its request id) and a cancel request are known while buffered behind a running workflow task, and after', () => {
  // A client's retry of a signal whose first attempt was buffered (its answer lost, e.g. a history
  // node paused past its lease) must not be buffered a second time.
  const ms = started();
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, { workflowTaskScheduledEventAttributes: { taskQueue: { name: 'q' } } }, 1_001);
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_TASK_STARTED, { workflowTaskStartedEventAttributes: { scheduledEventId: L(2) } }, 1_002);
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, { workflowExecutionSignaledEventAttributes: { signalName: 'add', requestId: 'req-1' } }, 1_003);
  assert.equal(ms.progress.buffered.length, 1);
  assert.equal(ms.hasSignal('req-1'), true, 'buffered');
  assert.equal(ms.hasSignal('req-2'), false);
  assert.equal(ms.cancelRequested, false);
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, { workflowExecutionCancelRequestedEventAttributes: { cause: 'test' } }, 1_003);
  assert.equal(ms.cancelRequested, true, 'a buffered cancel request counts: a retried one adds none');
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, { workflowTaskCompletedEventAttributes: { scheduledEventId: L(2), startedEventId: L(3) } }, 1_004);
  ms.flushBuffered();
  assert.equal(ms.hasSignal('req-1'), true, 'in history');
});

test('a buffered activity outcome points at its buffered started event once both get ids', () => {
  const ms = started();
  ms.addEvent(ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, { activityTaskScheduledEventAttributes: { activityId: '1', activityType: { name: 'A' }, startToCloseTimeout: durationFromMs(1000) } }, 1_001);
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, { workflowTaskScheduledEventAttributes: { taskQueue: { name: 'q' } } }, 1_002);
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_TASK_STARTED, { workflowTaskStartedEventAttributes: { scheduledEventId: L(3) } }, 1_003);
  ms.addEvent(ET.EVENT_TYPE_ACTIVITY_TASK_STARTED, { activityTaskStartedEventAttributes: { scheduledEventId: L(2), attempt: 1 } }, 1_004);
  ms.addEvent(ET.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, { activityTaskCompletedEventAttributes: { scheduledEventId: L(2), startedEventId: L(0) } }, 1_004);
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, { workflowTaskCompletedEventAttributes: { scheduledEventId: L(3), startedEventId: L(4) } }, 1_005);
  const [startedEvent, completed] = ms.flushBuffered();
  assert.equal(toNumber(startedEvent!.eventId), 6);
  assert.equal(toNumber(completed!.activityTaskCompletedEventAttributes!.startedEventId), 6);
  assert.equal(ms.activity(2), undefined);
});

test('a speculative workflow task writes nothing until it is materialized', () => {
  const ms = started();
  ms.takeTransaction();
  ms.speculative = { scheduledEventId: 2, startedEventId: 3, scheduledTimeMs: 1, startedTimeMs: 2, taskQueue: 'q', kind: 1, startToCloseMs: 10_000, identity: 'w', requestId: 'r' };
  assert.equal(ms.unpersistedTaskEvents().length, 2);
  assert.equal(ms.takeTransaction().events.length, 0);
  // Any new event first writes the speculative task's events, so ids stay contiguous.
  ms.addEvent(ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, { workflowExecutionSignaledEventAttributes: { signalName: 's' } }, 5);
  const tx = ms.takeTransaction();
  assert.deepEqual(tx.events.map((e) => [toNumber(e.eventId), e.eventType]), [
    [2, ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED],
    [3, ET.EVENT_TYPE_WORKFLOW_TASK_STARTED],
  ]);
  assert.equal(ms.progress.buffered.length, 1, 'the signal waits for the now-running task');
  assert.equal(ms.speculative, null);
});

test("an unpersisted task's started event tells what its start saw, written as the reference writes it", () => {
  const ms = started();
  ms.takeTransaction();
  const spec = { scheduledEventId: 2, startedEventId: 3, scheduledTimeMs: 1, startedTimeMs: 2, taskQueue: 'q', kind: 1 as const, startToCloseMs: 10_000, identity: 'w', requestId: 'r' };
  ms.speculative = { ...spec, startedAs: { historySizeBytes: 5_000_000, suggestContinueAsNew: true } };
  const shown = ms.unpersistedTaskEvents()[1]!.workflowTaskStartedEventAttributes!;
  assert.equal(toNumber(shown.historySizeBytes), 5_000_000);
  assert.equal(shown.suggestContinueAsNew, true);
  ms.speculative = { ...spec, startedAs: { historySizeBytes: 10, suggestContinueAsNew: false } };
  assert.ok(!('suggestContinueAsNew' in ms.unpersistedTaskEvents()[1]!.workflowTaskStartedEventAttributes!), 'false is left unset');
});

test('the state survives its blob', () => {
  const ms = started();
  const copy = MutableState.fromBlob(ms.toBlob(), 3, 7n);
  assert.deepEqual(copy.data, ms.data);
  assert.equal(copy.dbRecordVersion, 3);
});

test('retry decisions follow the policy and name why they stop, in the reference order', () => {
  const RS = enums.RetryState;
  const TT = enums.TimeoutType;
  const p: RetryPolicyInfo = { initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 350, maximumAttempts: 4, nonRetryableErrorTypes: ['Fatal', 'TemporalTimeout:TIMEOUT_TYPE_HEARTBEAT'] };
  const decide = (attempt: number, failure: object, now = 0, deadline = 0) => retryDecision(p, attempt, failure, now, deadline);
  assert.deepEqual(decide(1, {}), { retryState: RS.RETRY_STATE_IN_PROGRESS, backoffMs: 100 });
  assert.equal(decide(2, {}).backoffMs, 200);
  assert.equal(decide(3, {}).backoffMs, 350, 'capped by the maximum interval');
  assert.deepEqual(decide(4, {}), { retryState: RS.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED, backoffMs: -1 });
  assert.equal(decide(1, { applicationFailureInfo: { type: 'Fatal' } }).retryState, RS.RETRY_STATE_NON_RETRYABLE_FAILURE);
  assert.equal(decide(4, { applicationFailureInfo: { nonRetryable: true } }).retryState, RS.RETRY_STATE_NON_RETRYABLE_FAILURE, 'before the attempts count');
  assert.equal(decide(1, { timeoutFailureInfo: { timeoutType: TT.TIMEOUT_TYPE_START_TO_CLOSE } }).retryState, RS.RETRY_STATE_IN_PROGRESS);
  assert.equal(decide(1, { timeoutFailureInfo: { timeoutType: TT.TIMEOUT_TYPE_HEARTBEAT } }).retryState, RS.RETRY_STATE_NON_RETRYABLE_FAILURE, 'listed by the policy');
  assert.equal(decide(1, { timeoutFailureInfo: { timeoutType: TT.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE } }).retryState, RS.RETRY_STATE_NON_RETRYABLE_FAILURE);
  assert.equal(decide(1, { timeoutFailureInfo: { timeoutType: TT.TIMEOUT_TYPE_SCHEDULE_TO_START } }).retryState, RS.RETRY_STATE_NON_RETRYABLE_FAILURE);
  assert.equal(decide(1, { canceledFailureInfo: {} }).retryState, RS.RETRY_STATE_NON_RETRYABLE_FAILURE);
  assert.equal(decide(1, { serverFailureInfo: { nonRetryable: true } }).retryState, RS.RETRY_STATE_NON_RETRYABLE_FAILURE);
  assert.deepEqual(decide(1, {}, 1_000, 1_050), { retryState: RS.RETRY_STATE_TIMEOUT, backoffMs: -1 }, 'past the deadline');
  assert.equal(retryDecision(null, 1, {}, 0, 0).retryState, RS.RETRY_STATE_RETRY_POLICY_NOT_SET);
});
