// Issue 3 ("Workers: task queues, the worker protocol and Workflow Update") end to end: the
// official TypeScript worker and client against a real `tandem dev` process, on every store
// under test. Histories are checked event by event; activity executions are counted in the
// activities themselves, so a retry policy is proven by what ran, not only by what was written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import {
  ApplicationFailure,
  Client,
  Connection,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { enums, historyv1 } from '../services/common/temporal.js';
import * as activities from './activities.js';
import * as workerActivities from './worker-activities.js';
import { cancellations, executionsOf, resumes } from './worker-activities.js';
import { clientConnection, eventually, StoreFixture, storesUnderTest, tearDown, TandemProcess, testReplay, workerConnection, workflowBundle, type RunningWorker } from './harness.js';

type HistoryEvent = historyv1.IHistoryEvent;
const EventType = enums.EventType;
const NAMESPACE = 'default';
const TEST_TIMEOUT_MS = 60_000;

Runtime.install({ logger: new DefaultLogger('ERROR') });

const typeOf = (e: HistoryEvent) => EventType[e.eventType!].replace(/^EVENT_TYPE_/, '');
const typesOf = (events: HistoryEvent[]) => events.map(typeOf);
const num = (v: unknown) => Number(v ?? 0);

async function historyOf(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/** The names of the activities a history scheduled, in order. */
function scheduledActivities(events: HistoryEvent[]): string[] {
  return events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name!);
}

const WFT = ['WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED', 'WORKFLOW_TASK_COMPLETED'];
const activityRun = ['ACTIVITY_TASK_SCHEDULED', 'ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_COMPLETED'];


async function startWorker(native: NativeConnection, taskQueue: string): Promise<{ worker: Worker; running: Promise<void> }> {
  const worker = await Worker.create({
    connection: native,
    namespace: NAMESPACE,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: { ...activities, ...workerActivities },
    shutdownGraceTime: '1s',
  });
  return { worker, running: worker.run() };
}

