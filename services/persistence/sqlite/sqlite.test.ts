import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { BIG_RANGE_ID, MAIN, append, branchOf, createShard, next, plainEvents, runWriters, taskIdOf, visibility } from '../conformance/fixtures.js';
import { runPersistenceConformance } from '../conformance/suite.js';
import { runVisibilityConformance } from '../conformance/visibility-suite.js';
import { ConditionFailedError, HistoryConflictError, ShardOwnershipLostError } from '../errors.js';
import { openSqlitePersistence, SqlitePersistence } from './index.js';
import { MIGRATIONS, migrate } from './schema.js';
import { LEGACY_SUBQUEUE } from '../task-levels.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-sqlite-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

runPersistenceConformance('sqlite file', () => openSqlitePersistence({ path: join(dir, 'conformance.db') }));
runPersistenceConformance('sqlite :memory:', () => openSqlitePersistence({ path: ':memory:' }));
runVisibilityConformance('sqlite', async () => {
  const p = await openSqlitePersistence({ path: join(dir, 'visibility.db') });
  return { store: p.visibility, close: () => p.close() };
});

const RANGE_ID = 5_000_000_000n;
const TASK_ID = RANGE_ID * 2n ** 20n + 1n;
const KEY = { namespaceId: 'ns', workflowId: 'wf', runId: 'run' };

// Runs in a child process that SIGKILLs itself right after its writes: no close, no checkpoint.
const WRITER = `
const { openSqlitePersistence } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'index.ts')).href)});
const p = await openSqlitePersistence({ path: process.argv[1] });
const key = ${JSON.stringify(KEY)};
const rangeId = ${RANGE_ID}n, taskId = ${TASK_ID}n;
await p.shards.createShard({ shardId: 1, rangeId, owner: 'a', ackLevels: {}, updatedAtMs: 1 });
await p.executions.createWorkflowExecution({
  shardId: 1, rangeId, mode: { kind: 'brandNew' },
  execution: { key, branchId: 'b', dbRecordVersion: 1, state: 'running', status: 1, nextEventId: 2, startVersion: 1n, lastWriteVersion: 1n,
    createRequestId: 'req', data: new Uint8Array([1, 2, 3]) },
  history: { branch: { treeId: key.runId, branchId: 'b', ancestors: [] }, events: [{ eventId: 1, version: 1n, taskId, data: new Uint8Array([9]) }] },
  tasks: [{ category: 'transfer', taskId, visibilityTimeMs: 1, ...key, type: 'workflowTask', data: '{}' }],
});
const queue = { namespaceId: 'ns', name: 'tq', type: 1 };
const lease = await p.taskQueues.leaseTaskQueue(queue);
await p.taskQueues.createTasks(queue, lease.rangeId, [{ subqueue: 3, pass: 0n, taskId, expiryTimeMs: 0, data: '{}' }]);
process.kill(process.pid, 'SIGKILL');
`;

test('committed writes survive a killed process, and the file reopens', async () => {
  const path = join(dir, 'nested', 'durable.db');
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER, path], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.signal, 'SIGKILL', `writer should die by SIGKILL after its writes; stderr: ${child.stderr}`);

  for (let reopen = 0; reopen < 2; reopen++) {
    const p = await openSqlitePersistence({ path });
    try {
      assert.equal((await p.shards.getShard(1))?.rangeId, RANGE_ID);
      assert.deepEqual([...((await p.executions.getWorkflowExecution(1, KEY))?.data ?? [])], [1, 2, 3]);
      assert.equal((await p.executions.getCurrentExecution(1, 'ns', 'wf'))?.runId, 'run');
      const events = await p.executions.readHistory({ shardId: 1, branch: { treeId: KEY.runId, branchId: 'b', ancestors: [] }, minEventId: 1, maxEventId: 2, limit: 10 });
      assert.equal(events[0]?.taskId, TASK_ID);
      const tasks = await p.executions.getHistoryTasks({ shardId: 1, category: 'transfer', afterTaskId: 0n, maxTaskId: TASK_ID, limit: 10 });
      assert.equal(tasks[0]?.taskId, TASK_ID);
      const queued = await p.taskQueues.getTasks({ namespaceId: 'ns', name: 'tq', type: 1 }, 3, { pass: 0n, taskId: 0n }, 10);
      assert.equal(queued[0]?.taskId, TASK_ID);
      await assert.rejects(p.shards.updateShard({ shardId: 1, rangeId: 2n, owner: 'b', ackLevels: {}, updatedAtMs: 2 }, 1n), ShardOwnershipLostError);
    } finally {
      await p.close();
    }
  }
});

