// PauseActivity, UnpauseActivity, ResetActivity and UpdateActivityOptions end to end with the
// official client and worker: a running activity learns of a pause or a reset from its heartbeat's
// answer (the SDK stops it, with `activity.cancellationDetails()` saying why, and reports the
// attempt failed); a paused activity then waits, undispatched, shown paused by describe whatever
// its retry policy says, and runs again once unpaused. New options take effect on the attempt
// under way: its timeouts, its retry's wait, the queue it is dispatched to.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { WorkflowHandle } from '@temporalio/client';
import { cancellationDetails, Context } from '@temporalio/activity';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { durationFromMs } from '../services/common/proto-time.js';
import { enums } from '../services/common/temporal.js';
import * as activities from './activities.js';
import { eventually, storesUnderTest } from './harness.js';
import { workerSuite } from './worker-suite.js';

const NAMESPACE = 'default';
const TEST_TIMEOUT_MS = 90_000;
const State = enums.PendingActivityState;

Runtime.install({ logger: new DefaultLogger('ERROR') });

/** What the SDK told each stopped attempt of heartbeatsUntilStopped (`activity.cancellationDetails()`), by workflow id. */
const stoppedBy = new Map<string, ReturnType<typeof cancellationDetails>>();

const recordingActivities = {
  ...activities,
  async heartbeatsUntilStopped(maxMs: number): Promise<string> {
    try {
      return await activities.heartbeatsUntilStopped(maxMs);
    } catch (err) {
      stoppedBy.set(Context.current().info.workflowExecution?.workflowId ?? '', cancellationDetails());
      throw err;
    }
  },
};

