// Run-level lifecycle with the official worker and client: workflow retries create new runs
// that result() follows, cron chains, and parent close policies on children; on both stores.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { enums } from '../services/common/temporal.js';
import * as activities from './activities.js';
import { clientConnection, eventually, StoreFixture, storesUnderTest, TandemProcess, testReplay, workerConnection, workflowBundle } from './harness.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const Status = enums.WorkflowExecutionStatus;

for (const kind of storesUnderTest()) {
  describe(`workflow lifecycle on ${kind}`, () => {
    let store: StoreFixture;
    let server: TandemProcess;
    let client: Client;
    let worker: Worker;
    let running: Promise<void>;
    const taskQueue = `lifecycle-${randomUUID()}`;

    before(async () => {
      store = await StoreFixture.create(kind);
      server = await TandemProcess.start(store);
      client = new Client({ connection: await clientConnection(server.address) });
      worker = await Worker.create({ connection: await workerConnection(server.address), taskQueue, workflowBundle: await workflowBundle(), activities });
      running = worker.run();
    });

    after(async () => {
      worker?.shutdown();
      await running;
      await client?.connection.close();
      await server?.stop();
      await store?.dispose();
    });

    test('a failing workflow is retried as new runs and result() follows them', { timeout: 60_000 }, async () => {
      const h = await client.workflow.start('flaky', {
        taskQueue,
        workflowId: `flaky-${randomUUID()}`,
        retry: { initialInterval: '100ms', maximumAttempts: 5 },
      });
      assert.equal(await h.result(), 3);
      const first = await client.workflow.getHandle(h.workflowId, h.firstExecutionRunId).describe();
      assert.equal(first.status.name, 'FAILED');
      const runs = await eventually('three runs are listed', async () => {
        const list = [];
        for await (const w of client.workflow.list({ query: `WorkflowId = '${h.workflowId}'` })) list.push(w);
        return list.length === 3 ? list : undefined;
      });
      assert.deepEqual(runs.map((r) => r.status.name).sort(), ['COMPLETED', 'FAILED', 'FAILED']);
    });

    test('a cron workflow starts its next run after each one completes', { timeout: 90_000 }, async () => {
      const workflowId = `cron-${randomUUID()}`;
      const h = await client.workflow.start('cronTick', { taskQueue, workflowId, cronSchedule: '@every 1s' });
      const completed = await eventually(
        'two cron runs completed',
        async () => {
          const list = [];
          for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) list.push(w);
          const done = list.filter((w) => w.status.code === Status.WORKFLOW_EXECUTION_STATUS_COMPLETED);
          return done.length >= 2 ? done : undefined;
        },
        60_000,
      );
      assert.ok(completed.length >= 2);
      await h.terminate('enough');
    });

    test('parent close policy TERMINATE ends the child; ABANDON leaves it running', { timeout: 60_000 }, async () => {
      for (const [policy, expected] of [
        ['TERMINATE', 'TERMINATED'],
        ['ABANDON', 'RUNNING'],
      ] as const) {
        const childId = `child-${policy}-${randomUUID()}`;
        const parent = await client.workflow.start('abandoningParent', { taskQueue, workflowId: `parent-${randomUUID()}`, args: [childId, policy] });
        assert.equal(await parent.result(), childId);
        const status = await eventually(`child ends ${expected}`, async () => {
          const s = (await client.workflow.getHandle(childId).describe()).status.name;
          return s === expected ? s : undefined;
        });
        assert.equal(status, expected);
        if (expected === 'RUNNING') await client.workflow.getHandle(childId).terminate('cleanup');
      }
    });

    test('signals racing a completing workflow are never dropped', { timeout: 60_000 }, async () => {
      // The workflow completes in its first task; signals that land while that task runs force
      // the UnhandledCommand rule: the completion is refused and a new task sees the signals.
      for (let i = 0; i < 5; i++) {
        const h = await client.workflow.start('quickFinisher', { taskQueue, workflowId: `race-${randomUUID()}` });
        const sent = await Promise.allSettled([h.signal('wake'), h.signal('wake'), h.signal('wake')]);
        const acknowledged = sent.filter((s) => s.status === 'fulfilled').length;
        const seen = await h.result();
        const history = (await h.fetchHistory()).events ?? [];
        const signaled = history.filter((e) => e.eventType === enums.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).length;
        assert.equal(signaled, acknowledged, 'every acknowledged signal is in history');
        assert.equal(seen, signaled, 'the workflow saw every signal in its history before it completed');
      }
    });

    test('update-with-start starts the workflow and returns the update result (ExecuteMultiOperation)', { timeout: 60_000 }, async () => {
      const workflowId = `uws-${randomUUID()}`;
      const startOp = () =>
        new WithStartWorkflowOperation('moneyTransfer', { workflowId, taskQueue, args: [100, false], workflowIdConflictPolicy: 'USE_EXISTING' });
      const first = startOp();
      assert.equal(await client.workflow.executeUpdateWithStart('transfer', { args: [40], startWorkflowOperation: first }), 'transfer of 40 accepted');
      const handle = await first.workflowHandle();
      assert.deepEqual(await handle.result(), ['accepted 40', 'withdrew 40', 'deposited 40']);
      // The first run is closed: USE_EXISTING applies to running workflows only, so a second
      // update-with-start starts a new run and updates that one.
      const again = startOp();
      assert.equal(await client.workflow.executeUpdateWithStart('transfer', { args: [10], startWorkflowOperation: again }), 'transfer of 10 accepted');
      const second = await again.workflowHandle();
      assert.deepEqual(await second.result(), ['accepted 10', 'withdrew 10', 'deposited 10']);
      await eventually('two runs of the workflow id are listed', async () => {
        let runs = 0;
        for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs++;
        return runs === 2 ? runs : undefined;
      });
    });

    test('DeleteWorkflowExecution terminates a running run and removes it from describe, history and lists', { timeout: 60_000 }, async () => {
      const workflowId = `delete-${randomUUID()}`;
      const h = await client.workflow.start('sleeper', { taskQueue, workflowId });
      await eventually('the run is listed', async () => {
        for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) return w;
        return undefined;
      });
      await client.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId } });
      await assert.rejects(h.describe(), WorkflowNotFoundError);
      await assert.rejects(h.fetchHistory());
      let listed = 0;
      for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) listed++;
      assert.equal(listed, 0);
      // The id is free again.
      const again = await client.workflow.start('quickFinisher', { taskQueue, workflowId });
      assert.equal(await again.result(), 0);
    });

    test('an unknown workflow is NOT_FOUND for the client', async () => {
      await assert.rejects(client.workflow.getHandle(`missing-${randomUUID()}`).describe(), WorkflowNotFoundError);
    });

    testReplay(() => store);
  });
}
