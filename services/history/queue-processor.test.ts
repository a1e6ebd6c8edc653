// A shard's task queues on the real SQLite store, with a stand-in for the task executor (the
// queue's collaborator): tasks of a passive namespace are parked, neither run again nor deleted,
// until the namespace changes; ack levels are persisted and the rows below them deleted; a new
// owner starts at the persisted levels and never runs a done task again.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiError } from '../common/errors.js';
import { silentLogger } from '../common/logger.js';
import { StoreUnavailableError } from '../persistence/errors.js';
import { sleep } from '../common/lifecycle.js';
import { waitFor } from '../membership/test-helpers.js';
import { append, execution, freshKey, task } from '../persistence/conformance/fixtures.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import type { Persistence } from '../persistence/store.js';
import type { HistoryTask } from '../persistence/types.js';
import { compileHistoryConfig, type HistoryConfig } from './config.js';
import type { TaskRunner } from './queue-processor.js';
import { Shard, TASK_ID_BITS, type ShardListener } from './shard.js';
import { ShardQueues, parseAckLevels } from './shard-queues.js';

const SHARD = 3;
const ACTIVE = 'ns-active';
const PASSIVE = 'ns-passive';

/** The executor's contract: a passive namespace's task fails with NAMESPACE_NOT_ACTIVE. */
class FakeRunner implements TaskRunner {
  readonly passive = new Set<string>();
  readonly attempts = new Map<bigint, number>();
  readonly done: HistoryTask[] = [];
  /** Runs just before a refusal: the namespace may change while the executor looks at it. */
  beforeRefusal?: () => void;

  async execute(t: HistoryTask): Promise<void> {
    this.attempts.set(t.taskId, (this.attempts.get(t.taskId) ?? 0) + 1);
    if (this.passive.has(t.namespaceId)) {
      this.beforeRefusal?.();
      throw apiError('NAMESPACE_NOT_ACTIVE', t.namespaceId, 'b', 'a');
    }
    this.done.push(t);
  }

  ran(t: HistoryTask): boolean {
    return this.done.some((d) => d.category === t.category && d.taskId === t.taskId);
  }
}

const stores: Persistence[] = [];
after(async () => {
  for (const s of stores) await s.close();
});

/** One owner of the shard: a fresh acquisition (range_id bump) and its queues. */
type TaskSpec = { namespaceId: string; category: 'transfer' | 'timer'; visibilityTimeMs?: number };

class Owner {
  private seq = 0n;
  private constructor(
    readonly store: Persistence,
    readonly shard: Shard,
    readonly runner: FakeRunner,
    readonly queues: ShardQueues,
  ) {}

  static async start(store: Persistence, config: Partial<HistoryConfig> = {}, passive: string[] = []): Promise<Owner> {
    // The shard's own writes (writeTasks) reach the queues as in the history service.
    let queues: ShardQueues | undefined;
    const listener: ShardListener = { onTasksCreated: (_s, tasks) => queues?.tasksCreated(tasks), onEventsAppended() {} };
    const shard = await Shard.acquire(SHARD, 'node', store, listener, silentLogger());
    const runner = new FakeRunner();
    for (const ns of passive) runner.passive.add(ns);
    // Flushes are called by the tests; the periodic ones would only add noise.
    const cfg = compileHistoryConfig({ queuePollIntervalMs: 50, ackPersistIntervalMs: 60_000, parkedRecheckIntervalMs: 60_000, timerAckMarginMs: 1, ...config });
    queues = new ShardQueues({ shard, store, runner, config: cfg, log: silentLogger() });
    queues.start();
    return new Owner(store, shard, runner, queues);
  }

  /** Commits the tasks as a workflow write would, and tells the queues as the shard listener does. */
  async commit(specs: TaskSpec[]): Promise<HistoryTask[]> {
    const tasks = await this.write(specs);
    this.queues.tasksCreated(tasks);
    return tasks;
  }

  /** Commits the tasks, one run each, without telling anyone. */
  async write(specs: TaskSpec[]): Promise<HistoryTask[]> {
    const tasks = specs.map((s) => {
      const id = (this.shard.rangeId << TASK_ID_BITS) + this.seq++;
      return task(s.category, freshKey({ namespaceId: s.namespaceId }), id, s.visibilityTimeMs ?? Date.now());
    });
    for (const t of tasks) {
      const rec = execution({ namespaceId: t.namespaceId, workflowId: t.workflowId, runId: t.runId });
      await this.store.executions.createWorkflowExecution({
        shardId: SHARD,
        rangeId: this.shard.rangeId,
        mode: { kind: 'brandNew' },
        execution: rec,
        history: append(rec, 1, 3, t.taskId),
        tasks: [t],
      });
    }
    return tasks;
  }
}

async function openStore(): Promise<Persistence> {
  const store = await openSqlitePersistence({ path: ':memory:' });
  stores.push(store);
  return store;
}

