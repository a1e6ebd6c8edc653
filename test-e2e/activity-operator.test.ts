// PauseActivity, UnpauseActivity and ResetActivity end to end with the official client and worker:
// a running activity learns of the pause from its heartbeat's answer (the SDK stops it with
// "paused" details and reports the attempt failed), the activity then waits, undispatched, shown
// paused by describe whatever its retry policy says, and runs again once unpaused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { enums } from '../services/common/temporal.js';
import * as activities from './activities.js';
import { clientConnection, eventually, StoreFixture, storesUnderTest, TandemProcess, workerConnection, workflowsPath } from './harness.js';

const NAMESPACE = 'default';
const TEST_TIMEOUT_MS = 90_000;
const State = enums.PendingActivityState;

Runtime.install({ logger: new DefaultLogger('ERROR') });

for (const kind of storesUnderTest()) {
  describe(`activity operator on ${kind}`, () => {
    let store: StoreFixture | undefined;
    let server: TandemProcess | undefined;
    let connection: Connection | undefined;
    let native: NativeConnection | undefined;
    let worker: { worker: Worker; running: Promise<void> } | undefined;
    let client: Client;
    const taskQueue = `activity-operator-${randomUUID()}`;

    before(async () => {
      store = await StoreFixture.create(kind);
      server = await TandemProcess.start(store);
      connection = await clientConnection(server.address);
      client = new Client({ connection, namespace: NAMESPACE });
      native = await workerConnection(server.address);
      const w = await Worker.create({
        connection: native,
        namespace: NAMESPACE,
        taskQueue,
        activities,
        workflowBundle: await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('ERROR') }),
        shutdownGraceTime: '1s',
      });
      worker = { worker: w, running: w.run() };
    });

    after(async () => {
      if (worker) {
        worker.worker.shutdown();
        await worker.running;
      }
      await native?.close();
      await connection?.close();
      await server?.stop();
      await store?.dispose();
    });

    const pending = async (h: WorkflowHandle) => (await client.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId: h.workflowId } })).pendingActivities?.[0];
    const execution = (h: WorkflowHandle) => ({ workflowId: h.workflowId });

    test('a paused running activity stops at its next heartbeat, waits undispatched, and runs again once unpaused', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await client.workflow.start('pausableActivity', { taskQueue, workflowId: `pause-${randomUUID()}`, args: [30_000] });
      await eventually('the activity runs', async () => ((await pending(h))?.state === State.PENDING_ACTIVITY_STATE_STARTED ? true : undefined));
      await client.workflowService.pauseActivity({ namespace: NAMESPACE, execution: execution(h), type: 'heartbeatsUntilStopped', identity: 'sre', reason: 'downstream maintenance' });
      const paused = await eventually('stopped by its worker and waiting', async () => {
        const a = await pending(h);
        return a?.state === State.PENDING_ACTIVITY_STATE_PAUSED ? a : undefined;
      });
      assert.equal(paused.paused, true);
      assert.deepEqual([paused.pauseInfo?.manual?.identity, paused.pauseInfo?.manual?.reason], ['sre', 'downstream maintenance']);
      assert.equal(paused.attempt, 2, 'the stopped attempt ended');
      assert.match(paused.lastFailure?.message ?? '', /paused/i);
      // Longer than the retry policy's backoff: a paused activity is not dispatched.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await pending(h))?.state, State.PENDING_ACTIVITY_STATE_PAUSED);
      await client.workflowService.unpauseActivity({ namespace: NAMESPACE, execution: execution(h), type: 'heartbeatsUntilStopped', identity: 'sre' });
      assert.equal(await h.result(), 'attempt 2');
    });

    test('ResetActivity sends a paused activity back to attempt 1 and keeps it paused when asked; unpausing all runs it again', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await client.workflow.start('pausableActivity', { taskQueue, workflowId: `reset-${randomUUID()}`, args: [30_000] });
      await eventually('the activity runs', async () => ((await pending(h))?.state === State.PENDING_ACTIVITY_STATE_STARTED ? true : undefined));
      await client.workflowService.pauseActivity({ namespace: NAMESPACE, execution: execution(h), id: (await pending(h))!.activityId, identity: 'sre', reason: 'r' });
      await eventually('stopped', async () => ((await pending(h))?.state === State.PENDING_ACTIVITY_STATE_PAUSED ? true : undefined));
      await client.workflowService.resetActivity({ namespace: NAMESPACE, execution: execution(h), type: 'heartbeatsUntilStopped', identity: 'sre', keepPaused: true });
      const kept = await pending(h);
      assert.deepEqual([kept?.attempt, kept?.state], [1, State.PENDING_ACTIVITY_STATE_PAUSED], 'back to attempt 1, still paused');
      await client.workflowService.unpauseActivity({ namespace: NAMESPACE, execution: execution(h), unpauseAll: true, identity: 'sre' });
      // Attempt 1 again: it heartbeats until the workflow is done with it.
      await eventually('attempt 1 runs again', async () => ((await pending(h))?.state === State.PENDING_ACTIVITY_STATE_STARTED ? true : undefined));
      await h.terminate('done testing');
    });

    test('an activity the workflow does not have is NOT_FOUND', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await client.workflow.start('pausableActivity', { taskQueue, workflowId: `missing-${randomUUID()}`, args: [30_000] });
      await assert.rejects(
        client.workflowService.pauseActivity({ namespace: NAMESPACE, execution: execution(h), id: 'no-such-activity', identity: 'sre' }),
        (err: { code?: number }) => err.code === status.NOT_FOUND,
      );
      await h.terminate('done testing');
    });
  });
}