for (const kind of storesUnderTest()) {
  describe(`activity operator on ${kind}`, () => {
    const taskQueue = `activity-operator-${randomUUID()}`;
    const suite = workerSuite(kind, { namespace: NAMESPACE, taskQueue, activities: recordingActivities });

    const pending = async (h: WorkflowHandle) => (await suite.client.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId: h.workflowId } })).pendingActivities?.[0];
    const execution = (h: WorkflowHandle) => ({ workflowId: h.workflowId });

    test('a paused running activity stops at its next heartbeat, waits undispatched, and runs again once unpaused', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await suite.client.workflow.start('pausableActivity', { taskQueue, workflowId: `pause-${randomUUID()}`, args: [30_000] });
      await eventually('the activity runs', async () => ((await pending(h))?.state === State.PENDING_ACTIVITY_STATE_STARTED ? true : undefined));
      await suite.client.workflowService.pauseActivity({ namespace: NAMESPACE, execution: execution(h), type: 'heartbeatsUntilStopped', identity: 'sre', reason: 'downstream maintenance' });
      const paused = await eventually('stopped by its worker and waiting', async () => {
        const a = await pending(h);
        return a?.state === State.PENDING_ACTIVITY_STATE_PAUSED ? a : undefined;
      });
      assert.equal(paused.paused, true);
      assert.deepEqual([paused.pauseInfo?.manual?.identity, paused.pauseInfo?.manual?.reason], ['sre', 'downstream maintenance']);
      assert.equal(paused.attempt, 2, 'the stopped attempt ended');
      assert.equal(stoppedBy.get(h.workflowId)?.paused, true, 'the SDK said the attempt was paused');
      assert.equal(paused.lastFailure?.applicationFailureInfo?.type, 'ActivityPause', 'and reported it so');
      // Longer than the retry policy's backoff: a paused activity is not dispatched.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await pending(h))?.state, State.PENDING_ACTIVITY_STATE_PAUSED);
      await suite.client.workflowService.unpauseActivity({ namespace: NAMESPACE, execution: execution(h), type: 'heartbeatsUntilStopped', identity: 'sre' });
      assert.equal(await h.result(), 'attempt 2');
    });

    test('ResetActivity sends a paused activity back to attempt 1 and keeps it paused when asked; unpausing all runs it again', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await suite.client.workflow.start('pausableActivity', { taskQueue, workflowId: `reset-${randomUUID()}`, args: [30_000] });
      await eventually('the activity runs', async () => ((await pending(h))?.state === State.PENDING_ACTIVITY_STATE_STARTED ? true : undefined));
      await suite.client.workflowService.pauseActivity({ namespace: NAMESPACE, execution: execution(h), id: (await pending(h))!.activityId, identity: 'sre', reason: 'r' });
      await eventually('stopped', async () => ((await pending(h))?.state === State.PENDING_ACTIVITY_STATE_PAUSED ? true : undefined));
      await suite.client.workflowService.resetActivity({ namespace: NAMESPACE, execution: execution(h), type: 'heartbeatsUntilStopped', identity: 'sre', keepPaused: true });
      const kept = await pending(h);
      assert.deepEqual([kept?.attempt, kept?.state], [1, State.PENDING_ACTIVITY_STATE_PAUSED], 'back to attempt 1, still paused');
      await suite.client.workflowService.unpauseActivity({ namespace: NAMESPACE, execution: execution(h), unpauseAll: true, identity: 'sre' });
      // Attempt 1 again: it heartbeats until the workflow is done with it.
      await eventually('attempt 1 runs again', async () => ((await pending(h))?.state === State.PENDING_ACTIVITY_STATE_STARTED ? true : undefined));
      await h.terminate('done testing');
    });

    test('ResetActivity on a running attempt: its worker is told, the SDK stops it as reset, and the activity runs again', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await suite.client.workflow.start('pausableActivity', { taskQueue, workflowId: `reset-running-${randomUUID()}`, args: [30_000] });
      await eventually('the activity runs', async () => ((await pending(h))?.state === State.PENDING_ACTIVITY_STATE_STARTED ? true : undefined));
      await suite.client.workflowService.resetActivity({ namespace: NAMESPACE, execution: execution(h), type: 'heartbeatsUntilStopped', identity: 'sre' });
      assert.equal(await h.result(), 'attempt 2', 'the stopped attempt counted as attempt 1; the next one ran');
      assert.equal(stoppedBy.get(h.workflowId)?.reset, true, 'the SDK said the attempt was reset');
      const started = (await h.fetchHistory()).events!.find((e) => e.activityTaskStartedEventAttributes)!.activityTaskStartedEventAttributes!;
      assert.deepEqual([started.attempt, started.lastFailure?.applicationFailureInfo?.type], [2, 'ActivityReset']);
    });

    const failedOnce = (h: WorkflowHandle) =>
      eventually('the first attempt failed, the retry waits', async () => {
        const a = await pending(h);
        return a?.attempt === 2 && a.state === State.PENDING_ACTIVITY_STATE_SCHEDULED ? a : undefined;
      });
    const seconds = (d: { seconds?: unknown } | null | undefined) => Number(d?.seconds ?? 0);

    test('UpdateActivityOptions: a retry waiting out a long backoff runs once the new policy allows it', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await suite.client.workflow.start('slowlyRetriedActivity', { taskQueue, workflowId: `retry-options-${randomUUID()}` });
      await failedOnce(h);
      const { activityOptions } = await suite.client.workflowService.updateActivityOptions({
        namespace: NAMESPACE,
        execution: execution(h),
        type: 'failsFirstAttempt',
        activityOptions: { retryPolicy: { initialInterval: durationFromMs(1000) } },
        updateMask: { paths: ['retry_policy.initial_interval'] },
        identity: 'sre',
      });
      assert.deepEqual(
        [seconds(activityOptions?.retryPolicy?.initialInterval), activityOptions?.retryPolicy?.backoffCoefficient, seconds(activityOptions?.startToCloseTimeout), activityOptions?.taskQueue?.name],
        [1, 1, 10, taskQueue],
        'the merged options: only the named field changed',
      );
      assert.equal(await h.result(), 'attempt 2', 'the retry ran within seconds, not ten minutes');
    });

    test('a shorter start-to-close timeout ends the running attempt at once; the next one runs', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await suite.client.workflow.start('pausableActivity', { taskQueue, workflowId: `timeout-options-${randomUUID()}`, args: [30_000] });
      await eventually('the activity runs', async () => ((await pending(h))?.state === State.PENDING_ACTIVITY_STATE_STARTED ? true : undefined));
      await suite.client.workflowService.updateActivityOptions({
        namespace: NAMESPACE,
        execution: execution(h),
        matchAll: true,
        activityOptions: { startToCloseTimeout: durationFromMs(1000) },
        updateMask: { paths: ['start_to_close_timeout'] },
        identity: 'sre',
      });
      assert.equal(await h.result(), 'attempt 2', 'attempt 1 timed out long before its 30 s were up');
    });

    test('moved to a queue no worker polls, the retry waits there; moved back, it runs', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await suite.client.workflow.start('slowlyRetriedActivity', { taskQueue, workflowId: `queue-options-${randomUUID()}` });
      const { activityId } = await failedOnce(h);
      const nowhere = `${taskQueue}-nowhere`;
      await suite.client.workflowService.updateActivityOptions({
        namespace: NAMESPACE,
        execution: execution(h),
        id: activityId,
        activityOptions: { taskQueue: { name: nowhere }, retryPolicy: { initialInterval: durationFromMs(100) } },
        updateMask: { paths: ['task_queue.name', 'retry_policy.initial_interval'] },
        identity: 'sre',
      });
      await new Promise((r) => setTimeout(r, 1500));
      const waiting = await pending(h);
      assert.deepEqual([waiting?.attempt, waiting?.state, waiting?.activityOptions?.taskQueue?.name], [2, State.PENDING_ACTIVITY_STATE_SCHEDULED, nowhere]);
      await suite.client.workflowService.updateActivityOptions({
        namespace: NAMESPACE,
        execution: execution(h),
        id: activityId,
        activityOptions: { taskQueue: { name: taskQueue } },
        updateMask: { paths: ['task_queue.name'] },
        identity: 'sre',
      });
      assert.equal(await h.result(), 'attempt 2');
    });

    test('restore_original brings back the options the activity was scheduled with; it takes no field mask', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await suite.client.workflow.start('slowlyRetriedActivity', { taskQueue, workflowId: `restore-options-${randomUUID()}` });
      const scheduled = (await failedOnce(h)).activityOptions;
      const update = { namespace: NAMESPACE, execution: execution(h), type: 'failsFirstAttempt', identity: 'sre' };
      await suite.client.workflowService.updateActivityOptions({
        ...update,
        activityOptions: { heartbeatTimeout: durationFromMs(3000), retryPolicy: { maximumAttempts: 7 } },
        updateMask: { paths: ['heartbeat_timeout', 'retry_policy.maximum_attempts'] },
      });
      const changed = (await pending(h))?.activityOptions;
      assert.deepEqual([seconds(changed?.heartbeatTimeout), changed?.retryPolicy?.maximumAttempts], [3, 7], 'describe shows the options the activity runs with');
      await assert.rejects(
        suite.client.workflowService.updateActivityOptions({ ...update, restoreOriginal: true, updateMask: { paths: ['heartbeat_timeout'] } }),
        (err: { code?: number }) => err.code === status.INVALID_ARGUMENT,
      );
      const { activityOptions: restored } = await suite.client.workflowService.updateActivityOptions({ ...update, restoreOriginal: true });
      const shown = (o: typeof restored) => [seconds(o?.heartbeatTimeout), o?.retryPolicy?.maximumAttempts, seconds(o?.retryPolicy?.initialInterval), seconds(o?.startToCloseTimeout)];
      assert.deepEqual(shown(restored), shown(scheduled));
      assert.deepEqual(shown((await pending(h))?.activityOptions), shown(scheduled));
      await h.terminate('done testing');
    });

    test('an activity the workflow does not have is NOT_FOUND', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await suite.client.workflow.start('pausableActivity', { taskQueue, workflowId: `missing-${randomUUID()}`, args: [30_000] });
      await assert.rejects(
        suite.client.workflowService.pauseActivity({ namespace: NAMESPACE, execution: execution(h), id: 'no-such-activity', identity: 'sre' }),
        (err: { code?: number }) => err.code === status.NOT_FOUND,
      );
      await h.terminate('done testing');
    });
  });
}
