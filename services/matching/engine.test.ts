import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiError, isTandemError } from '../common/errors.js';
import { silentLogger } from '../common/logger.js';
import { createRegistry, type Registry } from '../common/metrics.js';
import type { workflowservice as ws } from '../common/temporal.js';
import { openSqlitePersistence, type SqlitePersistence } from '../persistence/sqlite/index.js';
import type { QueuedTask } from '../persistence/types.js';
import type { AddTaskRequest, QueryTaskRequest, TaskQueueRef, TaskStarter } from './api.js';
import type { MatchingConfig } from './config.js';
import { MatchingEngine } from './engine.js';
import { DEFAULT_PRIORITY_KEY, PRIORITY_LEVELS, type TaskPriority } from './priority.js';
import { TASK_ID_BLOCK } from './taskQueue.js';
import { compareLevels, ZERO_LEVEL } from './task-level.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-matching-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const NS = 'ns-1';
const wfQueue = (name = 'orders'): TaskQueueRef => ({ namespaceId: NS, name, type: 1, kind: 1 });
const actQueue = (name = 'orders'): TaskQueueRef => ({ namespaceId: NS, name, type: 2, kind: 1 });

function task(workflowId: string, taskQueue = wfQueue(), scheduleToStartTimeoutMs = 0): AddTaskRequest {
  return { taskQueue, workflowId, runId: `${workflowId}-run`, scheduledEventId: 2, scheduleToStartTimeoutMs };
}

function prioritized(workflowId: string, priority: Partial<TaskPriority>, taskQueue = wfQueue()): AddTaskRequest {
  return { ...task(workflowId, taskQueue), priority: { priorityKey: 0, fairnessKey: '', fairnessWeight: 0, ...priority } };
}

interface StartCall {
  kind: 'workflow' | 'activity' | 'query';
  workflowId: string;
  queryId?: string;
  identity: string;
}

/**
 * History's side of the hand-off, as a recording double. `behave` decides each start: return to
 * start it, throw to fail it (apiError('TASK_NOT_FOUND') for a stale task).
 */
class RecordingStarter implements TaskStarter {
  readonly calls: StartCall[] = [];
  behave: (call: StartCall) => void | Promise<void> = () => {};

  async recordWorkflowTaskStarted(t: AddTaskRequest, poll: ws.IPollWorkflowTaskQueueRequest) {
    await this.record({ kind: 'workflow', workflowId: t.workflowId, identity: poll.identity ?? '' });
    return {
      taskToken: Buffer.from(`${t.workflowId}/${t.scheduledEventId}`),
      workflowExecution: { workflowId: t.workflowId, runId: t.runId },
      workflowExecutionTaskQueue: { name: t.taskQueue.name, kind: t.taskQueue.kind },
    };
  }

  async recordActivityTaskStarted(t: AddTaskRequest, poll: ws.IPollActivityTaskQueueRequest) {
    await this.record({ kind: 'activity', workflowId: t.workflowId, identity: poll.identity ?? '' });
    return {
      taskToken: Buffer.from(`${t.workflowId}/${t.scheduledEventId}`),
      workflowExecution: { workflowId: t.workflowId, runId: t.runId },
      activityId: String(t.scheduledEventId),
    };
  }

  async buildQueryTask(queryId: string, q: QueryTaskRequest, poll: ws.IPollWorkflowTaskQueueRequest) {
    await this.record({ kind: 'query', workflowId: q.execution.workflowId ?? '', queryId, identity: poll.identity ?? '' });
    return { taskToken: Buffer.from(queryId), workflowExecution: q.execution, query: q.query };
  }

  private async record(call: StartCall): Promise<void> {
    this.calls.push(call);
    await this.behave(call);
  }
}

interface Harness {
  engine: MatchingEngine;
  starter: RecordingStarter;
  registry: Registry;
  persistence: SqlitePersistence;
  /** Moves the engine's clock forward (task expiry). */
  advanceClock(ms: number): void;
  close(): Promise<void>;
}

let dbCount = 0;

