// A worker that shuts down and a new one that takes over: workflows whose next task was meant
// for the old worker's sticky queue continue at once on the normal queue, not after the sticky
// schedule-to-start timeout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import * as activities from './activities.js';
import { clientConnection, StoreFixture, TandemProcess, testReplay, workerConnection, workflowBundle } from './harness.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('worker hand-over (sqlite)', () => {
  let store: StoreFixture;
  let server: TandemProcess;
  let client: Client;

  before(async () => {
    store = await StoreFixture.create('sqlite');
    server = await TandemProcess.start(store);
    client = new Client({ connection: await clientConnection(server.address) });
  });

  after(async () => {
    await client?.connection.close();
    await server?.stop();
    await store?.dispose();
  });

  test('a new worker picks up where a shut-down worker left off', { timeout: 60_000 }, async () => {
    const taskQueue = `handover-${randomUUID()}`;
    const connection = await workerConnection(server.address);
    const first = await Worker.create({ connection, taskQueue, workflowBundle: await workflowBundle(), activities, stickyQueueScheduleToStartTimeout: '30s' });
    const firstRun = first.run();
    const handles = await Promise.all(
      Array.from({ length: 5 }, () => client.workflow.start('waitForSignals', { taskQueue, workflowId: `handover-${randomUUID()}` })),
    );
    // Each workflow ran its first task on the first worker, which is now its sticky worker.
    for (const h of handles) {
      await h.signal('add', 1);
      assert.equal(await h.query('total'), 1);
    }
    first.shutdown();
    await firstRun;

    const second = await Worker.create({ connection, taskQueue, workflowBundle: await workflowBundle(), activities });
    const secondRun = second.run();
    try {
      for (const h of handles) await h.signal('done');
      assert.deepEqual(await Promise.all(handles.map((h) => h.result())), [1, 1, 1, 1, 1]);
      for (const h of handles) {
        const events = (await h.fetchHistory()).events ?? [];
        // Waiting out the sticky timeout would have written a WorkflowTaskTimedOut event.
        assert.equal(events.filter((e) => e.workflowTaskTimedOutEventAttributes).length, 0, 'no sticky timeout was needed');
      }
    } finally {
      second.shutdown();
      await secondRun;
      await connection.close();
    }
  });

  testReplay(() => store);
});
