// Issue 2 ("Foundation") end to end: the official TypeScript client and worker against a real
// `tandem dev` process, on every store under test. The process is killed (SIGKILL) and started
// again between steps; whatever the server acknowledged before a kill must read back identically.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { temporal, type historyv1 } from '../services/common/temporal.js';
import * as activities from './activities.js';
import { clientConnection, StoreFixture, storesUnderTest, TandemProcess, testReplay, workerConnection, workflowBundle } from './harness.js';

const EventType = temporal.api.enums.v1.EventType;
const NAMESPACE = 'default';
/** A workflow type no worker implements, on a queue nobody polls: the server alone drives it. */
const IDLE_TYPE = 'foundationIdle';

Runtime.install({ logger: new DefaultLogger('ERROR') });

function eventTypes(events: historyv1.IHistoryEvent[] | null | undefined): string[] {
  return (events ?? []).map((e) => EventType[e.eventType!].replace(/^EVENT_TYPE_/, ''));
}

/** Retries check until it stops throwing, for reads that are eventually consistent; rethrows its last error. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** What a client can read of a run, as bytes: equal snapshots mean nothing changed. */
async function readBack(handle: WorkflowHandle): Promise<{ describe: string; history: string }> {
  const d = await handle.describe();
  const h = await handle.fetchHistory();
  return {
    describe: Buffer.from(temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.encode(d.raw).finish()).toString('hex'),
    history: Buffer.from(temporal.api.history.v1.History.encode(h).finish()).toString('hex'),
  };
}