async function harness(
  opts: { config?: Partial<MatchingConfig>; path?: string; starter?: RecordingStarter } = {},
): Promise<Harness> {
  const persistence = await openSqlitePersistence({ path: opts.path ?? join(dir, `m${++dbCount}.db`) });
  const starter = opts.starter ?? new RecordingStarter();
  const registry = createRegistry();
  let offset = 0;
  const engine = new MatchingEngine({
    store: persistence.taskQueues,
    starter,
    logger: silentLogger(),
    registry,
    config: opts.config,
    clock: () => Date.now() + offset,
  });
  await engine.start();
  return {
    engine,
    starter,
    registry,
    persistence,
    advanceClock: (ms) => {
      offset += ms;
    },
    close: async () => {
      await engine.stop();
      await persistence.close();
    },
  };
}

function pollWorkflow(engine: MatchingEngine, signal: AbortSignal, queue = 'orders', identity = 'worker-1', kind: 1 | 2 = 1) {
  return engine.pollWorkflowTaskQueue(NS, { namespace: 'default', taskQueue: { name: queue, kind }, identity }, signal);
}

function pollActivity(engine: MatchingEngine, signal: AbortSignal, queue = 'orders', identity = 'worker-1') {
  return engine.pollActivityTaskQueue(
    NS,
    { namespace: 'default', taskQueue: { name: queue }, identity, taskQueueMetadata: { maxTasksPerSecond: { value: 50 } } },
    signal,
  );
}

/** A poll that must get a task: fails the test (instead of hanging) if none comes. */
async function pollWorkflowId(engine: MatchingEngine, queue = 'orders'): Promise<string | null | undefined> {
  const resp = await pollWorkflow(engine, AbortSignal.timeout(10_000), queue);
  return resp.workflowExecution?.workflowId;
}

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const values = (await registry.getSingleMetric(name)!.get()).values;
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Waits (bounded) until check passes; for effects of background loops. */
async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Lets the engine's pending promise continuations run. */
const settle = () => new Promise((r) => setImmediate(r));

/** The stored tasks of every priority level, highest first. */
async function storedTasks(h: Harness, ref = wfQueue()): Promise<QueuedTask[]> {
  const levels = Array.from({ length: PRIORITY_LEVELS }, (_, i) => i + 1);
  const rows = await Promise.all(levels.map((level) => h.persistence.taskQueues.getTasks(ref, level, ZERO_LEVEL, 1000)));
  return rows.flat();
}

async function storedTaskIds(h: Harness, ref = wfQueue()): Promise<bigint[]> {
  return (await storedTasks(h, ref)).map((r) => r.taskId);
}

