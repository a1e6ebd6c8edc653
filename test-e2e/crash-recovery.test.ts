// Crash recovery: a hundred transfers run on the official worker while the server is killed
// (SIGKILL) part way and started again on the same store. Every transfer must complete with the
// right result, and no activity may run more often than its retry policy allows: executions are
// counted in the activities themselves, so a lost or duplicated task shows up as a wrong count.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { enums } from '../services/common/temporal.js';
import * as workerActivities from './worker-activities.js';
import { executionsOf } from './worker-activities.js';
import { SIMPLE_TRANSFER_MAX_ATTEMPTS } from './workflows/worker-cases.js';
import { clientConnection, StoreFixture, storesUnderTest, TandemProcess, testReplay, workerConnection, workflowBundle } from './harness.js';

const NAMESPACE = 'default';
const WORKFLOWS = 100;
const CONCURRENCY = 20;
const CRASH_AFTER = 30;
const DEADLINE_MS = 4 * 60_000;

Runtime.install({ logger: new DefaultLogger('ERROR') });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Retries `fn` through the outage until the deadline: the SDK's own retries may give up while
 * the server is down. Failures the server decided (a failed workflow) are not retried.
 */
async function throughOutage<T>(what: string, deadline: number, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof WorkflowFailedError || Date.now() > deadline) throw new Error(`${what}: ${String(err)}`, { cause: err });
      await sleep(500);
    }
  }
}

for (const kind of storesUnderTest()) {
  describe(`crash recovery on ${kind}`, () => {
    let store: StoreFixture | undefined;
    let server: TandemProcess | undefined;
    let connection: Connection | undefined;
    let native: NativeConnection | undefined;
    let worker: Worker | undefined;
    let running: Promise<void> | undefined;
    let workerError: unknown;
    let client: Client;
    const taskQueue = `crash-${randomUUID()}`;

    before(async () => {
      store = await StoreFixture.create(kind);
      server = await TandemProcess.start(store);
      connection = await clientConnection(server.address);
      client = new Client({ connection, namespace: NAMESPACE });
      native = await workerConnection(server.address);
      worker = await Worker.create({
        connection: native,
        namespace: NAMESPACE,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: workerActivities,
        shutdownGraceTime: '1s',
      });
      running = worker.run().catch((err: unknown) => void (workerError = err));
    });

    after(async () => {
      worker?.shutdown();
      await running;
      await native?.close();
      await connection?.close();
      await server?.stop();
      await store?.dispose();
    });

    test(`${WORKFLOWS} transfers complete exactly once across a SIGKILL of the server`, { timeout: DEADLINE_MS + 30_000 }, async (t) => {
      const deadline = Date.now() + DEADLINE_MS;
      const runId = randomUUID().slice(0, 8);
      const ids = Array.from({ length: WORKFLOWS }, (_, i) => `transfer-${runId}-${i}`);
      const results = new Map<string, string[]>();
      let crash: Promise<void> | undefined;
      let inFlightAtCrash = 0;
      let inFlight = 0;

      const runOne = async (i: number) => {
        const workflowId = ids[i]!;
        await throughOutage(`start ${workflowId}`, deadline, async () => {
          try {
            await client.workflow.start('simpleTransfer', { workflowId, taskQueue, args: [i], workflowTaskTimeout: '5s' });
          } catch (err) {
            // An earlier attempt reached the server before the connection broke.
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          }
        });
        inFlight++;
        const result = await throughOutage(`result of ${workflowId}`, deadline, () => client.workflow.getHandle<() => Promise<string[]>>(workflowId).result());
        inFlight--;
        results.set(workflowId, result);
        if (results.size === CRASH_AFTER && !crash) {
          inFlightAtCrash = inFlight;
          crash = server!.restart('SIGKILL');
        }
      };

      let next = 0;
      const lanes = Array.from({ length: CONCURRENCY }, async () => {
        while (next < WORKFLOWS) await runOne(next++);
      });
      await Promise.all(lanes);
      assert.ok(crash, 'the server was killed during the run');
      await crash;
      assert.ok(inFlightAtCrash > 0, 'transfers were in flight when the server died');
      assert.equal(workerError, undefined, `the worker survived the restart: ${String(workerError)}`);

      assert.equal(results.size, WORKFLOWS);
      let reruns = 0;
      for (const [i, workflowId] of ids.entries()) {
        assert.deepEqual(results.get(workflowId), [`withdrew ${i}`, `deposited ${i}`], workflowId);
        for (const activity of ['countedWithdraw', 'countedDeposit']) {
          const n = executionsOf(workflowId, activity);
          assert.ok(n >= 1 && n <= SIMPLE_TRANSFER_MAX_ATTEMPTS, `${workflowId} ran ${activity} ${n} times (allowed 1..${SIMPLE_TRANSFER_MAX_ATTEMPTS})`);
          reruns += n - 1;
        }
        // One completed attempt per activity; every other attempt left no event but its started one.
        const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        const types = events.map((e) => e.eventType);
        assert.equal(types.filter((t) => t === enums.EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length, 2, `${workflowId}: two activities completed`);
        assert.equal(types.filter((t) => t === enums.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length, 2, `${workflowId}: two activities scheduled`);
        assert.equal(types.at(-1), enums.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, `${workflowId}: completed`);
        events.forEach((e, n) => assert.equal(Number(e.eventId), n + 1, `${workflowId}: event ids are contiguous`));
      }
      t.diagnostic(`${inFlightAtCrash} transfers in flight at the crash; ${reruns} activity executions were retries`);
    });

    testReplay(() => store!);
  });
}