test('two connections on one file fence each other', async () => {
  const path = join(dir, 'shared.db');
  const [a, b] = await Promise.all([openSqlitePersistence({ path }), openSqlitePersistence({ path })]);
  try {
    await a.shards.createShard({ shardId: 7, rangeId: RANGE_ID, owner: 'a', ackLevels: {}, updatedAtMs: 1 });
    const execution = { key: KEY, branchId: 'b', dbRecordVersion: 1, state: 'running' as const, status: 1, nextEventId: 2, startVersion: 1n, lastWriteVersion: 1n, createRequestId: 'req', data: new Uint8Array([1]) };
    const update = (p: typeof a, dbRecordVersion: number) =>
      p.executions.updateWorkflowExecution({ shardId: 7, rangeId: RANGE_ID, mode: 'updateCurrent', execution: { ...execution, dbRecordVersion }, expectedDbRecordVersion: dbRecordVersion - 1, expectedNextEventId: 2, tasks: [] });
    await a.executions.createWorkflowExecution({ shardId: 7, rangeId: RANGE_ID, mode: { kind: 'brandNew' }, execution, history: { branch: { treeId: KEY.runId, branchId: 'b', ancestors: [] }, events: [] }, tasks: [] });
    await update(b, 2);
    await assert.rejects(update(a, 2), ConditionFailedError);
    await b.shards.updateShard({ shardId: 7, rangeId: RANGE_ID + 1n, owner: 'b', ackLevels: {}, updatedAtMs: 2 }, RANGE_ID);
    await assert.rejects(update(a, 3), ShardOwnershipLostError);
    assert.equal((await a.executions.getWorkflowExecution(7, KEY))?.dbRecordVersion, 2);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('an event row written again must be the same row: same bytes are a no-op, other bytes a HistoryConflictError', async () => {
  const p = await openSqlitePersistence({ path: ':memory:' });
  try {
    const shardId = await createShard(p);
    const rec = await runWriters(() => p).startRun(shardId);
    // A branch other than the stored one may be written at any event id, so only the row key guards it.
    const fork = branchOf(rec, 'branch-fork', [{ branchId: MAIN, endEventId: 2 }]);
    const forkAppend = append(rec, 2, 4, taskIdOf(BIG_RANGE_ID, 9), fork);
    const update = (base: typeof rec, history = forkAppend) =>
      p.executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'updateCurrent', execution: next(base), expectedDbRecordVersion: base.dbRecordVersion, expectedNextEventId: 3, history, tasks: [] });
    await update(rec);
    const v2 = (await p.executions.getWorkflowExecution(shardId, rec.key))!;
    await update(v2);
    const v3 = (await p.executions.getWorkflowExecution(shardId, rec.key))!;
    const rewritten = { ...forkAppend, events: forkAppend.events.map((e) => ({ ...e, data: new Uint8Array([7]) })) };
    await assert.rejects(update(v3, rewritten), HistoryConflictError);
    assert.equal((await p.executions.getWorkflowExecution(shardId, rec.key))?.dbRecordVersion, 3);
    const read = await p.executions.readHistory({ shardId, branch: fork, minEventId: 2, maxEventId: 4, limit: 10 });
    assert.deepEqual(plainEvents(read), plainEvents(forkAppend.events));
  } finally {
    await p.close();
  }
});

test('migration 2 moves version-1 history rows into the tree of their run', async () => {
  const db = new Database(':memory:');
  db.defaultSafeIntegers(true);
  migrate(db, MIGRATIONS.slice(0, 1));
  db.exec(`
    INSERT INTO shards VALUES (1, ${RANGE_ID}, 'a', '{}', 1);
    INSERT INTO executions VALUES (1, 'ns', 'wf', 'run', 1, 'running', 1, 3, 1, 1, 'req', x'01');
    INSERT INTO current_executions VALUES (1, 'ns', 'wf', 'run', 'req', 'running', 1, 1, 1);
    INSERT INTO history_events VALUES (1, 'ns', 'wf', 'run', 'run', 1, 1, ${TASK_ID}, x'09'), (1, 'ns', 'wf', 'run', 'run', 2, 1, ${TASK_ID}, x'0a');
  `);
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 2)), [2]);
  // Today's store reads the file once every later migration ran too.
  migrate(db);
  const p = new SqlitePersistence(db);
  try {
    const rec = await p.executions.getWorkflowExecution(1, KEY);
    assert.equal(rec?.branchId, 'run');
    const read = await p.executions.readHistory({ shardId: 1, branch: branchOf(rec!), minEventId: 1, maxEventId: rec!.nextEventId, limit: 10 });
    assert.deepEqual(plainEvents(read), plainEvents([1, 2].map((eventId) => ({ eventId, version: 1n, taskId: TASK_ID, data: new Uint8Array([eventId + 8]) }))));
    await p.executions.deleteWorkflowExecution(1, KEY);
    assert.deepEqual(await p.executions.readHistory({ shardId: 1, branch: branchOf(rec!), minEventId: 1, maxEventId: 3, limit: 10 }), []);
  } finally {
    await p.close();
  }
});

test('config is validated', async () => {
  await assert.rejects(openSqlitePersistence({ path: '' }), TypeError);
  await assert.rejects(openSqlitePersistence({ path: ':memory:', busyTimeoutMs: -1 }), TypeError);
  await assert.rejects(openSqlitePersistence({ path: ':memory:', synchronous: 'off' as 'full' }), TypeError);
});