for (const kind of storesUnderTest()) {
  describe(`worker protocol on ${kind}`, () => {
    let store: StoreFixture | undefined;
    let server: TandemProcess | undefined;
    let connection: Connection | undefined;
    let native: NativeConnection | undefined;
    let worker: RunningWorker | undefined;
    let client: Client;
    const taskQueue = `worker-${randomUUID()}`;

    const start = (workflowType: string, args: unknown[], extra: { workflowTaskTimeout?: string; taskQueue?: string } = {}) =>
      client.workflow.start(workflowType, { workflowId: `${workflowType}-${randomUUID()}`, taskQueue, args, ...extra });

    before(async () => {
      store = await StoreFixture.create(kind);
      server = await TandemProcess.start(store);
      connection = await clientConnection(server.address);
      client = new Client({ connection, namespace: NAMESPACE });
      native = await workerConnection(server.address);
      worker = await startWorker(native, taskQueue);
    });

    after(() => tearDown({ workers: worker ? [worker] : [], native, connection, server, store }));

    test('money transfer: a rejected update leaves no trace, an accepted one returns, the transfer completes', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('moneyTransfer', [100, false]);
      // The first workflow task must be done, so the update travels alone in a task of its own.
      const initial = await eventually('first workflow task completed', async () => {
        const events = await historyOf(h);
        return typesOf(events).includes('WORKFLOW_TASK_COMPLETED') ? events : undefined;
      });
      assert.deepEqual(typesOf(initial), ['WORKFLOW_EXECUTION_STARTED', ...WFT]);

      await assert.rejects(h.executeUpdate('transfer', { args: [500], updateId: 'too-much' }), (err: unknown) => {
        assert.ok(err instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(err)}`);
        assert.ok(err.cause instanceof ApplicationFailure, `the cause is the validator's failure: ${String(err.cause)}`);
        assert.equal(err.cause.message, 'amount 500 is over the limit of 100');
        return true;
      });
      const afterRejection = await historyOf(h);
      assert.deepEqual(typesOf(afterRejection), typesOf(initial), 'the rejected update added no event, not even a workflow task');
      assert.equal((await h.describe()).status.name, 'RUNNING');

      assert.equal(await h.executeUpdate('transfer', { args: [50], updateId: 'fifty' }), 'transfer of 50 accepted');
      assert.deepEqual(await h.result(), ['accepted 50', 'withdrew 50', 'deposited 50'], 'the rejected update never reached the handler');

      const events = await historyOf(h);
      assert.deepEqual(typesOf(events), [
        'WORKFLOW_EXECUTION_STARTED',
        ...WFT,
        ...WFT,
        'WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
        'WORKFLOW_EXECUTION_UPDATE_COMPLETED',
        ...activityRun,
        ...WFT,
        ...activityRun,
        ...WFT,
        'WORKFLOW_EXECUTION_COMPLETED',
      ]);
      assert.deepEqual(scheduledActivities(events), ['withdraw', 'deposit']);
      const accepted = events.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes)!.workflowExecutionUpdateAcceptedEventAttributes!;
      assert.equal(accepted.protocolInstanceId, 'fifty');
      assert.equal(accepted.acceptedRequest?.input?.name, 'transfer');
      const completed = events.find((e) => e.workflowExecutionUpdateCompletedEventAttributes)!.workflowExecutionUpdateCompletedEventAttributes!;
      assert.equal(completed.meta?.updateId, 'fifty');
      assert.ok(completed.outcome?.success, 'the update completed with a result');
      assert.equal(num(completed.acceptedEventId), num(events.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes)!.eventId));
      assert.ok(!JSON.stringify(events).includes('too-much'), 'the rejected update id appears nowhere in history');
      events.forEach((e, i) => assert.equal(num(e.eventId), i + 1, 'event ids are contiguous'));

      // Update ids deduplicate: asking again, even after the run closed, returns the recorded outcome.
      assert.equal(await h.executeUpdate('transfer', { args: [50], updateId: 'fifty' }), 'transfer of 50 accepted');
      assert.equal((await historyOf(h)).length, events.length, 'the repeated update added nothing');
    });

    test('money transfer: a non-retryable deposit failure is compensated by a refund after the update returned', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('moneyTransfer', [100, true]);
      assert.equal(await h.executeUpdate('transfer', { args: [80], updateId: 'eighty' }), 'transfer of 80 accepted');
      await assert.rejects(h.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
        assert.ok(err.cause instanceof ApplicationFailure);
        assert.equal(err.cause.type, 'TransferFailed');
        assert.equal(err.cause.nonRetryable, true);
        assert.equal(err.cause.message, 'transfer failed and was compensated: Activity task failed');
        assert.deepEqual(err.cause.details, [['accepted 80', 'withdrew 80', 'refunded 80']]);
        return true;
      });

      const events = await historyOf(h);
      const types = typesOf(events);
      // The update may be delivered with the first workflow task or in one of its own.
      const updateTasks = types.indexOf('WORKFLOW_EXECUTION_UPDATE_ACCEPTED') === 4 ? [] : WFT;
      assert.deepEqual(types, [
        'WORKFLOW_EXECUTION_STARTED',
        ...WFT,
        ...updateTasks,
        'WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
        'WORKFLOW_EXECUTION_UPDATE_COMPLETED',
        ...activityRun,
        ...WFT,
        'ACTIVITY_TASK_SCHEDULED',
        'ACTIVITY_TASK_STARTED',
        'ACTIVITY_TASK_FAILED',
        ...WFT,
        ...activityRun,
        ...WFT,
        'WORKFLOW_EXECUTION_FAILED',
      ]);
      assert.deepEqual(scheduledActivities(events), ['withdraw', 'deposit', 'refund']);
      const failed = events.find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!;
      assert.equal(failed.failure?.applicationFailureInfo?.type, 'InsufficientFunds');
      assert.equal(failed.failure?.message, 'account closed, cannot deposit 80');
      assert.equal(failed.retryState, enums.RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE);
      const depositStarted = events.find((e) => e.activityTaskStartedEventAttributes && num(e.activityTaskStartedEventAttributes.scheduledEventId) === num(failed.scheduledEventId));
      assert.equal(depositStarted?.activityTaskStartedEventAttributes?.attempt, 1, 'a non-retryable failure is not retried');
      const closed = events.at(-1)!.workflowExecutionFailedEventAttributes!;
      assert.equal(closed.failure?.applicationFailureInfo?.type, 'TransferFailed');
    });

    test('timers: the workflow sleeps and the timer fires', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('napper', [300]);
      assert.equal(await h.result(), 'slept 300');
      const events = await historyOf(h);
      assert.deepEqual(typesOf(events), ['WORKFLOW_EXECUTION_STARTED', ...WFT, 'TIMER_STARTED', 'TIMER_FIRED', ...WFT, 'WORKFLOW_EXECUTION_COMPLETED']);
      const started = events[4]!.timerStartedEventAttributes!;
      const fired = events[5]!.timerFiredEventAttributes!;
      assert.equal(fired.timerId, started.timerId);
      assert.equal(num(fired.startedEventId), 5);
    });

    test('signals and queries: the query answers the state after the signals', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('collector', []);
      await h.signal('append', 'first');
      await h.signal('append', 'second');
      assert.deepEqual(await h.query('items'), ['first', 'second']);
      await h.signal('append', 'third');
      assert.deepEqual(await h.query('items'), ['first', 'second', 'third']);
      await h.signal('close');
      assert.deepEqual(await h.result(), ['first', 'second', 'third']);
      const events = await historyOf(h);
      const signals = events.filter((e) => e.workflowExecutionSignaledEventAttributes).map((e) => e.workflowExecutionSignaledEventAttributes!.signalName);
      assert.deepEqual(signals, ['append', 'append', 'append', 'close']);
      assert.equal(typeOf(events.at(-1)!), 'WORKFLOW_EXECUTION_COMPLETED');
      assert.ok(!typesOf(events).includes('WORKFLOW_TASK_FAILED'), 'no workflow task failed');
    });

    test('a query on a closed workflow is answered from its replayed history', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('collector', []);
      await h.signal('append', 'only');
      await h.signal('close');
      assert.deepEqual(await h.result(), ['only']);
      assert.deepEqual(await h.query('items'), ['only']);
    });

    test('a child workflow is initiated, started and completed in the parent history', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('childParent', ['tandem']);
      const childId = `${h.workflowId}-child`;
      assert.equal(await h.result(), `parent got: child saw tandem in ${h.workflowId}`);
      const events = await historyOf(h);
      assert.deepEqual(typesOf(events), [
        'WORKFLOW_EXECUTION_STARTED',
        ...WFT,
        'START_CHILD_WORKFLOW_EXECUTION_INITIATED',
        'CHILD_WORKFLOW_EXECUTION_STARTED',
        ...WFT,
        'CHILD_WORKFLOW_EXECUTION_COMPLETED',
        ...WFT,
        'WORKFLOW_EXECUTION_COMPLETED',
      ]);
      const initiated = events[4]!.startChildWorkflowExecutionInitiatedEventAttributes!;
      assert.equal(initiated.workflowId, childId);
      assert.equal(initiated.workflowType?.name, 'echoChild');
      const childStarted = events[5]!.childWorkflowExecutionStartedEventAttributes!;
      assert.equal(num(childStarted.initiatedEventId), 5);
      const childCompleted = events[9]!.childWorkflowExecutionCompletedEventAttributes!;
      assert.equal(childCompleted.workflowExecution?.runId, childStarted.workflowExecution?.runId);

      const child = client.workflow.getHandle(childId);
      const childEvents = await historyOf(child);
      const childStart = childEvents[0]!.workflowExecutionStartedEventAttributes!;
      assert.equal(childStart.parentWorkflowExecution?.workflowId, h.workflowId);
      assert.equal(childStart.parentWorkflowExecution?.runId, h.firstExecutionRunId);
      assert.equal(num(childStart.parentInitiatedEventId), 5);
      assert.equal(typeOf(childEvents.at(-1)!), 'WORKFLOW_EXECUTION_COMPLETED');
    });

    test('continue-as-new: result() follows the chain to the last run', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('chain', [3, []]);
      assert.deepEqual(await h.result(), [3, 2, 1, 0]);
      let runId = h.firstExecutionRunId;
      const runs: string[] = [];
      for (;;) {
        runs.push(runId);
        const events = await historyOf(client.workflow.getHandle(h.workflowId, runId));
        const last = events.at(-1)!;
        if (typeOf(last) === 'WORKFLOW_EXECUTION_COMPLETED') break;
        assert.equal(typeOf(last), 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
        const nextRunId = last.workflowExecutionContinuedAsNewEventAttributes!.newExecutionRunId!;
        const next = await historyOf(client.workflow.getHandle(h.workflowId, nextRunId));
        assert.equal(next[0]!.workflowExecutionStartedEventAttributes?.continuedExecutionRunId, runId, 'the new run points back to its predecessor');
        assert.equal(next[0]!.workflowExecutionStartedEventAttributes?.firstExecutionRunId, h.firstExecutionRunId);
        runId = nextRunId;
        assert.ok(runs.length <= 4, 'the chain is four runs long');
      }
      assert.equal(runs.length, 4);
      assert.equal(new Set(runs).size, 4);
      assert.equal((await client.workflow.getHandle(h.workflowId).describe()).runId, runs.at(-1), 'the last run is the current one');
    });

    test('activity retries: two failures, then success on attempt 3 with a single started event', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('retriesActivity', ['retried']);
      assert.equal(await h.result(), 'retried after 3 executions');
      assert.equal(executionsOf(h.workflowId, 'flakyTwice'), 3);
      const events = await historyOf(h);
      assert.deepEqual(typesOf(events), ['WORKFLOW_EXECUTION_STARTED', ...WFT, ...activityRun, ...WFT, 'WORKFLOW_EXECUTION_COMPLETED']);
      const started = events[5]!.activityTaskStartedEventAttributes!;
      assert.equal(started.attempt, 3);
      assert.equal(started.lastFailure?.message, 'flaky failure 2', 'the started event carries the last failure');
      assert.equal(num(events[6]!.activityTaskCompletedEventAttributes!.startedEventId), 6);
    });

    test('a non-retryable error type stops the retries at once', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('nonRetryableActivity', []);
      assert.equal(await h.result(), 'failed with PermanentError: the input can never work');
      assert.equal(executionsOf(h.workflowId, 'permanentFailure'), 1);
      const events = await historyOf(h);
      assert.deepEqual(typesOf(events), [
        'WORKFLOW_EXECUTION_STARTED',
        ...WFT,
        'ACTIVITY_TASK_SCHEDULED',
        'ACTIVITY_TASK_STARTED',
        'ACTIVITY_TASK_FAILED',
        ...WFT,
        'WORKFLOW_EXECUTION_COMPLETED',
      ]);
      assert.equal(events[5]!.activityTaskStartedEventAttributes!.attempt, 1);
      const failed = events[6]!.activityTaskFailedEventAttributes!;
      assert.equal(failed.retryState, enums.RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE);
      assert.equal(failed.failure?.applicationFailureInfo?.type, 'PermanentError');
    });

    test('an activity that overruns its start-to-close timeout is retried', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('startToCloseRetry', [2500]);
      assert.equal(await h.result(), 'done on attempt 2', 'the late result of attempt 1 was not accepted');
      const events = await historyOf(h);
      assert.deepEqual(typesOf(events), ['WORKFLOW_EXECUTION_STARTED', ...WFT, ...activityRun, ...WFT, 'WORKFLOW_EXECUTION_COMPLETED']);
      const started = events[5]!.activityTaskStartedEventAttributes!;
      assert.equal(started.attempt, 2);
      assert.equal(started.lastFailure?.timeoutFailureInfo?.timeoutType, enums.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE);
      assert.ok(executionsOf(h.workflowId, 'slowFirstAttempt') === 2, 'attempt 1 ran once, attempt 2 once');
    });

    test('a heartbeat timeout retries the activity, which resumes from its heartbeat details', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('heartbeatResume', [5, 2, 3000]);
      assert.equal(await h.result(), 5, 'the stalled attempt 1 did not complete the activity');
      assert.deepEqual(resumes.get(h.workflowId), [
        { attempt: 1, resumedFrom: 0 },
        { attempt: 2, resumedFrom: 2 },
      ]);
      const events = await historyOf(h);
      assert.deepEqual(typesOf(events), ['WORKFLOW_EXECUTION_STARTED', ...WFT, ...activityRun, ...WFT, 'WORKFLOW_EXECUTION_COMPLETED']);
      const started = events[5]!.activityTaskStartedEventAttributes!;
      assert.equal(started.attempt, 2);
      assert.equal(started.lastFailure?.timeoutFailureInfo?.timeoutType, enums.TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    });

    test('a heartbeating activity learns of its cancellation through a heartbeat', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await start('heartbeatCancel', [1500]);
      assert.equal(await h.result(), 'activity cancelled');
      const seen = cancellations.get(h.workflowId);
      assert.equal(seen?.outcome, 'cancelled');
      assert.ok(seen.heartbeats >= 2, `the activity heartbeated before it was cancelled (${seen.heartbeats})`);
      assert.equal(executionsOf(h.workflowId, 'heartbeatUntilCancelled'), 1);
      const events = await historyOf(h);
      assert.deepEqual(typesOf(events), [
        'WORKFLOW_EXECUTION_STARTED',
        ...WFT,
        'ACTIVITY_TASK_SCHEDULED',
        'TIMER_STARTED',
        'TIMER_FIRED',
        ...WFT,
        'ACTIVITY_TASK_CANCEL_REQUESTED',
        'ACTIVITY_TASK_STARTED',
        'ACTIVITY_TASK_CANCELED',
        ...WFT,
        'WORKFLOW_EXECUTION_COMPLETED',
      ]);
      const canceled = events.find((e) => e.activityTaskCanceledEventAttributes)!.activityTaskCanceledEventAttributes!;
      assert.equal(num(canceled.scheduledEventId), 5);
      assert.equal(num(canceled.latestCancelRequestedEventId), num(events.find((e) => e.activityTaskCancelRequestedEventAttributes)!.eventId));
    });

    test('a workflow task nobody answers times out and is retried as attempt 2', { timeout: TEST_TIMEOUT_MS }, async () => {
      const silentQueue = `silent-${randomUUID()}`;
      const h = await start('napper', [10], { taskQueue: silentQueue, workflowTaskTimeout: '1s' });
      const polled = await connection!.workflowService.pollWorkflowTaskQueue({
        namespace: NAMESPACE,
        taskQueue: { name: silentQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        identity: 'a poller that never answers',
      });
      assert.equal(polled.workflowExecution?.workflowId, h.workflowId);
      assert.equal(polled.attempt, 1);

      // The retry is transient (as in Temporal): its events are written only when it completes,
      // so history shows the timeout and describe shows attempt 2 pending.
      const timedOut = await eventually('the workflow task timed out and was scheduled again', async () => {
        const events = await historyOf(h);
        const pending = (await h.describe()).raw.pendingWorkflowTask;
        return events.length >= 4 && pending?.attempt === 2 ? events : undefined;
      });
      assert.deepEqual(typesOf(timedOut), [
        'WORKFLOW_EXECUTION_STARTED',
        'WORKFLOW_TASK_SCHEDULED',
        'WORKFLOW_TASK_STARTED',
        'WORKFLOW_TASK_TIMED_OUT',
      ]);
      assert.equal(timedOut[3]!.workflowTaskTimedOutEventAttributes!.timeoutType, enums.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE);

      // The silent poller wakes up too late: its answer to the timed-out task is refused.
      await assert.rejects(
        connection!.workflowService.respondWorkflowTaskCompleted({ namespace: NAMESPACE, taskToken: polled.taskToken, identity: 'late', commands: [] }),
        (err: { code?: number }) => err.code === status.NOT_FOUND,
      );
      assert.deepEqual(typesOf(await historyOf(h)), typesOf(timedOut), 'the late answer left no trace');

      const rescuer = await startWorker(native!, silentQueue);
      try {
        assert.equal(await h.result(), 'slept 10');
      } finally {
        rescuer.worker.shutdown();
        await rescuer.running;
      }
      const events = await historyOf(h);
      assert.deepEqual(typesOf(events).slice(4), ['WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED', 'WORKFLOW_TASK_COMPLETED', 'TIMER_STARTED', 'TIMER_FIRED', ...WFT, 'WORKFLOW_EXECUTION_COMPLETED']);
      assert.equal(events[4]!.workflowTaskScheduledEventAttributes!.attempt, 2, 'the completed retry is written as attempt 2');
    });

    testReplay(() => store!);
  });
}
