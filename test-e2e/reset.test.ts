// ResetWorkflowExecution end to end with the official client and worker: a new run from the base
// run's history up to a workflow task, that task failed with RESET_WORKFLOW, the base run's later
// signals reapplied (or not, as asked), the old run terminated; a retried reset answers the same
// run; a point that does not end a workflow task is refused before anything changes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { enums } from '../services/common/temporal.js';
import { eventually, storesUnderTest } from './harness.js';
import { workerSuite } from './worker-suite.js';

const NAMESPACE = 'default';
const TEST_TIMEOUT_MS = 60_000;
const ET = enums.EventType;

Runtime.install({ logger: new DefaultLogger('ERROR') });

for (const kind of storesUnderTest()) {
  describe(`reset on ${kind}`, () => {
    const taskQueue = `reset-${randomUUID()}`;
    const suite = workerSuite(kind, { namespace: NAMESPACE, taskQueue });

    /** waitForSignals with `adds` signals, each seen by its own workflow task. */
    async function signalled(adds: number[]): Promise<WorkflowHandle> {
      const h = await suite.client.workflow.start('waitForSignals', { taskQueue, workflowId: `reset-${randomUUID()}` });
      // The first workflow task completes before any signal, so a reset to it precedes them all
      // (a signal sent at once may otherwise land before that task starts, on a slow store).
      await eventually('the first workflow task completed', async () =>
        (await h.fetchHistory()).events!.some((e) => e.eventType === ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) ? true : undefined,
      );
      let total = 0;
      for (const n of adds) {
        await h.signal('add', n);
        total += n;
        await eventually(`total ${total}`, async () => ((await h.query<number>('total')) === total ? true : undefined));
      }
      return h;
    }

    const firstWorkflowTaskCompleted = async (h: WorkflowHandle) =>
      Number((await h.fetchHistory()).events!.find((e) => e.eventType === ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)!.eventId);

    const reset = (h: WorkflowHandle, runId: string, finishEventId: number, extra: object = {}) =>
      suite.client.workflowService.resetWorkflowExecution({
        namespace: NAMESPACE,
        workflowExecution: { workflowId: h.workflowId, runId },
        reason: 'testing reset',
        workflowTaskFinishEventId: finishEventId as never,
        requestId: randomUUID(),
        ...extra,
      });

    test('a reset to the first workflow task reapplies the later signals to a new run and terminates the old one', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await signalled([1, 2]);
      const baseRunId = (await h.describe()).runId;
      const point = await firstWorkflowTaskCompleted(h);
      const { runId } = await reset(h, baseRunId, point);
      assert.ok(runId && runId !== baseRunId);
      const base = await suite.client.workflow.getHandle(h.workflowId, baseRunId).describe();
      assert.equal(base.status.name, 'TERMINATED');
      const fresh = suite.client.workflow.getHandle(h.workflowId, runId);
      await eventually('the new run saw both signals again', async () => ((await fresh.query<number>('total')) === 3 ? true : undefined));
      await suite.client.workflow.getHandle(h.workflowId).signal('done');
      assert.equal(await fresh.result(), 3);
      const events = (await fresh.fetchHistory()).events!;
      assert.deepEqual(
        events.slice(0, point + 1).map((e) => e.eventType),
        [ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, ET.EVENT_TYPE_WORKFLOW_TASK_STARTED, ET.EVENT_TYPE_WORKFLOW_TASK_FAILED, ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED],
      );
      const failed = events[point - 1]!.workflowTaskFailedEventAttributes!;
      assert.equal(failed.cause, enums.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW);
      assert.deepEqual([failed.baseRunId, failed.newRunId], [baseRunId, runId]);
      assert.equal(events.filter((e) => e.eventType === ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).length, 3, 'two reapplied and done');
    });

    test('reapply NONE leaves the later signals out; a retried reset answers the run it made', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await signalled([5]);
      const baseRunId = (await h.describe()).runId;
      const point = await firstWorkflowTaskCompleted(h);
      const requestId = randomUUID();
      const once = await reset(h, baseRunId, point, { requestId, resetReapplyType: enums.ResetReapplyType.RESET_REAPPLY_TYPE_NONE });
      const again = await reset(h, baseRunId, point, { requestId, resetReapplyType: enums.ResetReapplyType.RESET_REAPPLY_TYPE_NONE });
      assert.equal(again.runId, once.runId);
      await suite.client.workflow.getHandle(h.workflowId).signal('done');
      assert.equal(await suite.client.workflow.getHandle(h.workflowId, once.runId!).result(), 0);
    });

    test('a point that does not end a workflow task is refused and changes nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await signalled([]);
      const runId = (await h.describe()).runId;
      // Event 1 is the started event: 2 (the first task's scheduled event) does not end a task.
      await assert.rejects(reset(h, runId, 2), (err: { code?: number; details?: string }) => err.code === status.INVALID_ARGUMENT && /does not end a workflow task/.test(err.details ?? ''));
      await assert.rejects(reset(h, runId, 999), (err: { code?: number }) => err.code === status.INVALID_ARGUMENT);
      assert.equal((await h.describe()).status.name, 'RUNNING');
      await h.signal('done');
      assert.equal(await h.result(), 0);
    });

    test('GetWorkflowExecutionHistoryReverse pages the history newest first (how `temporal workflow reset --type LastWorkflowTask` finds its point)', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await signalled([1, 2]);
      const forward = (await h.fetchHistory()).events!.map((e) => Number(e.eventId));
      const reverse: number[] = [];
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await suite.client.workflowService.getWorkflowExecutionHistoryReverse({ namespace: NAMESPACE, execution: { workflowId: h.workflowId }, maximumPageSize: 3, nextPageToken });
        assert.ok((page.history?.events?.length ?? 0) <= 3);
        reverse.push(...(page.history?.events ?? []).map((e) => Number(e.eventId)));
        nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
      } while (nextPageToken);
      assert.deepEqual(reverse, [...forward].reverse());
      await h.signal('done');
      await h.result();
    });

    test('a reset to a workflow task started event (3) starts and fails that task, as the reference does', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await signalled([4]);
      const baseRunId = (await h.describe()).runId;
      const { runId } = await reset(h, baseRunId, 3);
      const fresh = suite.client.workflow.getHandle(h.workflowId, runId!);
      await eventually('the new run saw the signal again', async () => ((await fresh.query<number>('total')) === 4 ? true : undefined));
      const events = (await fresh.fetchHistory()).events!;
      assert.deepEqual(events.slice(0, 4).map((e) => e.eventType), [
        ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        ET.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        ET.EVENT_TYPE_WORKFLOW_TASK_FAILED,
      ]);
      await fresh.signal('done');
      assert.equal(await fresh.result(), 4);
    });
  });
}
