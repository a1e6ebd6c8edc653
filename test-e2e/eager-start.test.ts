// Eager workflow start with the official SDK: a client sharing its NativeConnection with a worker
// asks for the first workflow task in the start's answer; its worker runs it at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { enums } from '../services/common/temporal.js';
import * as activities from './activities.js';
import { StoreFixture, storesUnderTest, tearDown, TandemProcess, workerConnection, workflowBundle, type RunningWorker } from './harness.js';

const NAMESPACE = 'default';
const TEST_TIMEOUT_MS = 60_000;

Runtime.install({ logger: new DefaultLogger('ERROR') });

for (const kind of storesUnderTest()) {
  describe(`eager workflow start on ${kind}`, () => {
    let store: StoreFixture | undefined;
    let server: TandemProcess | undefined;
    let native: NativeConnection | undefined;
    let worker: RunningWorker | undefined;
    let client: Client;
    const taskQueue = `eager-${randomUUID()}`;

    before(async () => {
      store = await StoreFixture.create(kind);
      server = await TandemProcess.start(store);
      native = await workerConnection(server.address);
      client = new Client({ connection: native, namespace: NAMESPACE });
      const w = await Worker.create({
        connection: native,
        namespace: NAMESPACE,
        taskQueue,
        activities,
        workflowBundle: await workflowBundle(),
        shutdownGraceTime: '1s',
      });
      worker = { worker: w, running: w.run() };
    });

    after(() => tearDown({ workers: worker ? [worker] : [], native, server, store }));

    test('the start answers the first workflow task and the worker runs it; the history is an ordinary one', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await client.workflow.start('greeter', { taskQueue, workflowId: `eager-${randomUUID()}`, args: ['eager'], requestEagerStart: true });
      assert.equal(h.eagerlyStarted, true);
      assert.equal(await h.result(), 'hello eager');
      const events = (await h.fetchHistory()).events!.slice(0, 4).map((e) => e.eventType);
      assert.deepEqual(events, [
        enums.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        enums.EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        enums.EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        enums.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
      ]);
    });

    test('a delayed start is not eager', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await client.workflow.start('greeter', { taskQueue, workflowId: `eager-${randomUUID()}`, args: ['later'], requestEagerStart: true, startDelay: '1s' });
      assert.equal(h.eagerlyStarted, false);
      assert.equal(await h.result(), 'hello later');
    });
  });
}