async function storedTasks(store: Persistence): Promise<bigint[]> {
  const transfer = await store.executions.getHistoryTasks({ shardId: SHARD, category: 'transfer', afterTaskId: -1n, maxTaskId: 2n ** 63n - 1n, limit: 1000 });
  const timers = await store.executions.getTimerTasks({
    shardId: SHARD,
    after: { visibilityTimeMs: -1, taskId: -1n },
    maxVisibilityTimeMs: Number.MAX_SAFE_INTEGER,
    limit: 1000,
  });
  return [...transfer, ...timers].map((t) => t.taskId).sort((a, b) => (a < b ? -1 : 1));
}

/** Counts the transfer queue's reads of the store. */
function countReads(store: Persistence): { reads: number } {
  const counter = { reads: 0 };
  const read = store.executions.getHistoryTasks.bind(store.executions);
  store.executions.getHistoryTasks = (q) => {
    if (q.category === 'transfer') counter.reads++;
    return read(q);
  };
  return counter;
}

const transferTask = (namespaceId: string) => {
  const { taskId: _, ...t } = task('transfer', freshKey({ namespaceId }), 0n);
  return t;
};

async function storedAckLevels(store: Persistence) {
  return parseAckLevels((await store.shards.getShard(SHARD))!.ackLevels);
}