describe('matching engine', () => {
  test('sync match hands a new task straight to the waiting poller', async () => {
    const h = await harness();
    try {
      const poll = pollWorkflow(h.engine, AbortSignal.timeout(10_000));
      await settle();
      await h.engine.addWorkflowTask(task('wf-1'));
      const resp = await poll;
      assert.equal(resp.workflowExecution?.workflowId, 'wf-1');
      assert.deepEqual(h.starter.calls, [{ kind: 'workflow', workflowId: 'wf-1', identity: 'worker-1' }]);
      assert.deepEqual(await storedTaskIds(h), [], 'a sync-matched task is never persisted');
      assert.equal(await metric(h.registry, 'tandem_matching_tasks_added_total', { match: 'sync', task_type: 'workflow' }), 1);
      assert.equal(await metric(h.registry, 'tandem_matching_polls_total', { result: 'task' }), 1);
    } finally {
      await h.close();
    }
  });

  test('without a poller tasks are persisted, then delivered in order', async () => {
    const h = await harness();
    try {
      for (const id of ['wf-1', 'wf-2', 'wf-3']) await h.engine.addWorkflowTask(task(id));
      assert.equal((await storedTaskIds(h)).length, 3);
      const described = await h.engine.describeTaskQueue(NS, {
        taskQueue: { name: 'orders' },
        taskQueueType: 1,
        includeTaskQueueStatus: true,
        reportStats: true,
      });
      assert.equal(described.taskQueueStatus?.backlogCountHint?.toNumber(), 3);
      assert.equal(described.stats?.approximateBacklogCount?.toNumber(), 3);
      assert.equal(h.starter.calls.length, 0);

      assert.deepEqual([await pollWorkflowId(h.engine), await pollWorkflowId(h.engine), await pollWorkflowId(h.engine)], ['wf-1', 'wf-2', 'wf-3']);
      assert.equal(await metric(h.registry, 'tandem_matching_tasks_added_total', { match: 'backlog' }), 3);
      assert.equal(await metric(h.registry, 'tandem_matching_tasks_added_total', { match: 'sync' }), 0);
      const scheduleToStart = await h.registry.getSingleMetric('tandem_matching_schedule_to_start_seconds')!.get();
      const observed = scheduleToStart.values.find(
        (v) => (v as { metricName?: string }).metricName === 'tandem_matching_schedule_to_start_seconds_count',
      );
      assert.equal(observed?.value, 3);
    } finally {
      await h.close();
    }
  });

  test('tasks added while a write is in flight go together in the next write, and keep their order', async () => {
    const h = await harness();
    try {
      await h.engine.addWorkflowTask(task('wf-0'));
      const writes: number[] = [];
      const createTasks = h.persistence.taskQueues.createTasks.bind(h.persistence.taskQueues);
      h.persistence.taskQueues.createTasks = (key, rangeId, tasks) => {
        writes.push(tasks.length);
        return createTasks(key, rangeId, tasks);
      };
      const ids = Array.from({ length: 10 }, (_, i) => `wf-${i + 1}`);
      await Promise.all(ids.map((id) => h.engine.addWorkflowTask(task(id))));
      assert.equal(writes[0], 1, 'the first add is written at once');
      assert.equal(writes.reduce((a, b) => a + b, 0), ids.length);
      assert.ok(writes.length < ids.length, `the adds made while it was written went together: ${writes.join(', ')}`);
      const stored = await storedTaskIds(h);
      assert.deepEqual(stored, [...stored].sort((a, b) => (a < b ? -1 : 1)));
      const delivered: (string | null | undefined)[] = [];
      for (let i = 0; i <= ids.length; i++) delivered.push(await pollWorkflowId(h.engine));
      assert.deepEqual(delivered, ['wf-0', ...ids]);
    } finally {
      await h.close();
    }
  });

  test('workflow and activity tasks of one queue name are separate queues', async () => {
    const h = await harness();
    try {
      await h.engine.addActivityTask(task('wf-act', actQueue()));
      await h.engine.addWorkflowTask(task('wf-wft'));
      const act = await pollActivity(h.engine, AbortSignal.timeout(10_000));
      assert.equal(act.activityId, '2');
      assert.equal(act.workflowExecution?.workflowId, 'wf-act');
      assert.equal(await pollWorkflowId(h.engine), 'wf-wft');
      await assert.rejects(h.engine.addActivityTask(task('x', wfQueue())), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    } finally {
      await h.close();
    }
  });

  test('a persisted backlog survives a restart: a new engine on the same store delivers it', async () => {
    const path = join(dir, 'restart.db');
    const first = await harness({ path });
    for (const id of ['wf-1', 'wf-2']) await first.engine.addWorkflowTask(task(id));
    await first.close();

    const second = await harness({ path });
    try {
      assert.deepEqual([await pollWorkflowId(second.engine), await pollWorkflowId(second.engine)], ['wf-1', 'wf-2']);
      const described = await second.engine.describeTaskQueue(NS, { taskQueue: { name: 'orders' }, includeTaskQueueStatus: true });
      assert.equal(
        described.taskQueueStatus?.taskIdBlock?.startId?.toString(),
        (2n * TASK_ID_BLOCK).toString(),
        'the new owner leased the queue again and writes above the old block',
      );
      await second.engine.addWorkflowTask(task('wf-3'));
      assert.equal(await pollWorkflowId(second.engine), 'wf-3');
    } finally {
      await second.close();
    }
  });

  test('a long poll resolves with the all-default response on abort and after the max wait', async () => {
    const h = await harness({ config: { longPollMaxWaitMs: 20 } });
    try {
      const controller = new AbortController();
      const aborted = pollWorkflow(h.engine, controller.signal);
      await settle();
      controller.abort();
      assert.deepEqual(await aborted, {});
      assert.deepEqual(await pollWorkflow(h.engine, new AbortController().signal), {});
      assert.equal(await metric(h.registry, 'tandem_matching_polls_total', { result: 'empty' }), 2);
      assert.equal(h.starter.calls.length, 0);
    } finally {
      await h.close();
    }
  });

  test('a poll cancelled as a task arrives does not lose the task', async () => {
    const h = await harness();
    try {
      const controller = new AbortController();
      const cancelled = pollWorkflow(h.engine, controller.signal);
      await settle();
      const added = h.engine.addWorkflowTask(task('wf-1'));
      controller.abort();
      await added;
      assert.deepEqual(await cancelled, {});
      assert.equal(await pollWorkflowId(h.engine), 'wf-1');
      assert.equal(h.starter.calls.length, 1);
    } finally {
      await h.close();
    }
  });

  test('a poll cancelled while its start fails gets nothing and the task goes back to the queue', async () => {
    const h = await harness({ config: { startRetryInitialMs: 1 } });
    try {
      const controller = new AbortController();
      h.starter.behave = (call) => {
        if (call.identity === 'cancelled') {
          controller.abort();
          throw new Error('history unavailable');
        }
      };
      const cancelled = pollWorkflow(h.engine, controller.signal, 'orders', 'cancelled');
      await settle();
      await h.engine.addWorkflowTask(task('wf-1'));
      assert.deepEqual(await cancelled, {});
      assert.equal(await pollWorkflowId(h.engine), 'wf-1');
    } finally {
      await h.close();
    }
  });

  test('a poll cancelled after history recorded the start still gets its task', async () => {
    const h = await harness();
    try {
      const controller = new AbortController();
      h.starter.behave = () => controller.abort();
      const poll = pollWorkflow(h.engine, controller.signal);
      await settle();
      await h.engine.addWorkflowTask(task('wf-1'));
      assert.equal((await poll).workflowExecution?.workflowId, 'wf-1');
    } finally {
      await h.close();
    }
  });

  test('an add whose start waits for the adder (a caller holding the workflow lock) does not deadlock', async () => {
    const h = await harness({ config: { syncMatchMaxWaitMs: 20 } });
    try {
      let added: Promise<void> | undefined;
      // History's start needs the lock that the adder releases only once its add returned.
      h.starter.behave = () => added;
      const poll = pollWorkflow(h.engine, AbortSignal.timeout(10_000));
      await settle();
      added = h.engine.addWorkflowTask(task('wf-1'));
      await added;
      assert.equal((await poll).workflowExecution?.workflowId, 'wf-1');
    } finally {
      await h.close();
    }
  });

  test('a stale task is dropped and the poll keeps waiting for the next one', async () => {
    const h = await harness();
    try {
      h.starter.behave = (call) => {
        if (call.workflowId.startsWith('stale')) throw apiError('TASK_NOT_FOUND', 'workflow task already started');
      };
      // From the backlog...
      await h.engine.addWorkflowTask(task('stale-1'));
      await h.engine.addWorkflowTask(task('wf-1'));
      assert.equal(await pollWorkflowId(h.engine), 'wf-1');
      // ...and by sync match.
      const poll = pollWorkflow(h.engine, AbortSignal.timeout(10_000));
      await settle();
      await h.engine.addWorkflowTask(task('stale-2'));
      await h.engine.addWorkflowTask(task('wf-2'));
      assert.equal((await poll).workflowExecution?.workflowId, 'wf-2');
      assert.equal(await metric(h.registry, 'tandem_matching_tasks_dropped_total', { reason: 'stale' }), 2);
      await h.engine.stop();
      const lease = await h.persistence.taskQueues.leaseTaskQueue(wfQueue());
      const acked = lease.ackLevels[DEFAULT_PRIORITY_KEY]!;
      const rows = await storedTasks(h);
      assert.ok(rows.every((r) => compareLevels(r, acked) > 0), 'dropped and delivered tasks are acked');
      assert.deepEqual(rows, []);
    } finally {
      await h.close();
    }
  });

  test('a task whose start fails transiently is retried until it starts, without holding up the others', async () => {
    // The backoff only has to outlast the synchronous re-queue of the poller.
    const h = await harness({ config: { startRetryInitialMs: 20, startRetryMaxMs: 40 } });
    try {
      let failures = 0;
      h.starter.behave = (call) => {
        if (call.workflowId === 'wf-1' && failures < 3) {
          failures++;
          throw new Error('shard moved');
        }
      };
      await h.engine.addWorkflowTask(task('wf-1'));
      await h.engine.addWorkflowTask(task('wf-2'));
      // wf-1 backs off at the front of the queue while wf-2, behind it, is ready.
      assert.deepEqual([await pollWorkflowId(h.engine), await pollWorkflowId(h.engine)], ['wf-2', 'wf-1']);
      assert.deepEqual(
        h.starter.calls.map((c) => c.workflowId),
        ['wf-1', 'wf-2', 'wf-1', 'wf-1', 'wf-1'],
      );

      // A sync match whose start fails lands in the backlog and is retried from there.
      failures = 0;
      const first = pollWorkflow(h.engine, AbortSignal.timeout(10_000));
      await settle();
      await h.engine.addWorkflowTask(task('wf-1'));
      assert.equal((await first).workflowExecution?.workflowId, 'wf-1');
    } finally {
      await h.close();
    }
  });

  test('a task not started before its schedule-to-start timeout expires and is acked', async () => {
    const h = await harness();
    try {
      await h.engine.addWorkflowTask(task('wf-expiring', wfQueue(), 1_000));
      await h.engine.addWorkflowTask(task('wf-1'));
      h.advanceClock(5_000);
      assert.equal(await pollWorkflowId(h.engine), 'wf-1');
      assert.deepEqual(await pollWorkflow(h.engine, AbortSignal.timeout(30)), {});
      assert.deepEqual(h.starter.calls.map((c) => c.workflowId), ['wf-1']);
      assert.equal(await metric(h.registry, 'tandem_matching_tasks_dropped_total', { reason: 'expired' }), 1);
    } finally {
      await h.close();
    }
  });

  test('sticky queues stay in memory, report recent pollers, and shutdownWorker ends their polls', async () => {
    const h = await harness();
    const sticky: TaskQueueRef = { namespaceId: NS, name: 'worker-1-abc', type: 1, kind: 2 };
    try {
      assert.equal(h.engine.hasRecentPoller(sticky), false);
      await h.engine.addWorkflowTask(task('wf-sticky', sticky));
      assert.deepEqual(await storedTaskIds(h, sticky), [], 'sticky tasks are not persisted');
      const got = await pollWorkflow(h.engine, AbortSignal.timeout(10_000), sticky.name, 'worker-1', 2);
      assert.equal(got.workflowExecution?.workflowId, 'wf-sticky');
      assert.equal(got.workflowExecutionTaskQueue?.kind, 2);

      const waiting = pollWorkflow(h.engine, new AbortController().signal, sticky.name, 'worker-1', 2);
      await settle();
      assert.equal(h.engine.hasRecentPoller(sticky), true);
      h.engine.shutdownWorker(NS, sticky.name);
      assert.deepEqual(await waiting, {});
      assert.equal(h.engine.hasRecentPoller(sticky), false, 'the sticky queue is dropped');
      // Shutting down a normal queue's name is a no-op.
      h.engine.shutdownWorker(NS, 'orders');
    } finally {
      await h.close();
    }
  });

  test('an idle sticky queue is dropped', async () => {
    const h = await harness({ config: { ackFlushIntervalMs: 5 } });
    const sticky: TaskQueueRef = { namespaceId: NS, name: 'worker-2-abc', type: 1, kind: 2 };
    try {
      assert.deepEqual(await pollWorkflow(h.engine, AbortSignal.timeout(5), sticky.name, 'worker-2', 2), {});
      assert.equal(h.engine.hasRecentPoller(sticky), true);
      h.advanceClock(h.engine.config.idleQueueTimeoutMs + 1);
      await eventually(() => !h.engine.hasRecentPoller(sticky), 'the idle sticky queue to be dropped');
    } finally {
      await h.close();
    }
  });

  test('a query task round trip: dispatched ahead of normal tasks, answered by respondQueryTaskCompleted', async () => {
    const h = await harness();
    try {
      await h.engine.addWorkflowTask(task('wf-normal'));
      const query: QueryTaskRequest = {
        taskQueue: wfQueue(),
        execution: { workflowId: 'wf-q', runId: 'wf-q-run' },
        query: { queryType: 'status' },
      };
      const answer = h.engine.queryWorkflow(query, AbortSignal.timeout(10_000));
      // The query is queued once its Worker Versioning routing is read.
      await new Promise(setImmediate);
      const polled = await pollWorkflow(h.engine, AbortSignal.timeout(10_000));
      assert.equal(polled.query?.queryType, 'status', 'the query goes first');
      const queryId = Buffer.from(polled.taskToken!).toString();
      assert.deepEqual(h.starter.calls, [{ kind: 'query', workflowId: 'wf-q', queryId, identity: 'worker-1' }]);

      const completion: ws.IRespondQueryTaskCompletedRequest = { completedType: 1, queryResult: { payloads: [] } };
      await h.engine.respondQueryTaskCompleted(NS, queryId, completion);
      assert.deepEqual(await answer, completion);
      await assert.rejects(h.engine.respondQueryTaskCompleted(NS, queryId, completion), (e) => isTandemError(e, 'TASK_NOT_FOUND'));
      assert.equal(await pollWorkflowId(h.engine), 'wf-normal');
    } finally {
      await h.close();
    }
  });

  test('a query fails with DEADLINE_EXCEEDED on abort and UNAVAILABLE when no poller takes it', async () => {
    const h = await harness({ config: { queryDispatchTimeoutMs: 20 } });
    const query: QueryTaskRequest = { taskQueue: wfQueue(), execution: { workflowId: 'wf-q' }, query: { queryType: 'q' } };
    try {
      const controller = new AbortController();
      const aborted = h.engine.queryWorkflow(query, controller.signal);
      controller.abort();
      await assert.rejects(aborted, (e) => isTandemError(e, 'DEADLINE_EXCEEDED'));
      await assert.rejects(h.engine.queryWorkflow(query, new AbortController().signal), (e) => isTandemError(e, 'UNAVAILABLE'));

      // Taken but never answered.
      const unanswered = new AbortController();
      const pending = h.engine.queryWorkflow(query, unanswered.signal);
      const polled = await pollWorkflow(h.engine, AbortSignal.timeout(10_000));
      assert.equal(polled.query?.queryType, 'q');
      unanswered.abort();
      await assert.rejects(pending, (e) => isTandemError(e, 'DEADLINE_EXCEEDED') && /did not answer/.test(e.message));
      // The timed-out queries left nothing behind for the next poller.
      assert.deepEqual(await pollWorkflow(h.engine, AbortSignal.timeout(30)), {});
    } finally {
      await h.close();
    }
  });

  test('a query that history cannot build fails with history\'s error and the poll keeps waiting', async () => {
    const h = await harness();
    try {
      h.starter.behave = (call) => {
        if (call.kind === 'query') throw apiError('WORKFLOW_NOT_FOUND', 'wf-gone');
      };
      const poll = pollWorkflow(h.engine, AbortSignal.timeout(10_000));
      await settle();
      const query: QueryTaskRequest = { taskQueue: wfQueue(), execution: { workflowId: 'wf-gone' }, query: { queryType: 'q' } };
      await assert.rejects(h.engine.queryWorkflow(query, AbortSignal.timeout(10_000)), (e) => isTandemError(e, 'WORKFLOW_NOT_FOUND'));
      await h.engine.addWorkflowTask(task('wf-1'));
      assert.equal((await poll).workflowExecution?.workflowId, 'wf-1');
    } finally {
      await h.close();
    }
  });

  test('the ack level is persisted periodically and on stop, and acked tasks are deleted', async () => {
    const h = await harness({ config: { ackFlushIntervalMs: 10 } });
    try {
      for (const id of ['wf-1', 'wf-2', 'wf-3']) await h.engine.addWorkflowTask(task(id));
      const rows = await storedTasks(h);
      assert.equal(rows.length, 3);
      assert.equal(await pollWorkflowId(h.engine), 'wf-1');
      assert.equal(await pollWorkflowId(h.engine), 'wf-2');
      await eventually(async () => (await storedTaskIds(h)).length === 1, 'the periodic flush to delete acked tasks');

      assert.equal(await pollWorkflowId(h.engine), 'wf-3');
      await h.engine.stop();
      const lease = await h.persistence.taskQueues.leaseTaskQueue(wfQueue());
      const acked = lease.ackLevels[DEFAULT_PRIORITY_KEY]!;
      assert.ok(compareLevels(acked, rows[2]!) >= 0, `ack level ${acked.taskId} covers the last task ${rows[2]!.taskId}`);
      assert.deepEqual(await storedTaskIds(h), []);
    } finally {
      await h.close();
    }
  });

  test('a queue taken by another owner is leased again and the write retried', async () => {
    const h = await harness();
    try {
      await h.engine.addWorkflowTask(task('wf-1'));
      // Another matching host takes the queue and writes a task of its own.
      const other = await h.persistence.taskQueues.leaseTaskQueue(wfQueue());
      await h.persistence.taskQueues.createTasks(wfQueue(), other.rangeId, [
        {
          subqueue: DEFAULT_PRIORITY_KEY,
          pass: 0n,
          taskId: other.rangeId * TASK_ID_BLOCK,
          expiryTimeMs: 0,
          data: JSON.stringify({ workflowId: 'wf-other', runId: 'r', scheduledEventId: 2, scheduleToStartTimeoutMs: 0, createdAtMs: Date.now() }),
        },
      ]);
      await h.engine.addWorkflowTask(task('wf-2'));
      const ids = await storedTaskIds(h);
      assert.ok(ids[2] > other.rangeId * TASK_ID_BLOCK, 'the retried write used the new lease block');
      assert.deepEqual(
        [await pollWorkflowId(h.engine), await pollWorkflowId(h.engine), await pollWorkflowId(h.engine)],
        ['wf-1', 'wf-other', 'wf-2'],
      );
    } finally {
      await h.close();
    }
  });

  test('describeTaskQueue lists the pollers of the requested type', async () => {
    const h = await harness();
    try {
      assert.deepEqual(await pollActivity(h.engine, AbortSignal.timeout(5), 'orders', 'act-worker'), {});
      assert.deepEqual(await pollWorkflow(h.engine, AbortSignal.timeout(5), 'orders', 'wf-worker'), {});
      const activity = await h.engine.describeTaskQueue(NS, { taskQueue: { name: 'orders' }, taskQueueType: 2 });
      assert.deepEqual(activity.pollers?.map((p) => [p.identity, p.ratePerSecond]), [['act-worker', 50]]);
      assert.ok(activity.pollers?.[0].lastAccessTime?.seconds);
      assert.equal(activity.taskQueueStatus, undefined);
      const workflow = await h.engine.describeTaskQueue(NS, { taskQueue: { name: 'orders' }, taskQueueType: 1 });
      assert.deepEqual(workflow.pollers?.map((p) => p.identity), ['wf-worker']);
      const unknown = await h.engine.describeTaskQueue(NS, { taskQueue: { name: 'nobody' } });
      assert.deepEqual(unknown.pollers, []);
      await assert.rejects(h.engine.describeTaskQueue(NS, { taskQueue: { name: '' } }), (e) => isTandemError(e, 'REQUIRED'));
    } finally {
      await h.close();
    }
  });

  test('stop ends outstanding polls empty and refuses new work', async () => {
    const h = await harness();
    try {
      const polls = [pollWorkflow(h.engine, new AbortController().signal), pollActivity(h.engine, new AbortController().signal)];
      const query = h.engine.queryWorkflow(
        { taskQueue: wfQueue('other'), execution: { workflowId: 'wf' }, query: { queryType: 'q' } },
        new AbortController().signal,
      );
      await settle();
      await h.engine.stop();
      assert.deepEqual(await Promise.all(polls), [{}, {}]);
      await assert.rejects(query, (e) => isTandemError(e, 'UNAVAILABLE'));
      await assert.rejects(pollWorkflow(h.engine, new AbortController().signal), (e) => isTandemError(e, 'UNAVAILABLE'));
      await assert.rejects(h.engine.addWorkflowTask(task('wf-1')), (e) => isTandemError(e, 'UNAVAILABLE'));
    } finally {
      await h.close();
    }
  });
});

describe('priorities and fairness', () => {
  /** Polls `n` tasks (each must come) and answers their workflow ids in dispatch order. */
  async function pollIds(h: Harness, n: number, queue = 'orders'): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await pollWorkflowId(h.engine, queue)) ?? '(none)');
    return ids;
  }

  test('a higher priority (a lower key) is dispatched first, each level in order; unset keys are level 3, keys past 5 level 5', async () => {
    const h = await harness();
    try {
      const adds: AddTaskRequest[] = [
        prioritized('low-1', { priorityKey: 5 }),
        task('default-1'),
        prioritized('high-1', { priorityKey: 1 }),
        prioritized('two-1', { priorityKey: 2 }),
        prioritized('past-1', { priorityKey: 9 }),
        prioritized('low-2', { priorityKey: 5 }),
        prioritized('high-2', { priorityKey: 1 }),
        prioritized('default-2', { priorityKey: 0, fairnessWeight: 2 }),
      ];
      for (const a of adds) await h.engine.addWorkflowTask(a);
      assert.deepEqual(
        (await storedTasks(h)).map((r) => r.subqueue),
        [1, 1, 2, 3, 3, 5, 5, 5],
        'each task is stored in its level',
      );
      const described = await h.engine.describeTaskQueue(NS, { taskQueue: { name: 'orders' }, taskQueueType: 1, reportStats: true });
      assert.deepEqual(
        Object.entries(described.statsByPriorityKey ?? {}).map(([k, v]) => [Number(k), Number(v.approximateBacklogCount)]),
        [[1, 2], [2, 1], [3, 2], [5, 3]],
      );
      assert.deepEqual(await pollIds(h, 8), ['high-1', 'high-2', 'two-1', 'default-1', 'default-2', 'low-1', 'past-1', 'low-2']);
    } finally {
      await h.close();
    }
  });

  test('priority holds over a stored backlog larger than memory: each level is read apart', async () => {
    const h = await harness({ config: { backlogBatchSize: 3 } });
    try {
      for (let i = 1; i <= 8; i++) await h.engine.addWorkflowTask(prioritized(`low-${i}`, { priorityKey: 5 }));
      await h.engine.addWorkflowTask(task('default-1'));
      for (const id of ['high-1', 'high-2']) await h.engine.addWorkflowTask(prioritized(id, { priorityKey: 1 }));
      assert.deepEqual(await pollIds(h, 11), ['high-1', 'high-2', 'default-1', ...Array.from({ length: 8 }, (_, i) => `low-${i + 1}`)]);
    } finally {
      await h.close();
    }
  });

  test('a heavy fairness key cannot starve the others: a stored backlog is dispatched in turns', async () => {
    const h = await harness({ config: { backlogBatchSize: 5 } });
    try {
      for (let i = 1; i <= 30; i++) await h.engine.addWorkflowTask(prioritized(`heavy-${i}`, { fairnessKey: 'tenant-heavy' }));
      for (const key of ['a', 'b']) {
        for (let i = 1; i <= 3; i++) await h.engine.addWorkflowTask(prioritized(`${key}-${i}`, { fairnessKey: `tenant-${key}` }));
      }
      const first = await pollIds(h, 9);
      assert.deepEqual(first, ['heavy-1', 'a-1', 'b-1', 'heavy-2', 'a-2', 'b-2', 'heavy-3', 'a-3', 'b-3']);
      assert.deepEqual(await pollIds(h, 27), Array.from({ length: 27 }, (_, i) => `heavy-${i + 4}`), 'the heavy key keeps its own order');
    } finally {
      await h.close();
    }
  });

  test('dispatches are shared by fairness weight', async () => {
    const h = await harness({ config: { backlogBatchSize: 8 } });
    try {
      for (let i = 1; i <= 40; i++) {
        await h.engine.addWorkflowTask(prioritized(`std-${i}`, { fairnessKey: 'std' }));
        await h.engine.addWorkflowTask(prioritized(`gold-${i}`, { fairnessKey: 'gold', fairnessWeight: 4 }));
      }
      const first = await pollIds(h, 25);
      const gold = first.filter((id) => id.startsWith('gold')).length;
      assert.ok(gold >= 19 && gold <= 21, `gold (weight 4) got ${gold} of 25 dispatches, std (weight 1) the rest: 4 to 1 expected`);
    } finally {
      await h.close();
    }
  });

  test('priorities and fairness passes survive a restart: a new owner reads the stored levels', async () => {
    const path = join(dir, 'priority-restart.db');
    const first = await harness({ path, config: { backlogBatchSize: 2 } });
    for (let i = 1; i <= 4; i++) await first.engine.addWorkflowTask(prioritized(`heavy-${i}`, { fairnessKey: 'heavy' }));
    for (let i = 1; i <= 2; i++) await first.engine.addWorkflowTask(prioritized(`light-${i}`, { fairnessKey: 'light' }));
    await first.engine.addWorkflowTask(prioritized('urgent', { priorityKey: 1, fairnessKey: 'heavy' }));
    await first.close();

    const second = await harness({ path, config: { backlogBatchSize: 2 } });
    try {
      assert.deepEqual(await pollIds(second, 7), ['urgent', 'heavy-1', 'light-1', 'heavy-2', 'light-2', 'heavy-3', 'heavy-4']);
      await second.engine.addWorkflowTask(prioritized('again', { priorityKey: 2 }));
      const resp = await pollWorkflow(second.engine, AbortSignal.timeout(10_000));
      assert.equal(resp.workflowExecution?.workflowId, 'again');
    } finally {
      await second.close();
    }
  });
});
