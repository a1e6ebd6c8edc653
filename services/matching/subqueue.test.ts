import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueuedTask } from '../persistence/types.js';
import type { TaskPriority } from './priority.js';
import { Subqueue, type BufferedTask } from './subqueue.js';
import { ZERO_LEVEL } from './task-level.js';

const LIMITS = { batchSize: 100, fairnessKeys: 100 };

function task(workflowId: string, priority?: Partial<TaskPriority>): BufferedTask {
  return {
    req: {
      taskQueue: { namespaceId: 'ns', name: 'tq', type: 2, kind: 1 },
      workflowId,
      runId: 'r',
      scheduledEventId: 5,
      scheduleToStartTimeoutMs: 0,
      ...(priority ? { priority: { priorityKey: 0, fairnessKey: '', fairnessWeight: 0, ...priority } } : {}),
    },
    subqueue: 3,
    level: null,
    createdAtMs: 0,
    expiryTimeMs: 0,
    attempts: 0,
    notBeforeMs: 0,
    movable: true,
  };
}

let nextId = 0n;
/** Queues tasks the way a sticky queue does: placed and kept in memory. */
function queueInMemory(q: Subqueue, tasks: BufferedTask[]): void {
  for (const t of tasks) {
    q.place(t, ++nextId);
    q.written(t, true);
  }
}

function drain(q: Subqueue, n = Infinity): string[] {
  const out: string[] = [];
  while (out.length < n) {
    const found = q.next(0, () => assert.fail('nothing expires here'));
    if (!('task' in found)) break;
    out.push(found.task.req.workflowId);
  }
  return out;
}

const keyed = (key: string, n: number, weight = 0) => Array.from({ length: n }, (_, i) => task(`${key}-${i + 1}`, { fairnessKey: key, fairnessWeight: weight }));

test('one fairness key keeps its order; a key that comes later takes turns with it from the front', () => {
  const q = new Subqueue(3, null, LIMITS);
  queueInMemory(q, [...keyed('busy', 4), ...keyed('late', 2)]);
  assert.deepEqual(drain(q), ['busy-1', 'late-1', 'busy-2', 'late-2', 'busy-3', 'busy-4']);
});

test('keys are dispatched in proportion to their weights, whatever the order they were queued in', () => {
  const q = new Subqueue(3, null, LIMITS);
  queueInMemory(q, [...keyed('gold', 60, 3), ...keyed('std', 60, 1)]);
  const first = drain(q, 40);
  const gold = first.filter((id) => id.startsWith('gold')).length;
  assert.ok(gold >= 29 && gold <= 31, `gold got ${gold} of 40 dispatches, about 3 in 4 expected`);
  assert.deepEqual(first.filter((id) => id.startsWith('std')), keyed('std', 40 - gold).map((t) => t.req.workflowId), 'each key in its own order');
});

test('a key idle for a while starts at the dispatch front: it saved no credit', () => {
  const q = new Subqueue(3, null, LIMITS);
  queueInMemory(q, keyed('a', 1));
  queueInMemory(q, keyed('b', 10));
  assert.deepEqual(drain(q, 9), ['a-1', 'b-1', 'b-2', 'b-3', 'b-4', 'b-5', 'b-6', 'b-7', 'b-8']);
  queueInMemory(q, ['a-2', 'a-3', 'a-4'].map((id) => task(id, { fairnessKey: 'a' })));
  // With credit for the time it was idle, all of a's would go before b-9.
  assert.deepEqual(drain(q), ['a-2', 'b-9', 'a-3', 'b-10', 'a-4']);
});

/** A stored subqueue with the rows `store` holds, read as the queue manager reads them. */
function storedSubqueue(batchSize: number) {
  const q = new Subqueue(3, ZERO_LEVEL, { batchSize, fairnessKeys: 100 });
  const store: QueuedTask[] = [];
  const byId = new Map<bigint, BufferedTask>();
  return {
    q,
    write(t: BufferedTask) {
      const level = q.place(t, ++nextId);
      store.push({ subqueue: 3, ...level, expiryTimeMs: 0, data: '' });
      byId.set(level.taskId, t);
      q.written(t, true);
    },
    read() {
      const after = q.readLevel!;
      const rows = store
        .filter((r) => r.pass > after.pass || (r.pass === after.pass && r.taskId > after.taskId))
        .sort((a, b) => (a.pass === b.pass ? Number(a.taskId - b.taskId) : Number(a.pass - b.pass)))
        .slice(0, q.room);
      const limit = q.room;
      q.loaded(rows, rows.length < limit, (row) => ({ ...byId.get(row.taskId)!, level: null }));
    },
  };
}

test('a stored backlog larger than memory is dispatched in fair order: what belongs ahead of what was read is held, the rest let go', () => {
  const s = storedSubqueue(4);
  s.read();
  for (const t of keyed('heavy', 10)) s.write(t);
  assert.equal(s.q.size, 4, 'the first tasks stay in memory, the rest wait in the store');
  assert.equal(s.q.backlog, 10);
  for (const t of keyed('light', 3)) s.write(t);
  assert.equal(s.q.size, 4, 'light tasks belong below the read level: kept, heavy ones let go');
  const order: string[] = [];
  const empty = (q: Subqueue) => q.size === 0;
  while (order.length < 13) {
    if (empty(s.q)) s.read();
    order.push(...drain(s.q, 1));
  }
  assert.deepEqual(order.slice(0, 6), ['heavy-1', 'light-1', 'heavy-2', 'light-2', 'heavy-3', 'light-3']);
  assert.deepEqual(order.slice(6), ['heavy-4', 'heavy-5', 'heavy-6', 'heavy-7', 'heavy-8', 'heavy-9', 'heavy-10']);
  assert.equal(s.q.empty, true, 'the last read found the end of the store');
  assert.equal(s.q.backlog, 0);
});