describe('shard queues', () => {
  test('a passive namespace parks its tasks: not run again, not deleted, until the namespace changes', async () => {
    const store = await openStore();
    const owner = await Owner.start(store, {}, [PASSIVE]);
    const [parkedTransfer, transferA, transferB, parkedTimer, timerA] = await owner.commit([
      { namespaceId: PASSIVE, category: 'transfer' },
      { namespaceId: ACTIVE, category: 'transfer' },
      { namespaceId: ACTIVE, category: 'transfer' },
      { namespaceId: PASSIVE, category: 'timer' },
      { namespaceId: ACTIVE, category: 'timer' },
    ]);
    const r = owner.runner;
    await waitFor('the active namespace to run', () => [transferA, transferB, timerA].every((t) => r.ran(t!)));
    // Several poll intervals: a parked task is not retried in a loop.
    await sleep(300);
    assert.equal(r.attempts.get(parkedTransfer!.taskId), 1);
    assert.equal(r.attempts.get(parkedTimer!.taskId), 1);

    await owner.queues.flush();
    const stored = await storedTasks(store);
    assert.ok(stored.includes(parkedTransfer!.taskId) && stored.includes(parkedTimer!.taskId), 'parked tasks are kept');
    const acked = await storedAckLevels(store);
    assert.ok(acked.transfer.taskId < parkedTransfer!.taskId, 'the transfer ack level stays below the parked task');
    assert.ok(acked.timer.visibilityTimeMs <= parkedTimer!.visibilityTimeMs, 'the timer ack level stays below the parked timer');

    r.passive.delete(PASSIVE);
    owner.queues.namespaceChanged(PASSIVE);
    await waitFor('the parked tasks to run', () => r.ran(parkedTransfer!) && r.ran(parkedTimer!));
    assert.equal(r.done.filter((d) => d.namespaceId === ACTIVE).length, 3, 'done tasks of the other namespace did not run again');

    await owner.queues.stop();
    assert.deepEqual(await storedTasks(store), [], 'everything is done and deleted');
  });

  test('the slow recheck runs parked tasks when no change notification came', async () => {
    const store = await openStore();
    const owner = await Owner.start(store, { parkedRecheckIntervalMs: 100 }, [PASSIVE]);
    const [parked] = await owner.commit([{ namespaceId: PASSIVE, category: 'transfer' }]);
    await waitFor('the task to be refused', () => owner.runner.attempts.has(parked!.taskId));
    await sleep(350);
    const probes = owner.runner.attempts.get(parked!.taskId)!;
    assert.ok(probes >= 2 && probes <= 8, `probed once per recheck, not in a loop (${probes})`);
    owner.runner.passive.delete(PASSIVE);
    await waitFor('the recheck to run it', () => owner.runner.ran(parked!));
    await owner.queues.stop();
  });

  test('a task refused while its namespace changed runs again at once', async () => {
    const store = await openStore();
    const owner = await Owner.start(store, {}, [PASSIVE]);
    const r = owner.runner;
    // The namespace becomes active while the executor refuses the task on its old view.
    r.beforeRefusal = () => {
      r.passive.delete(PASSIVE);
      owner.queues.namespaceChanged(PASSIVE);
    };
    const [t] = await owner.commit([{ namespaceId: PASSIVE, category: 'transfer' }]);
    await waitFor('the task to run', () => r.ran(t!));
    assert.equal(r.attempts.get(t!.taskId), 2);
    await owner.queues.stop();
  });

  test('ack levels are persisted and the tasks below them deleted; a new owner starts there', async () => {
    const store = await openStore();
    const first = await Owner.start(store);
    const tasks = await first.commit([
      { namespaceId: ACTIVE, category: 'transfer' },
      { namespaceId: ACTIVE, category: 'transfer' },
      { namespaceId: ACTIVE, category: 'timer', visibilityTimeMs: Date.now() - 10 },
      { namespaceId: ACTIVE, category: 'timer' },
    ]);
    await waitFor('every task to run', () => tasks.every((t) => first.runner.ran(t)));
    await sleep(5); // past the timer ack margin
    await first.queues.flush();
    const acked = await storedAckLevels(store);
    assert.equal(acked.transfer.taskId, tasks[1]!.taskId);
    assert.ok(acked.timer.visibilityTimeMs >= tasks[3]!.visibilityTimeMs);
    assert.deepEqual(first.shard.ackLevels, (await store.shards.getShard(SHARD))!.ackLevels);
    assert.deepEqual(await storedTasks(store), []);
    await first.queues.stop();

    // Done rows the last owner had no time to delete (it stored the levels, then died).
    const below = await first.write([
      { namespaceId: ACTIVE, category: 'transfer' },
      { namespaceId: ACTIVE, category: 'timer', visibilityTimeMs: Date.now() - 1000 },
    ]);
    await first.shard.updateAckLevels({ transfer: below[0]!.taskId.toString(), timer: `${below[1]!.visibilityTimeMs}/${below[1]!.taskId}` });

    const second = await Owner.start(store);
    assert.ok(first.shard.rangeId < second.shard.rangeId);
    const [fresh] = await second.commit([{ namespaceId: ACTIVE, category: 'transfer' }]);
    await waitFor('the new task to run', () => second.runner.ran(fresh!));
    await sleep(200);
    assert.deepEqual(second.runner.done.map((t) => t.taskId), [fresh!.taskId], 'no done task ran again');
    await second.queues.stop();
    assert.deepEqual(await storedTasks(store), [], 'the new owner deleted the leftovers below its ack levels');
  });

  test('an idle shard does not rewrite its shard row: the trailing timer level is persisted only after a timer ran', async () => {
    const store = await openStore();
    const owner = await Owner.start(store);
    await sleep(20);
    await owner.queues.flush();
    const first = (await store.shards.getShard(SHARD))!;
    await sleep(20);
    await owner.queues.flush();
    await owner.queues.flush();
    assert.equal((await store.shards.getShard(SHARD))!.updatedAtMs, first.updatedAtMs, 'no fenced write while nothing ran');
    const [timer] = await owner.commit([{ namespaceId: ACTIVE, category: 'timer', visibilityTimeMs: Date.now() - 10 }]);
    await waitFor('the timer to run', () => owner.runner.ran(timer!));
    await sleep(5); // past the timer ack margin
    await owner.queues.flush();
    assert.deepEqual(await storedTasks(store), [], 'once a timer ran, its level moves and the row goes');
    await owner.queues.stop();
  });

  test('the tasks a write commits run as offered, with no read of the store per write', async () => {
    const store = await openStore();
    const counter = countReads(store);
    // No periodic read in the test's time: only the first read and what an offer asks for.
    const owner = await Owner.start(store, { queuePollIntervalMs: 50_000, timerLookaheadMs: 60_000 });
    await waitFor('the first read', () => counter.reads > 0);
    await sleep(20);
    const readsBefore = counter.reads;
    const written: HistoryTask[] = [];
    for (let i = 0; i < 5; i++) written.push(...(await owner.shard.writeTasks([transferTask(ACTIVE), transferTask(ACTIVE)])));
    await waitFor('every written task to run', () => written.every((t) => owner.runner.ran(t)));
    assert.equal(counter.reads, readsBefore, 'no read back');
    await owner.queues.flush();
    assert.equal((await storedAckLevels(store)).transfer.taskId, written.at(-1)!.taskId, 'the ack level passes offered tasks once they ran');
    await owner.queues.stop();
  });

  test('after a write of unknown outcome, the next offer reads the store: a task stored unannounced still runs', async () => {
    const store = await openStore();
    const owner = await Owner.start(store, { queuePollIntervalMs: 50_000, timerLookaheadMs: 60_000 });
    const counter = countReads(store);
    await sleep(20);
    // The store took the write but its answer was lost: the shard cannot tell the queue.
    const create = store.executions.createHistoryTasks.bind(store.executions);
    store.executions.createHistoryTasks = async (...args) => {
      await create(...args);
      store.executions.createHistoryTasks = create;
      throw new StoreUnavailableError('timed out');
    };
    await assert.rejects(owner.shard.writeTasks([transferTask(ACTIVE)]), StoreUnavailableError);
    const [announced] = await owner.shard.writeTasks([transferTask(ACTIVE)]);
    await waitFor('both tasks to run', () => owner.runner.done.length === 2);
    assert.ok(owner.runner.ran(announced!));
    assert.ok(owner.runner.done[0]!.taskId < announced!.taskId, 'the unannounced task, stored first, ran too');
    assert.ok(counter.reads > 0, 'found by a read');
    await owner.queues.stop();
  });
});
