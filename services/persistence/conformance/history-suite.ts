// The history tree part of the conformance suite: reads that follow ancestors, appends that never
// rewrite the stored branch, and writes whose batch fails leaving nothing a reader sees.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ConditionFailedError, HistoryConflictError, ShardOwnershipLostError } from '../errors.js';
import type { Persistence } from '../store.js';
import type { ExecutionRecord, HistoryBranch, HistoryEventRow, Int64, UpdateExecutionRequest } from '../types.js';
import {
  BIG_RANGE_ID,
  MAIN,
  allEvents,
  allTasks,
  append,
  branchOf,
  committedEvents,
  createShard,
  events,
  execution,
  freshKey,
  next,
  plainEvents,
  runWriters,
  task,
  taskIdOf,
} from './fixtures.js';

export function describeHistoryTree(store: () => Persistence): void {
  const { startRun, assertStored } = runWriters(store);
  const tid = (seq: number, rangeId: Int64 = BIG_RANGE_ID) => taskIdOf(rangeId, seq);
  const ids = (rows: HistoryEventRow[]) => rows.map((e) => e.eventId);

  /** A run whose stored branch holds events 1..to-1, written at one task id. */
  async function runWithEvents(shardId: number, to: number): Promise<ExecutionRecord> {
    const rec = execution(freshKey(), { nextEventId: to });
    await store().executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'brandNew' }, execution: rec, history: append(rec, 1, to, tid(1)), tasks: [] });
    return rec;
  }

  function update(shardId: number, rec: ExecutionRecord, over: Partial<UpdateExecutionRequest>): Promise<void> {
    return store().executions.updateWorkflowExecution({
      shardId,
      rangeId: BIG_RANGE_ID,
      mode: 'updateCurrent',
      execution: next(rec),
      expectedDbRecordVersion: rec.dbRecordVersion,
      expectedNextEventId: rec.nextEventId,
      tasks: [],
      ...over,
    });
  }

  const read = (shardId: number, branch: HistoryBranch, minEventId: number, maxEventId: number, limit = 100) =>
    store().executions.readHistory({ shardId, branch, minEventId, maxEventId, limit });

  describe('history tree', () => {
    test('readHistory honours [min, max), limit, branch and tree', async () => {
      const shardId = await createShard(store());
      const rec = await runWithEvents(shardId, 11);
      const main = branchOf(rec);
      assert.deepEqual(plainEvents(await read(shardId, main, 1, 11)), plainEvents(events(1, 11, tid(1))));
      assert.deepEqual(ids(await read(shardId, main, 3, 7)), [3, 4, 5, 6]);
      assert.deepEqual(ids(await read(shardId, main, 1, 11, 2)), [1, 2]);
      assert.deepEqual(ids(await read(shardId, main, 9, 100, 5)), [9, 10]);
      assert.deepEqual(await read(shardId, main, 5, 5), []);
      assert.deepEqual(await read(shardId, branchOf(rec, 'branch-none'), 1, 100), []);
      assert.deepEqual(await read(shardId, { ...main, treeId: randomUUID() }, 1, 100), []);
    });

    test('a fork reads its ancestor range, then its own events; the base branch is unchanged', async () => {
      const shardId = await createShard(store());
      const rec = await runWithEvents(shardId, 11);
      const fork = branchOf(rec, 'branch-fork', [{ branchId: MAIN, endEventId: 6 }]);
      const forked = next(rec, { branchId: fork.branchId, nextEventId: 9 });
      await update(shardId, rec, { execution: forked, history: append(rec, 6, 9, tid(2), fork) });
      await assertStored(shardId, forked);

      const expected = [...events(1, 6, tid(1)), ...events(6, 9, tid(2))];
      assert.deepEqual(plainEvents(await read(shardId, fork, 1, forked.nextEventId)), plainEvents(expected));
      assert.deepEqual(ids(await read(shardId, fork, 4, 9, 3)), [4, 5, 6], 'limit counts across the ancestor range');
      assert.deepEqual(ids(await read(shardId, fork, 7, 9)), [7, 8]);
      assert.deepEqual(plainEvents(await read(shardId, branchOf(rec), 1, 11)), plainEvents(events(1, 11, tid(1))), 'the base keeps 1..10');

      // The fork is the stored branch now: appends continue it at its own nextEventId.
      const grown = next(forked, { nextEventId: 10 });
      await update(shardId, forked, { execution: grown, history: append(rec, 9, 10, tid(3), fork) });
      assert.deepEqual(ids(await read(shardId, fork, 1, grown.nextEventId)), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await assert.rejects(update(shardId, grown, { execution: next(grown), history: append(rec, 6, 7, tid(4), fork) }), HistoryConflictError);
    });

    test('appending to the stored branch anywhere but its end is a HistoryConflictError and writes nothing', async () => {
      const shardId = await createShard(store());
      const rec = await startRun(shardId);
      for (const [from, to] of [
        [2, 4],
        [1, 3],
        [5, 6],
      ] as const) {
        const err = await update(shardId, rec, { execution: next(rec, { nextEventId: to }), history: append(rec, from, to, tid(10 + from)), tasks: [task('transfer', rec.key, tid(10 + from))] }).then(
          () => null,
          (e: unknown) => e,
        );
        assert.ok(err instanceof HistoryConflictError, `events ${from}..${to - 1} after 1..2: expected HistoryConflictError, got ${String(err)}`);
        assert.ok(err instanceof ConditionFailedError, 'a HistoryConflictError is a ConditionFailedError');
      }
      await assertStored(shardId, rec);
      assert.deepEqual(plainEvents(await allEvents(store(), shardId, branchOf(rec))), plainEvents(events(1, 3, tid(1))), 'not even an orphan was written');
      assert.equal((await allTasks(store(), shardId)).length, 1);

      // Another branch may start anywhere: a fork that loses leaves the record on its branch.
      const fork = branchOf(rec, 'branch-fork', [{ branchId: MAIN, endEventId: 2 }]);
      const kept = next(rec);
      await update(shardId, rec, { execution: kept, history: append(rec, 2, 4, tid(20), fork) });
      await assertStored(shardId, kept);
      assert.deepEqual(plainEvents(await read(shardId, fork, 1, 4)), plainEvents([...events(1, 2, tid(1)), ...events(2, 4, tid(20))]));
      assert.deepEqual(plainEvents(await committedEvents(store(), shardId, rec.key)), plainEvents(events(1, 3, tid(1))));
    });

    test('expectedNextEventId is a condition of the batch', async () => {
      const shardId = await createShard(store());
      const rec = await startRun(shardId);
      for (const expectedNextEventId of [2, 4]) {
        const err = await update(shardId, rec, { expectedNextEventId, execution: next(rec, { nextEventId: expectedNextEventId + 1 }), history: append(rec, expectedNextEventId, expectedNextEventId + 1, tid(30 + expectedNextEventId)) }).then(
          () => null,
          (e: unknown) => e,
        );
        assert.ok(err instanceof ConditionFailedError, `expectedNextEventId ${expectedNextEventId}: expected ConditionFailedError, got ${String(err)}`);
      }
      await assertStored(shardId, rec);
      assert.deepEqual(plainEvents(await committedEvents(store(), shardId, rec.key)), plainEvents(events(1, 3, tid(1))));
    });

    describe('a batch failing after its events were written leaves no visible event', () => {
      const committed = async (shardId: number, rec: ExecutionRecord) => plainEvents(await committedEvents(store(), shardId, rec.key));

      test('stale range id: the new owner writes the same event ids with other content, and wins', async () => {
        const shardId = await createShard(store());
        const rec = await startRun(shardId);
        const stolen = BIG_RANGE_ID + 1n;
        await store().shards.updateShard({ shardId, rangeId: stolen, owner: 'thief', ackLevels: {}, updatedAtMs: 2 }, BIG_RANGE_ID);
        await assert.rejects(update(shardId, rec, { execution: next(rec, { nextEventId: 6 }), history: append(rec, 3, 6, tid(40)) }), ShardOwnershipLostError);
        assert.deepEqual(await committed(shardId, rec), plainEvents(events(1, 3, tid(1))));

        await update(shardId, rec, { rangeId: stolen, execution: next(rec, { nextEventId: 5 }), history: append(rec, 3, 5, tid(1, stolen)) });
        assert.deepEqual(await committed(shardId, rec), plainEvents([...events(1, 3, tid(1)), ...events(3, 5, tid(1, stolen))]));
      });

      test('wrong expectedDbRecordVersion: a later write at the same event ids with other content wins', async () => {
        const shardId = await createShard(store());
        const rec = await startRun(shardId);
        await assert.rejects(
          update(shardId, rec, { expectedDbRecordVersion: 2, execution: next(rec, { dbRecordVersion: 3, nextEventId: 6 }), history: append(rec, 3, 6, tid(50)) }),
          ConditionFailedError,
        );
        assert.deepEqual(await committed(shardId, rec), plainEvents(events(1, 3, tid(1))));

        await update(shardId, rec, { execution: next(rec, { nextEventId: 5 }), history: append(rec, 3, 5, tid(51)) });
        assert.deepEqual(await committed(shardId, rec), plainEvents([...events(1, 3, tid(1)), ...events(3, 5, tid(51))]));
      });

      test('a stale writer coming after a commit (higher task id, same event ids) never shadows it', async () => {
        const shardId = await createShard(store());
        const rec = await startRun(shardId);
        await update(shardId, rec, { execution: next(rec, { nextEventId: 5 }), history: append(rec, 3, 5, tid(60)) });
        await assert.rejects(update(shardId, rec, { execution: next(rec, { nextEventId: 5 }), history: append(rec, 3, 5, tid(61)) }), ConditionFailedError);
        assert.deepEqual(await committed(shardId, rec), plainEvents([...events(1, 3, tid(1)), ...events(3, 5, tid(60))]));
      });
    });

    test('deleteWorkflowExecution removes every branch of the tree', async () => {
      const shardId = await createShard(store());
      const rec = await runWithEvents(shardId, 6);
      const other = await runWithEvents(shardId, 4);
      const fork = branchOf(rec, 'branch-fork', [{ branchId: MAIN, endEventId: 3 }]);
      await update(shardId, rec, { execution: next(rec), history: append(rec, 3, 5, tid(70), fork) });
      assert.equal((await read(shardId, fork, 1, 5)).length, 4);

      await store().executions.deleteWorkflowExecution(shardId, rec.key);
      assert.deepEqual(await allEvents(store(), shardId, branchOf(rec)), []);
      assert.deepEqual(await allEvents(store(), shardId, fork), []);
      assert.deepEqual(ids(await committedEvents(store(), shardId, other.key)), [1, 2, 3], 'another tree stays');
    });
  });
}