for (const kind of storesUnderTest()) {
  describe(`foundation on ${kind}`, () => {
    let store: StoreFixture | undefined;
    let server: TandemProcess | undefined;
    let connection: Connection | undefined;
    let client: Client;
    const idleQueue = `nobody-polls-${randomUUID()}`;
    /** Every run the suite created: each restart checks all of them read back the same. */
    const runs = new Map<string, WorkflowHandle>();

    const remember = (h: WorkflowHandle, runId: string) => {
      const bound = client.workflow.getHandle(h.workflowId, runId);
      runs.set(`${h.workflowId}/${runId}`, bound);
      return bound;
    };

    const startIdle = async (workflowId: string, extra: { workflowRunTimeout?: string } = {}) => {
      const h = await client.workflow.start(IDLE_TYPE, { workflowId, taskQueue: idleQueue, args: ['input', 42], ...extra });
      remember(h, h.firstExecutionRunId);
      return h;
    };

    /** SIGKILL, start again on the same store, and check every acknowledged run reads back the same. */
    const crashAndCheck = async () => {
      const before = new Map<string, Awaited<ReturnType<typeof readBack>>>();
      for (const [k, h] of runs) before.set(k, await readBack(h));
      await server!.restart('SIGKILL');
      for (const [k, h] of runs) assert.deepEqual(await readBack(h), before.get(k), `${k} reads back the same after a crash`);
    };

    before(async () => {
      store = await StoreFixture.create(kind);
      server = await TandemProcess.start(store);
      connection = await clientConnection(server.address);
      client = new Client({ connection, namespace: NAMESPACE });
    });

    after(async () => {
      await connection?.close();
      await server?.stop();
      await store?.dispose();
    });

    const wfA = `a-${randomUUID()}`;
    const wfC = `c-${randomUUID()}`;
    let runA = '';

    test('start, describe, signal twice, survive a crash', async () => {
      const h = await startIdle(wfA);
      runA = h.firstExecutionRunId;
      const d = await h.describe();
      assert.equal(d.status.name, 'RUNNING');
      assert.equal(d.type, IDLE_TYPE);
      assert.equal(d.taskQueue, idleQueue);
      assert.equal(d.runId, runA);
      await h.signal('poke', 1);
      await h.signal('poke', 2);
      await crashAndCheck();
      const history = await h.fetchHistory();
      assert.deepEqual(eventTypes(history.events), [
        'WORKFLOW_EXECUTION_STARTED',
        'WORKFLOW_TASK_SCHEDULED',
        'WORKFLOW_EXECUTION_SIGNALED',
        'WORKFLOW_EXECUTION_SIGNALED',
      ]);
      assert.deepEqual(
        history.events!.slice(2).map((e) => e.workflowExecutionSignaledEventAttributes?.signalName),
        ['poke', 'poke'],
      );
    });

    test('signal-with-start signals an existing run and starts a new one with the signal in history', async () => {
      const existing = await startIdle(wfC);
      const sws = await client.workflow.signalWithStart(IDLE_TYPE, {
        workflowId: wfC,
        taskQueue: idleQueue,
        signal: 'hello',
        signalArgs: ['existing'],
      });
      assert.equal(sws.signaledRunId, existing.firstExecutionRunId, 'the running run was signaled, not replaced');
      assert.deepEqual(eventTypes((await existing.fetchHistory()).events), [
        'WORKFLOW_EXECUTION_STARTED',
        'WORKFLOW_TASK_SCHEDULED',
        'WORKFLOW_EXECUTION_SIGNALED',
      ]);

      const fresh = await client.workflow.signalWithStart(IDLE_TYPE, {
        workflowId: `b-${randomUUID()}`,
        taskQueue: idleQueue,
        signal: 'hello',
        signalArgs: ['fresh'],
      });
      remember(fresh, fresh.signaledRunId);
      const d = await fresh.describe();
      assert.equal(d.status.name, 'RUNNING');
      assert.equal(d.runId, fresh.signaledRunId);
      const events = (await fresh.fetchHistory()).events!;
      assert.deepEqual(eventTypes(events), ['WORKFLOW_EXECUTION_STARTED', 'WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_TASK_SCHEDULED']);
      assert.equal(events[1].workflowExecutionSignaledEventAttributes?.signalName, 'hello');
    });

    test('terminate closes the run; history in order; result() rejects with TerminatedFailure', async () => {
      const h = client.workflow.getHandle(wfA, runA);
      await h.terminate('foundation says stop');
      const d = await h.describe();
      assert.equal(d.status.name, 'TERMINATED');
      const events = (await h.fetchHistory()).events!;
      assert.deepEqual(eventTypes(events), [
        'WORKFLOW_EXECUTION_STARTED',
        'WORKFLOW_TASK_SCHEDULED',
        'WORKFLOW_EXECUTION_SIGNALED',
        'WORKFLOW_EXECUTION_SIGNALED',
        'WORKFLOW_EXECUTION_TERMINATED',
      ]);
      assert.equal(events[4].workflowExecutionTerminatedEventAttributes?.reason, 'foundation says stop');
      assert.deepEqual(
        events.map((e) => Number(e.eventId)),
        [1, 2, 3, 4, 5],
      );
      await assert.rejects(h.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
        assert.ok(err.cause instanceof TerminatedFailure, `expected TerminatedFailure cause, got ${String(err.cause)}`);
        return true;
      });
      await crashAndCheck();
    });

    test('a duplicate id of a running workflow is WorkflowExecutionAlreadyStartedError', async () => {
      await assert.rejects(
        client.workflow.start(IDLE_TYPE, { workflowId: wfC, taskQueue: idleQueue }),
        (err: unknown) => err instanceof WorkflowExecutionAlreadyStartedError,
      );
    });

    test('request-cancel adds WorkflowExecutionCancelRequested and the run stays open', async () => {
      const h = client.workflow.getHandle(wfC);
      await h.cancel();
      const events = (await h.fetchHistory()).events!;
      assert.equal(eventTypes(events).at(-1), 'WORKFLOW_EXECUTION_CANCEL_REQUESTED');
      assert.equal((await h.describe()).status.name, 'RUNNING', 'no worker ran, so nothing closed the run');
    });

    test('workflow-id reuse policy on a closed id', async () => {
      await assert.rejects(
        client.workflow.start(IDLE_TYPE, { workflowId: wfA, taskQueue: idleQueue, workflowIdReusePolicy: 'REJECT_DUPLICATE' }),
        (err: unknown) => err instanceof WorkflowExecutionAlreadyStartedError,
      );
      const again = await client.workflow.start(IDLE_TYPE, { workflowId: wfA, taskQueue: idleQueue, workflowIdReusePolicy: 'ALLOW_DUPLICATE' });
      assert.notEqual(again.firstExecutionRunId, runA);
      remember(again, again.firstExecutionRunId);
      assert.equal((await client.workflow.getHandle(wfA).describe()).runId, again.firstExecutionRunId, 'the new run is current');
      assert.equal((await client.workflow.getHandle(wfA, runA).describe()).status.name, 'TERMINATED', 'the old run is kept');
    });

    test('a run timeout fires after a crash: TIMED_OUT, result() rejects with TimeoutFailure', async () => {
      // The timer is written with the start; the process dies before it fires and must find it.
      const h = await startIdle(`t-${randomUUID()}`, { workflowRunTimeout: '3s' });
      await server!.restart('SIGKILL');
      await eventually(async () => assert.equal((await h.describe()).status.name, 'TIMED_OUT'));
      assert.equal(eventTypes((await h.fetchHistory()).events).at(-1), 'WORKFLOW_EXECUTION_TIMED_OUT');
      await assert.rejects(h.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
        assert.ok(err.cause instanceof TimeoutFailure, `expected TimeoutFailure cause, got ${String(err.cause)}`);
        return true;
      });
    });

    test('ListWorkflowExecutions finds both runs of a workflow id', async () => {
      const expected = [...runs.keys()].filter((k) => k.startsWith(`${wfA}/`)).map((k) => k.slice(wfA.length + 1)).sort();
      assert.equal(expected.length, 2);
      const listed = await eventually(async () => {
        const found = [];
        for await (const w of client.workflow.list({ query: `WorkflowId = '${wfA}'` })) found.push(w);
        assert.deepEqual(found.map((w) => w.runId).sort(), expected);
        return found;
      });
      const byRun = new Map(listed.map((w) => [w.runId, w]));
      assert.equal(byRun.get(runA)?.status.name, 'TERMINATED');
      assert.equal(byRun.get(expected.find((r) => r !== runA)!)?.status.name, 'RUNNING');
      for (const w of listed) {
        assert.equal(w.workflowId, wfA);
        assert.equal(w.type, IDLE_TYPE);
        assert.equal(w.taskQueue, idleQueue);
      }
      await crashAndCheck();
    });

    /** Runs fn with an official worker polling a fresh task queue; always shuts the worker down. */
    const withWorker = async (fn: (taskQueue: string) => Promise<void>) => {
      const taskQueue = `worker-${randomUUID()}`;
      const native = await workerConnection(server!.address);
      try {
        const worker = await Worker.create({ connection: native, namespace: NAMESPACE, taskQueue, workflowBundle: await workflowBundle(), activities });
        const running = worker.run();
        try {
          await fn(taskQueue);
        } finally {
          worker.shutdown();
          await running;
        }
      } finally {
        await native.close();
      }
    };

    test('the official worker completes greeter and waitForSignals across a crash', () =>
      withWorker(async (taskQueue) => {
        const greeter = await client.workflow.start('greeter', { workflowId: `g-${randomUUID()}`, taskQueue, args: ['tandem'] });
        assert.equal(await greeter.result(), 'hello tandem');

        const waiter = await client.workflow.start('waitForSignals', { workflowId: `w-${randomUUID()}`, taskQueue });
        await waiter.signal('add', 2);
        await waiter.signal('add', 3);
        // The worker has taken both signals in a completed workflow task before the crash.
        await eventually(async () => {
          const types = eventTypes((await waiter.fetchHistory()).events);
          assert.equal(types.filter((t) => t === 'WORKFLOW_EXECUTION_SIGNALED').length, 2);
          assert.equal(types.at(-1), 'WORKFLOW_TASK_COMPLETED');
        });

        await server!.restart('SIGKILL');

        await waiter.signal('add', 4);
        await waiter.signal('done');
        assert.equal(await waiter.result(), 9);
        assert.equal(eventTypes((await waiter.fetchHistory()).events).at(-1), 'WORKFLOW_EXECUTION_COMPLETED');
        const again = await client.workflow.start('greeter', { workflowId: `g-${randomUUID()}`, taskQueue, args: ['again'] });
        assert.equal(await again.result(), 'hello again');
      }));

    test('a query after acknowledged signals sees them (Temporal queries are consistent)', () =>
      withWorker(async (taskQueue) => {
        // Signals that land while the first workflow task runs make a second one; the query must
        // wait for it rather than answer from the worker's older state.
        for (let i = 0; i < 3; i++) {
          const waiter = await client.workflow.start('waitForSignals', { workflowId: `q-${randomUUID()}`, taskQueue });
          await waiter.signal('add', 2);
          await waiter.signal('add', 3);
          assert.equal(await waiter.query<number>('total'), 5, `query of run ${i}`);
          await waiter.signal('done');
          assert.equal(await waiter.result(), 5);
        }
      }));

    testReplay(() => store!);
  });
}