test('migration 3 keeps every task and admits the replicationDlq category', () => {
  const db = new Database(':memory:');
  db.defaultSafeIntegers(true);
  migrate(db, MIGRATIONS.slice(0, 2));
  db.exec(`INSERT INTO history_tasks VALUES (1, 'timer', 5, ${TASK_ID}, 5, 'ns', 'wf', 'run', 'userTimer', '{}')`);
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 3)), [3]);
  db.exec(`INSERT INTO history_tasks VALUES (1, 'replicationDlq', 0, ${TASK_ID}, 5, 'ns', 'wf', 'run', 'history', '{}')`);
  assert.deepEqual(db.prepare('SELECT category FROM history_tasks ORDER BY category').pluck().all(), ['replicationDlq', 'timer']);
  db.close();
});

test('migration 6 keeps visibility rows: each its own root, no parent, a duration once closed', async () => {
  const db = new Database(':memory:');
  db.defaultSafeIntegers(true);
  migrate(db, MIGRATIONS.slice(0, 5));
  db.exec(`INSERT INTO visibility VALUES ('ns', 'run', 'wf', 'T', 'tq', 2, 1000, 1500, 4000, 7, '{}')`);
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 6)), [6]);
  migrate(db);
  const p = new SqlitePersistence(db);
  try {
    const { records } = await p.visibility.listVisibility({ namespaceId: 'ns', query: {}, pageSize: 10 });
    assert.deepEqual(records.map(({ executionDurationMs, parentWorkflowId, rootWorkflowId, rootRunId, searchAttributes }) => ({ executionDurationMs, parentWorkflowId, rootWorkflowId, rootRunId, searchAttributes })), [
      { executionDurationMs: 2500, parentWorkflowId: null, rootWorkflowId: 'wf', rootRunId: 'run', searchAttributes: {} },
    ]);
  } finally {
    await p.close();
  }
});

test('migration 8 keeps a queue\'s unacked tasks and ack level in the default subqueue at pass 0', async () => {
  const db = new Database(':memory:');
  db.defaultSafeIntegers(true);
  migrate(db, MIGRATIONS.slice(0, 7));
  db.exec(`
    INSERT INTO task_queues VALUES ('ns', 'tq', 1, 4, ${TASK_ID}, 1), ('ns', 'fresh', 2, 1, 0, 1);
    INSERT INTO task_queue_tasks VALUES ('ns', 'tq', 1, ${TASK_ID + 1n}, 0, '{"seq":1}'), ('ns', 'tq', 1, ${TASK_ID + 2n}, 9, '{"seq":2}');
  `);
  assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 8)), [8]);
  migrate(db);
  const p = new SqlitePersistence(db);
  try {
    const lease = await p.taskQueues.leaseTaskQueue({ namespaceId: 'ns', name: 'tq', type: 1 });
    assert.equal(lease.rangeId, 5n);
    assert.deepEqual(lease.ackLevels, { [LEGACY_SUBQUEUE]: { pass: 0n, taskId: TASK_ID } });
    assert.deepEqual(await p.taskQueues.getTasks(lease.key, LEGACY_SUBQUEUE, lease.ackLevels[LEGACY_SUBQUEUE]!, 10), [
      { subqueue: LEGACY_SUBQUEUE, pass: 0n, taskId: TASK_ID + 1n, expiryTimeMs: 0, data: '{"seq":1}' },
      { subqueue: LEGACY_SUBQUEUE, pass: 0n, taskId: TASK_ID + 2n, expiryTimeMs: 9, data: '{"seq":2}' },
    ]);
    assert.deepEqual((await p.taskQueues.leaseTaskQueue({ namespaceId: 'ns', name: 'fresh', type: 2 })).ackLevels, {}, 'nothing acked: no level');
  } finally {
    await p.close();
  }
});

test('visibility writes of one event-loop turn commit together; one that fails rejects alone, the others land', async () => {
  const p = await openSqlitePersistence({ path: ':memory:' });
  try {
    const good = [visibility('ns'), visibility('ns')];
    // JSON cannot hold a bigint: this write throws inside the shared transaction.
    const bad = visibility('ns', { searchAttributes: { Broken: { type: 'Int', value: 1n } } as never });
    const results = await Promise.allSettled([p.visibility.upsertVisibility(good[0]!), p.visibility.upsertVisibility(bad), p.visibility.upsertVisibility(good[1]!)]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    const { records } = await p.visibility.listVisibility({ namespaceId: 'ns', query: {}, pageSize: 10 });
    assert.deepEqual(records.map((r) => r.runId).sort(), good.map((r) => r.runId).sort());
    // A write still pending when the store closes is committed first.
    const late = p.visibility.upsertVisibility(visibility('ns2'));
    await p.close();
    await late;
  } finally {
    await p.close();
  }
});
