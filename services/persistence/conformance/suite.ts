// The one suite every Persistence implementation passes. It relies on the interface alone and on
// fresh random ids, so it runs against a shared database that already holds other rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Persistence } from '../store.js';
import {
  ConditionFailedError,
  CurrentWorkflowConditionFailedError,
  NamespaceAlreadyExistsError,
  ShardOwnershipLostError,
} from '../errors.js';
import type { ExecutionKey, ExecutionRecord, HistoryTask, Int64, QueuedTask, TaskQueueKey } from '../types.js';
import {
  BIG_RANGE_ID,
  BIG_VERSION,
  MAX_INT64,
  allEvents,
  allTasks,
  append,
  branchOf,
  committedEvents,
  createShard,
  events,
  execution,
  freshKey,
  freshShardId,
  namespace,
  next,
  noHistory,
  plainEvents,
  plainExecution,
  pointerOf,
  runWriters,
  task,
  taskIdOf,
  uniq,
} from './fixtures.js';
import { describeClusterMetadata } from './cluster-metadata-suite.js';
import { describeHistoryTree } from './history-suite.js';
import { describeIdentity } from './identity-suite.js';

export function runPersistenceConformance(name: string, open: () => Promise<Persistence>): void {
  describe(`Persistence conformance: ${name}`, () => {
    let p: Persistence;
    before(async () => {
      p = await open();
    });
    after(async () => {
      await p.close();
    });

    const { startRun, closedRun, assertStored } = runWriters(() => p);

    describe('shards', () => {
      test('getShard of an unknown shard is null', async () => {
        assert.equal(await p.shards.getShard(freshShardId()), null);
      });

      test('createShard then getShard round-trips, 64-bit range id exact', async () => {
        const info = { shardId: freshShardId(), rangeId: BIG_RANGE_ID + 1n, owner: 'node-1', ackLevels: { transfer: '42', 'replication:b': '9007199254740993' }, updatedAtMs: 1_700_000_000_123 };
        await p.shards.createShard(info);
        assert.deepEqual(await p.shards.getShard(info.shardId), info);
      });

      test('createShard twice fails with ConditionFailedError and keeps the first row', async () => {
        const info = { shardId: freshShardId(), rangeId: BIG_RANGE_ID, owner: 'node-1', ackLevels: {}, updatedAtMs: 1 };
        await p.shards.createShard(info);
        await assert.rejects(p.shards.createShard({ ...info, rangeId: 7n, owner: 'node-2' }), ConditionFailedError);
        assert.deepEqual(await p.shards.getShard(info.shardId), info);
      });

      test('updateShard with the current range id writes (and may bump the range id)', async () => {
        const info = { shardId: freshShardId(), rangeId: BIG_RANGE_ID, owner: 'node-1', ackLevels: {}, updatedAtMs: 1 };
        await p.shards.createShard(info);
        const taken = { ...info, rangeId: BIG_RANGE_ID + 1n, owner: 'node-2', ackLevels: { timer: '5' }, updatedAtMs: 2 };
        await p.shards.updateShard(taken, BIG_RANGE_ID);
        assert.deepEqual(await p.shards.getShard(info.shardId), taken);
        const acked = { ...taken, ackLevels: { timer: '6' }, updatedAtMs: 3 };
        await p.shards.updateShard(acked, taken.rangeId);
        assert.deepEqual(await p.shards.getShard(info.shardId), acked);
      });

      test('updateShard with a stale range id throws ShardOwnershipLostError and changes nothing', async () => {
        const info = { shardId: freshShardId(), rangeId: BIG_RANGE_ID + 5n, owner: 'node-2', ackLevels: { a: '1' }, updatedAtMs: 1 };
        await p.shards.createShard(info);
        const err = await p.shards
          .updateShard({ ...info, rangeId: BIG_RANGE_ID + 6n, owner: 'stale', ackLevels: {} }, BIG_RANGE_ID + 4n)
          .then(() => null, (e: unknown) => e);
        assert.ok(err instanceof ShardOwnershipLostError, `expected ShardOwnershipLostError, got ${String(err)}`);
        assert.equal(err.shardId, info.shardId);
        assert.equal(err.expectedRangeId, BIG_RANGE_ID + 4n);
        assert.ok(err.actualRangeId === null || err.actualRangeId === info.rangeId);
        assert.deepEqual(await p.shards.getShard(info.shardId), info);
      });

      test('updateShard of a missing shard throws ShardOwnershipLostError and creates nothing', async () => {
        const shardId = freshShardId();
        await assert.rejects(p.shards.updateShard({ shardId, rangeId: 2n, owner: 'x', ackLevels: {}, updatedAtMs: 1 }, 1n), ShardOwnershipLostError);
        assert.equal(await p.shards.getShard(shardId), null);
      });
    });

    describe('createWorkflowExecution', () => {
      test('brandNew writes the run, the current pointer, the events and the tasks', async () => {
        const shardId = await createShard(p);
        const key = freshKey();
        const rec = execution(key);
        const t1 = taskIdOf(BIG_RANGE_ID, 1);
        const tasks = [task('transfer', key, t1), task('timer', key, taskIdOf(BIG_RANGE_ID, 2), 1_700_000_005_000), task('replication', key, taskIdOf(BIG_RANGE_ID, 3))];
        const evs = events(1, 3, t1);
        await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'brandNew' }, execution: rec, history: { branch: branchOf(rec), events: evs }, tasks });
        await assertStored(shardId, rec);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, key.namespaceId, key.workflowId), pointerOf(rec));
        assert.deepEqual(plainEvents(await allEvents(p, shardId, branchOf(rec))), plainEvents(evs));
        const stored = await allTasks(p, shardId);
        assert.deepEqual(sortTasks(stored), sortTasks(tasks));
      });

      test('unknown run and unknown workflow read as null', async () => {
        const shardId = await createShard(p);
        const rec = await startRun(shardId);
        assert.equal(await p.executions.getWorkflowExecution(shardId, { ...rec.key, runId: randomUUID() }), null);
        assert.equal(await p.executions.getCurrentExecution(shardId, rec.key.namespaceId, uniq('wf')), null);
        assert.equal(await p.executions.getWorkflowExecution(await createShard(p), rec.key), null, 'rows belong to their shard');
      });

      test('brandNew when a closed current run exists throws CurrentWorkflowConditionFailedError', async () => {
        const shardId = await createShard(p);
        const closed = await closedRun(shardId);
        const second = execution({ ...closed.key, runId: randomUUID() });
        const err = await p.executions
          .createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'brandNew' }, execution: second, history: append(second, 1, 3, taskIdOf(BIG_RANGE_ID, 8)), tasks: [] })
          .then(() => null, (e: unknown) => e);
        assert.ok(err instanceof CurrentWorkflowConditionFailedError, `expected CurrentWorkflowConditionFailedError, got ${String(err)}`);
        assert.deepEqual(err.current, pointerOf(closed));
        assert.equal(await p.executions.getWorkflowExecution(shardId, second.key), null);
      });

      test('brandNew when a current run exists throws CurrentWorkflowConditionFailedError carrying it', async () => {
        const shardId = await createShard(p);
        const first = await startRun(shardId);
        const second = execution({ ...first.key, runId: randomUUID() });
        const err = await p.executions
          .createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'brandNew' }, execution: second, history: append(second, 1, 3, taskIdOf(BIG_RANGE_ID, 9)), tasks: [task('transfer', second.key, taskIdOf(BIG_RANGE_ID, 9))] })
          .then(() => null, (e: unknown) => e);
        assert.ok(err instanceof CurrentWorkflowConditionFailedError, `expected CurrentWorkflowConditionFailedError, got ${String(err)}`);
        assert.deepEqual(err.current, pointerOf(first));
        assert.equal(await p.executions.getWorkflowExecution(shardId, second.key), null);
        assert.deepEqual(await allEvents(p, shardId, branchOf(second)), []);
        assert.deepEqual((await allTasks(p, shardId)).map((t) => t.runId), [first.key.runId]);
      });

      test('replaceCurrent replaces the closed current run it names', async () => {
        const shardId = await createShard(p);
        const closed = await closedRun(shardId, { lastWriteVersion: BIG_VERSION + 10n });
        const second = execution({ ...closed.key, runId: randomUUID() });
        await p.executions.createWorkflowExecution({
          shardId,
          rangeId: BIG_RANGE_ID,
          mode: { kind: 'replaceCurrent', previousRunId: closed.key.runId, previousLastWriteVersion: closed.lastWriteVersion },
          execution: second,
          history: append(second, 1, 3, taskIdOf(BIG_RANGE_ID, 5)),
          tasks: [],
        });
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, closed.key.namespaceId, closed.key.workflowId), pointerOf(second));
        await assertStored(shardId, second);
        await assertStored(shardId, closed);
      });

      test('replaceCurrent of a running current run throws CurrentWorkflowConditionFailedError carrying it', async () => {
        const shardId = await createShard(p);
        const first = await startRun(shardId);
        const second = execution({ ...first.key, runId: randomUUID() });
        const err = await p.executions
          .createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'replaceCurrent', previousRunId: first.key.runId, previousLastWriteVersion: first.lastWriteVersion }, execution: second, history: append(second, 1, 3, taskIdOf(BIG_RANGE_ID, 6)), tasks: [] })
          .then(() => null, (e: unknown) => e);
        assert.ok(err instanceof CurrentWorkflowConditionFailedError, `expected CurrentWorkflowConditionFailedError, got ${String(err)}`);
        assert.deepEqual(err.current, pointerOf(first));
        assert.equal(await p.executions.getWorkflowExecution(shardId, second.key), null);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, first.key.namespaceId, first.key.workflowId), pointerOf(first));
      });

      test('replaceCurrent when the named run no longer is current throws CurrentWorkflowConditionFailedError', async () => {
        const shardId = await createShard(p);
        const first = await closedRun(shardId);
        const wrongRun = execution({ ...first.key, runId: randomUUID() });
        const err = await p.executions
          .createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'replaceCurrent', previousRunId: randomUUID(), previousLastWriteVersion: first.lastWriteVersion }, execution: wrongRun, history: append(wrongRun, 1, 3, taskIdOf(BIG_RANGE_ID, 7)), tasks: [task('transfer', wrongRun.key, taskIdOf(BIG_RANGE_ID, 7))] })
          .then(() => null, (e: unknown) => e);
        assert.ok(err instanceof CurrentWorkflowConditionFailedError, `expected CurrentWorkflowConditionFailedError, got ${String(err)}`);
        assert.deepEqual(err.current, pointerOf(first));

        const wrongVersion = execution({ ...first.key, runId: randomUUID() });
        await assert.rejects(
          p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'replaceCurrent', previousRunId: first.key.runId, previousLastWriteVersion: first.lastWriteVersion + 1n }, execution: wrongVersion, history: noHistory(wrongVersion), tasks: [] }),
          CurrentWorkflowConditionFailedError,
        );
        for (const rec of [wrongRun, wrongVersion]) {
          assert.equal(await p.executions.getWorkflowExecution(shardId, rec.key), null);
          assert.deepEqual(await allEvents(p, shardId, branchOf(rec)), []);
        }
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, first.key.namespaceId, first.key.workflowId), pointerOf(first));
        assert.equal((await allTasks(p, shardId)).length, 1);
      });

      test('replaceCurrent without any current run throws CurrentWorkflowConditionFailedError with no current', async () => {
        const shardId = await createShard(p);
        const rec = execution(freshKey());
        const err = await p.executions
          .createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'replaceCurrent', previousRunId: randomUUID(), previousLastWriteVersion: 1n }, execution: rec, history: noHistory(rec), tasks: [] })
          .then(() => null, (e: unknown) => e);
        assert.ok(err instanceof CurrentWorkflowConditionFailedError, `expected CurrentWorkflowConditionFailedError, got ${String(err)}`);
        assert.equal(err.current, null);
        assert.equal(await p.executions.getWorkflowExecution(shardId, rec.key), null);
        assert.equal(await p.executions.getCurrentExecution(shardId, rec.key.namespaceId, rec.key.workflowId), null);
      });

      test('zombie writes the run and leaves the current pointer untouched', async () => {
        const shardId = await createShard(p);
        const first = await startRun(shardId);
        const zombie = execution({ ...first.key, runId: randomUUID() }, { state: 'zombie' });
        await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'zombie' }, execution: zombie, history: append(zombie, 1, 4, taskIdOf(BIG_RANGE_ID, 2)), tasks: [] });
        await assertStored(shardId, zombie);
        assert.equal((await allEvents(p, shardId, branchOf(zombie))).length, 3);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, first.key.namespaceId, first.key.workflowId), pointerOf(first));

        const lone = execution(freshKey(), { state: 'zombie' });
        await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'zombie' }, execution: lone, history: noHistory(lone), tasks: [] });
        await assertStored(shardId, lone);
        assert.equal(await p.executions.getCurrentExecution(shardId, lone.key.namespaceId, lone.key.workflowId), null);
      });

      test('an existing run id throws ConditionFailedError and keeps the stored run', async () => {
        const shardId = await createShard(p);
        const first = await startRun(shardId);
        const dup = execution(first.key, { state: 'zombie', nextEventId: 99 });
        await assert.rejects(
          p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'zombie' }, execution: dup, history: append(dup, 3, 5, taskIdOf(BIG_RANGE_ID, 4)), tasks: [task('transfer', first.key, taskIdOf(BIG_RANGE_ID, 4))] }),
          ConditionFailedError,
        );
        await assertStored(shardId, first);
        assert.equal((await allEvents(p, shardId, branchOf(first))).length, 2);
        assert.equal((await allTasks(p, shardId)).length, 1);
      });

      test('a wrong range id throws ShardOwnershipLostError and nothing of the batch is visible', async () => {
        const shardId = await createShard(p);
        for (const rangeId of [BIG_RANGE_ID - 1n, BIG_RANGE_ID + 1n]) {
          const rec = execution(freshKey());
          const tid = taskIdOf(rangeId, 1);
          const err = await p.executions
            .createWorkflowExecution({
              shardId,
              rangeId,
              mode: { kind: 'brandNew' },
              execution: rec,
              history: append(rec, 1, 3, tid),
              tasks: [task('transfer', rec.key, tid), task('timer', rec.key, tid + 1n), task('replication', rec.key, tid + 2n), task('visibility', rec.key, tid + 3n)],
            })
            .then(() => null, (e: unknown) => e);
          assert.ok(err instanceof ShardOwnershipLostError, `expected ShardOwnershipLostError, got ${String(err)}`);
          assert.equal(err.shardId, shardId);
          assert.equal(err.expectedRangeId, rangeId);
          assert.equal(await p.executions.getWorkflowExecution(shardId, rec.key), null);
          assert.equal(await p.executions.getCurrentExecution(shardId, rec.key.namespaceId, rec.key.workflowId), null);
          assert.deepEqual(await allEvents(p, shardId, branchOf(rec)), []);
        }
        assert.deepEqual(await allTasks(p, shardId), []);
        assert.deepEqual(await p.executions.listExecutions(shardId, null, 10), []);
      });

      test('a missing shard throws ShardOwnershipLostError', async () => {
        const shardId = freshShardId();
        const rec = execution(freshKey());
        await assert.rejects(
          p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'brandNew' }, execution: rec, history: noHistory(rec), tasks: [] }),
          ShardOwnershipLostError,
        );
        assert.equal(await p.executions.getWorkflowExecution(shardId, rec.key), null);
      });
    });

    describe('updateWorkflowExecution', () => {
      test('writes the record, appends events and tasks, refreshes the current pointer', async () => {
        const shardId = await createShard(p);
        const rec = await startRun(shardId);
        const updated = next(rec, { nextEventId: 6, status: 1, lastWriteVersion: BIG_VERSION + 1n });
        const tid = taskIdOf(BIG_RANGE_ID, 10);
        const evs = events(3, 6, tid, BIG_VERSION + 1n);
        const tasks = [task('timer', rec.key, tid + 1n, 1_700_000_009_000), task('replication', rec.key, tid + 2n)];
        await p.executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'updateCurrent', execution: updated, expectedDbRecordVersion: 1, expectedNextEventId: 3, history: { branch: branchOf(rec), events: evs }, tasks });
        await assertStored(shardId, updated);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, rec.key.namespaceId, rec.key.workflowId), pointerOf(updated));
        assert.deepEqual((await allEvents(p, shardId, branchOf(rec))).map((e) => [e.eventId, e.version, e.taskId]), [
          [1, BIG_VERSION, taskIdOf(BIG_RANGE_ID, 1)],
          [2, BIG_VERSION, taskIdOf(BIG_RANGE_ID, 1)],
          [3, BIG_VERSION + 1n, tid],
          [4, BIG_VERSION + 1n, tid],
          [5, BIG_VERSION + 1n, tid],
        ]);
        assert.equal((await allTasks(p, shardId)).length, 3);

        const closed = next(updated, { state: 'completed', status: 2 });
        await p.executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'updateCurrent', execution: closed, expectedDbRecordVersion: 2, expectedNextEventId: 6, tasks: [] });
        await assertStored(shardId, closed);
        const pointer = await p.executions.getCurrentExecution(shardId, rec.key.namespaceId, rec.key.workflowId);
        assert.deepEqual(pointer, pointerOf(closed));
        assert.equal(pointer?.createRequestId, rec.createRequestId);
      });

      test('a stale dbRecordVersion throws ConditionFailedError and nothing of the batch is visible', async () => {
        const shardId = await createShard(p);
        const rec = await startRun(shardId);
        const v2 = next(rec);
        await p.executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'updateCurrent', execution: v2, expectedDbRecordVersion: 1, expectedNextEventId: 3, tasks: [] });
        const stale = next(rec, { state: 'completed', status: 2 });
        const tid = taskIdOf(BIG_RANGE_ID, 20);
        await assert.rejects(
          p.executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'updateCurrent', execution: stale, expectedDbRecordVersion: 1, expectedNextEventId: 3, history: append(rec, 3, 5, tid), tasks: [task('transfer', rec.key, tid)] }),
          ConditionFailedError,
        );
        await assertStored(shardId, v2);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, rec.key.namespaceId, rec.key.workflowId), pointerOf(v2));
        assert.equal((await allEvents(p, shardId, branchOf(rec))).length, 2);
        assert.equal((await allTasks(p, shardId)).length, 1);
      });

      test('a stale range id throws ShardOwnershipLostError and nothing of the batch is visible', async () => {
        const shardId = await createShard(p);
        const rec = await startRun(shardId);
        await p.shards.updateShard({ shardId, rangeId: BIG_RANGE_ID + 1n, owner: 'thief', ackLevels: {}, updatedAtMs: 2 }, BIG_RANGE_ID);
        const tid = taskIdOf(BIG_RANGE_ID, 30);
        const err = await p.executions
          .updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'updateCurrent', execution: next(rec, { status: 2, state: 'completed' }), expectedDbRecordVersion: 1, expectedNextEventId: 3, history: append(rec, 3, 5, tid), tasks: [task('transfer', rec.key, tid)] })
          .then(() => null, (e: unknown) => e);
        assert.ok(err instanceof ShardOwnershipLostError, `expected ShardOwnershipLostError, got ${String(err)}`);
        assert.equal(err.expectedRangeId, BIG_RANGE_ID);
        assert.ok(err.actualRangeId === null || err.actualRangeId === BIG_RANGE_ID + 1n);
        await assertStored(shardId, rec);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, rec.key.namespaceId, rec.key.workflowId), pointerOf(rec));
        assert.equal((await allEvents(p, shardId, branchOf(rec))).length, 2);
        assert.equal((await allTasks(p, shardId)).length, 1);
      });

      test('updating a run that does not exist throws ConditionFailedError', async () => {
        const shardId = await createShard(p);
        const ghost = execution(freshKey(), { dbRecordVersion: 2 });
        await assert.rejects(
          p.executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'bypassCurrent', execution: ghost, expectedDbRecordVersion: 1, expectedNextEventId: 3, history: append(ghost, 3, 4, 1n), tasks: [] }),
          ConditionFailedError,
        );
        assert.equal(await p.executions.getWorkflowExecution(shardId, ghost.key), null);
        assert.deepEqual(await allEvents(p, shardId, branchOf(ghost)), []);
      });

      test('updateCurrent requires the current pointer to name the run; bypassCurrent leaves it alone', async () => {
        const shardId = await createShard(p);
        const current = await startRun(shardId);
        const zombie = execution({ ...current.key, runId: randomUUID() }, { state: 'zombie' });
        await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'zombie' }, execution: zombie, history: noHistory(zombie), tasks: [] });

        const tid = taskIdOf(BIG_RANGE_ID, 40);
        await assert.rejects(
          p.executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'updateCurrent', execution: next(zombie), expectedDbRecordVersion: 1, expectedNextEventId: 3, history: append(zombie, 3, 5, tid), tasks: [task('transfer', zombie.key, tid)] }),
          ConditionFailedError,
        );
        await assertStored(shardId, zombie);
        assert.deepEqual(await allEvents(p, shardId, branchOf(zombie)), []);
        assert.equal((await allTasks(p, shardId)).length, 1);

        const zombie2 = next(zombie, { nextEventId: 5 });
        await p.executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'bypassCurrent', execution: zombie2, expectedDbRecordVersion: 1, expectedNextEventId: 3, history: append(zombie, 3, 5, tid + 1n), tasks: [] });
        await assertStored(shardId, zombie2);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, current.key.namespaceId, current.key.workflowId), pointerOf(current));

        const lone = execution(freshKey(), { state: 'zombie' });
        await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'zombie' }, execution: lone, history: noHistory(lone), tasks: [] });
        await assert.rejects(
          p.executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'updateCurrent', execution: next(lone), expectedDbRecordVersion: 1, expectedNextEventId: 3, tasks: [] }),
          ConditionFailedError,
          'updateCurrent without any current pointer',
        );
        assert.equal(await p.executions.getCurrentExecution(shardId, lone.key.namespaceId, lone.key.workflowId), null);
      });

      test('newRun (continue-as-new) becomes current atomically with its events', async () => {
        const shardId = await createShard(p);
        const first = await startRun(shardId);
        const closed = next(first, { state: 'completed', status: 6, nextEventId: 4 });
        const newRun = execution({ ...first.key, runId: randomUUID() }, { branchId: 'branch-new', state: 'created', lastWriteVersion: BIG_VERSION + 3n });
        const tid = taskIdOf(BIG_RANGE_ID, 50);
        await p.executions.updateWorkflowExecution({
          shardId,
          rangeId: BIG_RANGE_ID,
          mode: 'updateCurrent',
          execution: closed,
          expectedDbRecordVersion: 1,
          expectedNextEventId: 3,
          newRun,
          history: append(first, 3, 4, tid),
          newRunHistory: append(newRun, 1, 3, tid),
          tasks: [task('transfer', newRun.key, tid)],
        });
        await assertStored(shardId, closed);
        await assertStored(shardId, newRun);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, first.key.namespaceId, first.key.workflowId), pointerOf(newRun));
        assert.equal((await committedEvents(p, shardId, first.key)).length, 3);
        assert.deepEqual(plainEvents(await committedEvents(p, shardId, newRun.key)), plainEvents(events(1, 3, tid)));
        assert.deepEqual(await allEvents(p, shardId, branchOf(first, 'branch-new')), [], 'new-run events live in the new run tree only');
      });

      test('bypassCurrent with a newRun writes it and leaves the current pointer alone', async () => {
        const shardId = await createShard(p);
        const current = await startRun(shardId);
        const zombie = execution({ ...current.key, runId: randomUUID() }, { state: 'zombie' });
        await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'zombie' }, execution: zombie, history: noHistory(zombie), tasks: [] });
        const newZombie = execution({ ...current.key, runId: randomUUID() }, { state: 'zombie' });
        const tid = taskIdOf(BIG_RANGE_ID, 55);
        await p.executions.updateWorkflowExecution({
          shardId,
          rangeId: BIG_RANGE_ID,
          mode: 'bypassCurrent',
          execution: next(zombie, { status: 6 }),
          expectedDbRecordVersion: 1,
          expectedNextEventId: 3,
          newRun: newZombie,
          newRunHistory: append(newZombie, 1, 3, tid),
          tasks: [],
        });
        await assertStored(shardId, newZombie);
        assert.equal((await allEvents(p, shardId, branchOf(newZombie))).length, 2);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, current.key.namespaceId, current.key.workflowId), pointerOf(current));
      });

      test('a failed batch with a newRun leaves neither the new run nor its events', async () => {
        const shardId = await createShard(p);
        const first = await startRun(shardId);
        const newRun = execution({ ...first.key, runId: randomUUID() });
        const tid = taskIdOf(BIG_RANGE_ID, 60);
        await assert.rejects(
          p.executions.updateWorkflowExecution({
            shardId,
            rangeId: BIG_RANGE_ID,
            mode: 'updateCurrent',
            execution: next(first, { dbRecordVersion: 3, state: 'completed', status: 6 }),
            expectedDbRecordVersion: 2,
            expectedNextEventId: 3,
            newRun,
            newRunHistory: append(newRun, 1, 3, tid),
            tasks: [task('transfer', newRun.key, tid)],
          }),
          ConditionFailedError,
        );
        assert.equal(await p.executions.getWorkflowExecution(shardId, newRun.key), null);
        assert.deepEqual(await allEvents(p, shardId, branchOf(newRun)), []);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, first.key.namespaceId, first.key.workflowId), pointerOf(first));
        assert.equal((await allTasks(p, shardId)).length, 1);

        const zombie = execution({ ...first.key, runId: randomUUID() }, { state: 'zombie' });
        await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'zombie' }, execution: zombie, history: noHistory(zombie), tasks: [] });
        await assert.rejects(
          p.executions.updateWorkflowExecution({
            shardId,
            rangeId: BIG_RANGE_ID,
            mode: 'updateCurrent',
            execution: next(first, { state: 'completed', status: 6 }),
            expectedDbRecordVersion: 1,
            expectedNextEventId: 3,
            newRun: execution(zombie.key),
            history: append(first, 3, 4, tid),
            newRunHistory: append(zombie, 1, 3, tid),
            tasks: [task('transfer', zombie.key, tid)],
          }),
          ConditionFailedError,
          'a newRun whose run id exists already',
        );
        await assertStored(shardId, first);
        await assertStored(shardId, zombie);
        assert.deepEqual(await allEvents(p, shardId, branchOf(zombie)), []);
        assert.equal((await allEvents(p, shardId, branchOf(first))).length, 2);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, first.key.namespaceId, first.key.workflowId), pointerOf(first));
        assert.equal((await allTasks(p, shardId)).length, 1);
      });

      test('two concurrent updates with the same expected version: exactly one succeeds', async () => {
        const shardId = await createShard(p);
        const rec = await startRun(shardId);
        const candidates = [0, 1].map((i) => next(rec, { nextEventId: 10 + i }));
        const results = await Promise.allSettled(
          candidates.map((c, i) =>
            p.executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'updateCurrent', execution: c, expectedDbRecordVersion: 1, expectedNextEventId: 3, history: append(rec, 3, 4, taskIdOf(BIG_RANGE_ID, 70 + i)), tasks: [] }),
          ),
        );
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(won.length, 1, `exactly one writer wins, got ${won.length}`);
        const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        assert.ok(lost.reason instanceof ConditionFailedError, `loser gets ConditionFailedError, got ${String(lost.reason)}`);
        await assertStored(shardId, candidates[won[0]!]!);
        const evs = await committedEvents(p, shardId, rec.key);
        assert.equal(evs.at(-1)?.taskId, taskIdOf(BIG_RANGE_ID, 70 + won[0]!), "the winner's event is the stored one");
      });
    });

    describeHistoryTree(() => p);
    describeClusterMetadata(() => p);
    describeIdentity(() => p);

    describe('history tasks', () => {
      /** A fresh shard with one run; tasks are written through an update of it. */
      async function shardWithTasks(tasks: (key: ExecutionKey) => HistoryTask[]): Promise<{ shardId: number; key: ExecutionKey }> {
        const shardId = await createShard(p);
        const rec = execution(freshKey());
        await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'brandNew' }, execution: rec, history: noHistory(rec), tasks: tasks(rec.key) });
        return { shardId, key: rec.key };
      }
      const ids = (ts: HistoryTask[]) => ts.map((t) => t.taskId);

      test('getHistoryTasks reads one category in task-id order within (after, max], at most limit', async () => {
        const t = (seq: number) => taskIdOf(BIG_RANGE_ID, seq);
        const { shardId, key } = await shardWithTasks((k) => [
          task('transfer', k, t(5)),
          task('transfer', k, t(1)),
          task('transfer', k, t(3)),
          task('replication', k, t(2)),
          task('visibility', k, t(4)),
          task('timer', k, t(6), 1_700_000_000_000),
        ]);
        const read = (category: 'transfer' | 'replication' | 'visibility', afterTaskId: Int64, maxTaskId: Int64, limit = 100) =>
          p.executions.getHistoryTasks({ shardId, category, afterTaskId, maxTaskId, limit });
        const transfer = await read('transfer', 0n, MAX_INT64);
        assert.deepEqual(ids(transfer), [t(1), t(3), t(5)]);
        assert.deepEqual(transfer[0], task('transfer', key, t(1)));
        assert.deepEqual(ids(await read('transfer', t(1), t(5))), [t(3), t(5)], 'after is exclusive, max inclusive');
        assert.deepEqual(ids(await read('transfer', t(1), t(4))), [t(3)]);
        assert.deepEqual(ids(await read('transfer', 0n, MAX_INT64, 2)), [t(1), t(3)]);
        assert.deepEqual(ids(await read('replication', 0n, MAX_INT64)), [t(2)]);
        assert.deepEqual(ids(await read('visibility', 0n, MAX_INT64)), [t(4)]);
        assert.deepEqual(await read('transfer', t(5), MAX_INT64), []);
      });

      test('getTimerTasks orders by (visibilityTimeMs, taskId) and pages with the after cursor', async () => {
        const t = (seq: number) => taskIdOf(BIG_RANGE_ID, seq);
        const base = 1_700_000_000_000;
        const { shardId } = await shardWithTasks((k) => [
          task('timer', k, t(1), base + 30),
          task('timer', k, t(4), base + 10),
          task('timer', k, t(2), base + 10),
          task('timer', k, t(3), base + 20),
          task('transfer', k, t(9)),
        ]);
        const read = (after: { visibilityTimeMs: number; taskId: Int64 }, maxVisibilityTimeMs: number, limit = 100) =>
          p.executions.getTimerTasks({ shardId, after, maxVisibilityTimeMs, limit });
        const key = (ts: HistoryTask[]) => ts.map((x) => [x.visibilityTimeMs, x.taskId]);
        assert.deepEqual(key(await read({ visibilityTimeMs: 0, taskId: 0n }, base + 100)), [
          [base + 10, t(2)],
          [base + 10, t(4)],
          [base + 20, t(3)],
          [base + 30, t(1)],
        ]);
        assert.deepEqual(key(await read({ visibilityTimeMs: 0, taskId: 0n }, base + 20)), [
          [base + 10, t(2)],
          [base + 10, t(4)],
          [base + 20, t(3)],
        ], 'the fire-time bound is inclusive');
        assert.deepEqual(key(await read({ visibilityTimeMs: base + 10, taskId: t(2) }, base + 100, 2)), [
          [base + 10, t(4)],
          [base + 20, t(3)],
        ]);
        assert.deepEqual(key(await read({ visibilityTimeMs: base + 10, taskId: t(4) }, base + 100)), [
          [base + 20, t(3)],
          [base + 30, t(1)],
        ]);
        assert.deepEqual(key(await read({ visibilityTimeMs: base + 20, taskId: 0n }, base + 100)), [
          [base + 20, t(3)],
          [base + 30, t(1)],
        ], 'a later task at the cursor time is after the cursor');
        assert.deepEqual(await read({ visibilityTimeMs: 0, taskId: 0n }, base + 9), []);
      });

      test('rangeDeleteHistoryTasks deletes below the bound in its category only', async () => {
        const t = (seq: number) => taskIdOf(BIG_RANGE_ID, seq);
        const { shardId } = await shardWithTasks((k) => [
          task('transfer', k, t(1)),
          task('transfer', k, t(2)),
          task('transfer', k, t(3)),
          task('replication', k, t(1)),
          task('timer', k, t(1), 5),
        ]);
        await p.executions.rangeDeleteHistoryTasks(shardId, 'transfer', t(3));
        assert.deepEqual(ids(await p.executions.getHistoryTasks({ shardId, category: 'transfer', afterTaskId: 0n, maxTaskId: MAX_INT64, limit: 100 })), [t(3)]);
        assert.equal((await allTasks(p, shardId)).length, 3);
      });

      test('createHistoryTasks writes tasks of no execution (replicationDlq) fenced on range_id, its own category', async () => {
        const t = (seq: number) => taskIdOf(BIG_RANGE_ID, seq);
        const { shardId, key } = await shardWithTasks((k) => [task('replication', k, t(1))]);
        await p.executions.createHistoryTasks(shardId, BIG_RANGE_ID, [task('replicationDlq', key, t(2)), task('replicationDlq', key, t(3))]);
        const dlq = () => p.executions.getHistoryTasks({ shardId, category: 'replicationDlq', afterTaskId: -1n, maxTaskId: MAX_INT64, limit: 100 });
        assert.deepEqual(await dlq(), [task('replicationDlq', key, t(2)), task('replicationDlq', key, t(3))]);
        await assert.rejects(p.executions.createHistoryTasks(shardId, BIG_RANGE_ID - 1n, [task('replicationDlq', key, t(4))]), ShardOwnershipLostError);
        assert.deepEqual(ids(await dlq()), [t(2), t(3)], 'a stale owner wrote nothing');
        await p.executions.deleteHistoryTask(shardId, { category: 'replicationDlq', taskId: t(2), visibilityTimeMs: 0 });
        assert.deepEqual(ids(await dlq()), [t(3)]);
        await p.executions.rangeDeleteHistoryTasks(shardId, 'replicationDlq', MAX_INT64);
        assert.deepEqual(await dlq(), []);
        assert.deepEqual(ids(await p.executions.getHistoryTasks({ shardId, category: 'replication', afterTaskId: -1n, maxTaskId: MAX_INT64, limit: 100 })), [t(1)]);
      });

      test('rangeDeleteTimerTasks deletes timers ordered before (time, id), exclusive, and only timers', async () => {
        const t = (seq: number) => taskIdOf(BIG_RANGE_ID, seq);
        const { shardId } = await shardWithTasks((k) => [
          task('timer', k, t(1), 100),
          task('timer', k, t(5), 200),
          task('timer', k, t(2), 200),
          task('timer', k, t(3), 300),
          task('transfer', k, t(4)),
        ]);
        await p.executions.rangeDeleteTimerTasks(shardId, { visibilityTimeMs: 200, taskId: t(5) });
        const timers = await p.executions.getTimerTasks({ shardId, after: { visibilityTimeMs: 0, taskId: 0n }, maxVisibilityTimeMs: 1000, limit: 100 });
        assert.deepEqual(timers.map((x) => [x.visibilityTimeMs, x.taskId]), [
          [200, t(5)],
          [300, t(3)],
        ]);
        assert.equal((await allTasks(p, shardId)).length, 3);
      });

      test('reads after range deletes start at the lower bound and see only what is left', async () => {
        const t = (seq: number) => taskIdOf(BIG_RANGE_ID, seq);
        const { shardId } = await shardWithTasks((k) => [
          ...[1, 2, 3, 4, 5, 6].map((seq) => task('transfer', k, t(seq))),
          ...[1, 2, 3, 4].map((seq) => task('timer', k, t(seq), 100 * seq)),
        ]);
        for (let acked = 1; acked <= 4; acked++) {
          await p.executions.rangeDeleteHistoryTasks(shardId, 'transfer', t(acked + 1));
          await p.executions.rangeDeleteTimerTasks(shardId, { visibilityTimeMs: 100 * acked, taskId: t(acked) + 1n });
        }
        assert.deepEqual(ids(await p.executions.getHistoryTasks({ shardId, category: 'transfer', afterTaskId: t(4), maxTaskId: MAX_INT64, limit: 10 })), [t(5), t(6)]);
        assert.deepEqual(ids(await p.executions.getHistoryTasks({ shardId, category: 'transfer', afterTaskId: 0n, maxTaskId: MAX_INT64, limit: 10 })), [t(5), t(6)]);
        assert.deepEqual(await p.executions.getTimerTasks({ shardId, after: { visibilityTimeMs: 400, taskId: t(4) }, maxVisibilityTimeMs: 1000, limit: 10 }), []);
        assert.deepEqual(await p.executions.getTimerTasks({ shardId, after: { visibilityTimeMs: 0, taskId: 0n }, maxVisibilityTimeMs: 1000, limit: 10 }), []);
      });

      test('deleteHistoryTask deletes one task: timers by (time, id), others by id', async () => {
        const t = (seq: number) => taskIdOf(BIG_RANGE_ID, seq);
        const { shardId } = await shardWithTasks((k) => [
          task('transfer', k, t(1)),
          task('transfer', k, t(2)),
          task('timer', k, t(3), 100),
          task('timer', k, t(4), 200),
        ]);
        await p.executions.deleteHistoryTask(shardId, { category: 'transfer', taskId: t(1), visibilityTimeMs: 1_700_000_000_000 });
        await p.executions.deleteHistoryTask(shardId, { category: 'timer', taskId: t(3), visibilityTimeMs: 100 });
        await p.executions.deleteHistoryTask(shardId, { category: 'timer', taskId: t(4), visibilityTimeMs: 999 });
        assert.deepEqual(sortTasks(await allTasks(p, shardId)).map((x) => [x.category, x.taskId]), [
          ['timer', t(4)],
          ['transfer', t(2)],
        ]);
      });
    });

    describe('listExecutions and deleteWorkflowExecution', () => {
      test('listExecutions pages a shard in key order', async () => {
        const shardId = await createShard(p);
        const ns = uniq('ns');
        const keys = [
          { namespaceId: ns, workflowId: 'wf-b', runId: 'run-1' },
          { namespaceId: ns, workflowId: 'wf-a', runId: 'run-2' },
          { namespaceId: ns, workflowId: 'wf-a', runId: 'run-1' },
          { namespaceId: `${ns}-z`, workflowId: 'wf-a', runId: 'run-1' },
          { namespaceId: ns, workflowId: 'wf-c', runId: 'run-9' },
        ];
        const records = keys.map((key) => execution(key));
        for (const rec of records) {
          await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'zombie' }, execution: rec, history: noHistory(rec), tasks: [] });
        }
        const other = await createShard(p);
        await startRun(other);
        const expected = [...records].sort((a, b) => compareKeys(a.key, b.key));
        const seen: ExecutionRecord[] = [];
        let cursor: ExecutionKey | null = null;
        for (let page = 0; page < 10; page++) {
          const rows: ExecutionRecord[] = await p.executions.listExecutions(shardId, cursor, 2);
          assert.ok(rows.length <= 2, 'a page holds at most limit rows');
          if (rows.length === 0) break;
          seen.push(...rows);
          cursor = rows.at(-1)!.key;
        }
        assert.deepEqual(seen.map(plainExecution), expected.map(plainExecution));
        assert.deepEqual((await p.executions.listExecutions(shardId, expected[3]!.key, 100)).map((r) => r.key), [expected[4]!.key]);
      });

      test('deleteWorkflowExecution removes the run, its events and the current pointer naming it', async () => {
        const shardId = await createShard(p);
        const rec = await startRun(shardId);
        const zombie = execution({ ...rec.key, runId: randomUUID() }, { state: 'zombie' });
        await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'zombie' }, execution: zombie, history: append(zombie, 1, 3, 1n), tasks: [] });

        await p.executions.deleteWorkflowExecution(shardId, zombie.key);
        assert.equal(await p.executions.getWorkflowExecution(shardId, zombie.key), null);
        assert.deepEqual(await allEvents(p, shardId, branchOf(zombie)), []);
        assert.deepEqual(await p.executions.getCurrentExecution(shardId, rec.key.namespaceId, rec.key.workflowId), pointerOf(rec), 'a pointer naming another run stays');
        assert.equal((await allEvents(p, shardId, branchOf(rec))).length, 2);

        await p.executions.deleteWorkflowExecution(shardId, rec.key);
        assert.equal(await p.executions.getWorkflowExecution(shardId, rec.key), null);
        assert.deepEqual(await allEvents(p, shardId, branchOf(rec)), []);
        assert.equal(await p.executions.getCurrentExecution(shardId, rec.key.namespaceId, rec.key.workflowId), null);
        await p.executions.deleteWorkflowExecution(shardId, rec.key);
      });
    });

    describe('namespaces', () => {
      test('create, get by name and by id, unknown is null', async () => {
        const ns = namespace();
        await p.namespaces.createNamespace(ns);
        assert.deepEqual(await p.namespaces.getNamespaceByName(ns.name), ns);
        assert.deepEqual(await p.namespaces.getNamespaceById(ns.id), ns);
        assert.equal(await p.namespaces.getNamespaceByName(uniq('none')), null);
        assert.equal(await p.namespaces.getNamespaceById(randomUUID()), null);
      });

      test('a taken name or id throws NamespaceAlreadyExistsError and writes nothing', async () => {
        const ns = namespace();
        await p.namespaces.createNamespace(ns);
        await assert.rejects(p.namespaces.createNamespace(namespace({ name: ns.name })), NamespaceAlreadyExistsError);
        const sameId = namespace({ id: ns.id });
        await assert.rejects(p.namespaces.createNamespace(sameId), NamespaceAlreadyExistsError);
        assert.equal(await p.namespaces.getNamespaceByName(sameId.name), null);
        assert.deepEqual(await p.namespaces.getNamespaceById(ns.id), ns);
        assert.deepEqual(await p.namespaces.getNamespaceByName(ns.name), ns);
      });

      test('listNamespaces includes every created namespace', async () => {
        const created = [namespace(), namespace({ isGlobal: false, regions: ['a'], data: {} })];
        for (const ns of created) await p.namespaces.createNamespace(ns);
        const listed = await p.namespaces.listNamespaces();
        for (const ns of created) assert.deepEqual(listed.find((x) => x.id === ns.id), ns);
      });

      test('updateNamespace is conditional on the notification version', async () => {
        const ns = namespace();
        await p.namespaces.createNamespace(ns);
        const failedOver = { ...ns, activeRegion: 'b', failoverVersion: ns.failoverVersion + 1n, failoverState: 'handover' as const, notificationVersion: ns.notificationVersion + 1n, data: { team: 'ledger' } };
        await p.namespaces.updateNamespace(failedOver, ns.notificationVersion);
        assert.deepEqual(await p.namespaces.getNamespaceById(ns.id), failedOver);
        assert.deepEqual(await p.namespaces.getNamespaceByName(ns.name), failedOver);
        await assert.rejects(p.namespaces.updateNamespace({ ...failedOver, activeRegion: 'c', notificationVersion: failedOver.notificationVersion + 1n }, ns.notificationVersion), ConditionFailedError);
        assert.deepEqual(await p.namespaces.getNamespaceById(ns.id), failedOver);
        await assert.rejects(p.namespaces.updateNamespace(namespace(), 1n), ConditionFailedError, 'an unknown namespace');
      });
    });

    describe('task queues', () => {
      const freshQueue = (type = 1): TaskQueueKey => ({ namespaceId: randomUUID(), name: uniq('tq'), type });
      const tid = (seq: number) => taskIdOf(BIG_RANGE_ID, seq);
      const queued = (seq: number, opts: { subqueue?: number; pass?: Int64; expiryTimeMs?: number } = {}): QueuedTask => ({
        subqueue: opts.subqueue ?? 3,
        pass: opts.pass ?? 0n,
        taskId: tid(seq),
        expiryTimeMs: opts.expiryTimeMs ?? 0,
        data: JSON.stringify({ seq }),
      });
      const START = { pass: 0n, taskId: 0n };
      const seqs = (tasks: QueuedTask[]) => tasks.map((t) => (JSON.parse(t.data) as { seq: number }).seq);

      test('leaseTaskQueue creates with rangeId 1, then bumps it and keeps the ack levels', async () => {
        const key = freshQueue();
        const first = await p.taskQueues.leaseTaskQueue(key);
        assert.deepEqual(first.key, key);
        assert.equal(first.rangeId, 1n);
        assert.deepEqual(first.ackLevels, {});
        const ackLevels = { 1: { pass: MAX_INT64 - 1n, taskId: tid(9) }, 3: { pass: 0n, taskId: tid(7) } };
        await p.taskQueues.updateTaskQueue({ ...first, ackLevels, updatedAtMs: 5 });
        const second = await p.taskQueues.leaseTaskQueue(key);
        assert.equal(second.rangeId, 2n);
        assert.deepEqual(second.ackLevels, ackLevels);
        assert.equal((await p.taskQueues.leaseTaskQueue({ ...key, type: 2 })).rangeId, 1n, 'the type is part of the key');
      });

      test('updateTaskQueue with a stale rangeId throws ConditionFailedError and keeps the ack levels', async () => {
        const key = freshQueue();
        const stale = await p.taskQueues.leaseTaskQueue(key);
        const owner = await p.taskQueues.leaseTaskQueue(key);
        await p.taskQueues.updateTaskQueue({ ...owner, ackLevels: { 3: { pass: 10n, taskId: tid(3) } } });
        await assert.rejects(p.taskQueues.updateTaskQueue({ ...stale, ackLevels: { 3: { pass: 20n, taskId: tid(9) } } }), ConditionFailedError);
        assert.deepEqual((await p.taskQueues.leaseTaskQueue(key)).ackLevels, { 3: { pass: 10n, taskId: tid(3) } });
        await assert.rejects(p.taskQueues.updateTaskQueue({ key: freshQueue(), rangeId: 1n, ackLevels: {}, updatedAtMs: 1 }), ConditionFailedError, 'an unknown queue');
      });

      test('createTasks is conditional on rangeId; getTasks reads one subqueue above a level in (pass, taskId) order, at most limit', async () => {
        const key = freshQueue(2);
        const stale = await p.taskQueues.leaseTaskQueue(key);
        const owner = await p.taskQueues.leaseTaskQueue(key);
        // Written in id order, stored in pass order: the fair order matching chose.
        await p.taskQueues.createTasks(key, owner.rangeId, [
          queued(1, { pass: 2000n }),
          queued(2, { expiryTimeMs: 1_700_000_000_000 }),
          queued(3, { pass: 1000n }),
          queued(4),
          queued(5, { subqueue: 1, pass: 2n ** 62n }),
        ]);
        await assert.rejects(p.taskQueues.createTasks(key, stale.rangeId, [queued(6), queued(7)]), ConditionFailedError);
        await assert.rejects(p.taskQueues.createTasks(freshQueue(), 1n, [queued(1)]), ConditionFailedError, 'an unknown queue');
        await assert.rejects(p.taskQueues.createTasks(key, owner.rangeId, [queued(8, { subqueue: -1 })]), TypeError);

        const all = await p.taskQueues.getTasks(key, 3, START, 100);
        assert.deepEqual(all, [queued(2, { expiryTimeMs: 1_700_000_000_000 }), queued(4), queued(3, { pass: 1000n }), queued(1, { pass: 2000n })]);
        assert.deepEqual(seqs(await p.taskQueues.getTasks(key, 3, { pass: 0n, taskId: tid(2) }, 100)), [4, 3, 1]);
        assert.deepEqual(seqs(await p.taskQueues.getTasks(key, 3, { pass: 0n, taskId: MAX_INT64 }, 100)), [3, 1], 'a higher pass comes after every id of a lower one');
        assert.deepEqual(seqs(await p.taskQueues.getTasks(key, 3, START, 2)), [2, 4]);
        assert.deepEqual(await p.taskQueues.getTasks(key, 1, START, 100), [queued(5, { subqueue: 1, pass: 2n ** 62n })], 'subqueues are apart');
        assert.deepEqual(await p.taskQueues.getTasks({ ...key, type: 1 }, 3, START, 100), [], 'the type is part of the key');
      });

      test('deleteTasks removes the tasks of one subqueue up to and including the level', async () => {
        const key = freshQueue();
        const owner = await p.taskQueues.leaseTaskQueue(key);
        await p.taskQueues.createTasks(key, owner.rangeId, [queued(1), queued(2, { pass: 5n }), queued(3), queued(4, { pass: 5n }), queued(5, { subqueue: 2 })]);
        await p.taskQueues.deleteTasks(key, 3, { pass: 5n, taskId: tid(2) });
        assert.deepEqual(seqs(await p.taskQueues.getTasks(key, 3, START, 100)), [4]);
        assert.deepEqual(seqs(await p.taskQueues.getTasks(key, 2, START, 100)), [5], 'other subqueues keep theirs');
        await p.taskQueues.deleteTasks(key, 3, { pass: MAX_INT64, taskId: MAX_INT64 });
        assert.deepEqual(await p.taskQueues.getTasks(key, 3, START, 100), []);
      });
    });
  });
}

function compareKeys(a: ExecutionKey, b: ExecutionKey): number {
  for (const f of ['namespaceId', 'workflowId', 'runId'] as const) {
    if (a[f] !== b[f]) return a[f] < b[f] ? -1 : 1;
  }
  return 0;
}

function sortTasks(ts: HistoryTask[]): HistoryTask[] {
  return [...ts].sort((a, b) => (a.category !== b.category ? (a.category < b.category ? -1 : 1) : a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
}
