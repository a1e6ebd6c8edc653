import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runPersistenceConformance } from '../conformance/suite.js';
import { ConditionFailedError, ShardOwnershipLostError } from '../errors.js';
import { openSqlitePersistence } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-sqlite-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

runPersistenceConformance('sqlite file', () => openSqlitePersistence({ path: join(dir, 'conformance.db') }));
runPersistenceConformance('sqlite :memory:', () => openSqlitePersistence({ path: ':memory:' }));

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
await p.taskQueues.createTasks(queue, lease.rangeId, [{ taskId, expiryTimeMs: 0, data: '{}' }]);
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
      const queued = await p.taskQueues.getTasks({ namespaceId: 'ns', name: 'tq', type: 1 }, 0n, TASK_ID, 10);
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

test('config is validated', async () => {
  await assert.rejects(openSqlitePersistence({ path: '' }), TypeError);
  await assert.rejects(openSqlitePersistence({ path: ':memory:', busyTimeoutMs: -1 }), TypeError);
  await assert.rejects(openSqlitePersistence({ path: ':memory:', synchronous: 'off' as 'full' }), TypeError);
});
