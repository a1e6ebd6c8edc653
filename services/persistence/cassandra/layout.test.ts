// The Cassandra layout at scale (DESIGN invariant 1): a long history grows its branch's partition,
// never the shard's, task reads do not walk what range deletes removed, rows a crashed writer left
// in history_node stay out of every read, and a refused write cleans up after itself. Needs the
// test Cassandra.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { dropTestKeyspace, ensureTestCassandra, type TestCassandra } from '../../../deploy/cassandra/test-instance.js';
import { BIG_RANGE_ID, MAX_INT64, branchOf, bytes, createShard, execution, freshKey, next, task, taskIdOf } from '../conformance/fixtures.js';
import { ConditionFailedError, CurrentWorkflowConditionFailedError } from '../errors.js';
import type { ExecutionRecord, HistoryEventRow, Int64 } from '../types.js';
import { createClient } from './db.js';
import { openCassandraPersistence, type CassandraPersistence } from './index.js';

const ONE = cassandra.types.consistencies.one;
const EVENTS_PER_UPDATE = 10;
const UPDATES = 200;
const EVENT_BYTES = 200;

/** Bytes of a cell value as CQL hands it back: blobs and text by length, numbers by width. */
function cellBytes(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (Buffer.isBuffer(v)) return v.length;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'bigint') return 8;
  if (typeof v === 'number') return 4;
  if (typeof v === 'object') return Object.entries(v).reduce((n, [k, x]) => n + Buffer.byteLength(k) + cellBytes(x), 0);
  return 1;
}

describe('cassandra layout', () => {
  let t: TestCassandra;
  let p: CassandraPersistence;
  let cql: cassandra.Client;
  before(async () => {
    t = await ensureTestCassandra();
    p = await openCassandraPersistence({ contactPoints: [t.contactPoint], localDataCenter: 'datacenter1', keyspace: t.keyspace });
    cql = createClient({ contactPoints: [t.contactPoint], localDataCenter: 'datacenter1' });
  });
  after(async () => {
    await cql.shutdown();
    await p.close();
    await dropTestKeyspace(t);
  });

  /** Rows and summed cell bytes of one partition, read back with CQL. */
  async function partition(table: string, where: string, params: unknown[]): Promise<{ rows: number; bytes: number }> {
    let rows = 0;
    let size = 0;
    for await (const row of await cql.execute(`SELECT * FROM ${t.keyspace}.${table} WHERE ${where}`, params, { prepare: true, fetchSize: 1000 })) {
      rows++;
      size += row.values().reduce((n: number, v: unknown) => n + cellBytes(v), 0);
    }
    return { rows, bytes: size };
  }

  function bigEvents(from: number, to: number, taskId: Int64): HistoryEventRow[] {
    return Array.from({ length: to - from }, (_, i) => ({ eventId: from + i, version: 1n, taskId, data: bytes(`${from + i}`.padEnd(EVENT_BYTES, '.')) }));
  }

  test('the shard partition stays the same size while a run appends 2,000 events', async () => {
    const shardId = await createShard(p);
    let seq = 0;
    let rec = execution(freshKey(), { nextEventId: 1 });
    await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'brandNew' }, execution: rec, history: { branch: branchOf(rec), events: [] }, tasks: [] });
    const shardRows = () => partition('executions', 'shard_id = ?', [shardId]);
    const historyRows = () => partition('history_node', 'tree_id = ? AND branch_id = ?', [rec.key.runId, rec.branchId]);

    const samples: { events: number; shard: { rows: number; bytes: number }; history: { rows: number; bytes: number } }[] = [];
    for (let u = 0; u < UPDATES; u++) {
      const taskId = taskIdOf(BIG_RANGE_ID, ++seq);
      const updated = next(rec, { nextEventId: rec.nextEventId + EVENTS_PER_UPDATE, data: bytes(`state ${u}`.padEnd(64, '.')) });
      await p.executions.updateWorkflowExecution({
        shardId,
        rangeId: BIG_RANGE_ID,
        mode: 'updateCurrent',
        execution: updated,
        expectedDbRecordVersion: rec.dbRecordVersion,
        expectedNextEventId: rec.nextEventId,
        history: { branch: branchOf(rec), events: bigEvents(rec.nextEventId, updated.nextEventId, taskId) },
        tasks: [task('transfer', rec.key, taskId), task('timer', rec.key, taskId, 1_000 + u)],
      });
      rec = updated;
      // The queue processors ack what they ran: one range delete per category.
      await p.executions.rangeDeleteHistoryTasks(shardId, 'transfer', taskId + 1n);
      await p.executions.rangeDeleteTimerTasks(shardId, { visibilityTimeMs: 1_000 + u, taskId: taskId + 1n });
      if (u === 9 || u === UPDATES - 1) samples.push({ events: rec.nextEventId - 1, shard: await shardRows(), history: await historyRows() });
    }

    for (const s of samples) {
      console.log(`after ${s.events} events: shard partition ${s.shard.rows} rows ${s.shard.bytes} B; history_node partition ${s.history.rows} rows ${s.history.bytes} B`);
    }
    const [early, late] = samples as [(typeof samples)[0], (typeof samples)[0]];
    assert.equal(late.events, UPDATES * EVENTS_PER_UPDATE);
    assert.equal(late.shard.rows, early.shard.rows, 'the shard partition holds the same rows: shard, pointer, execution');
    assert.ok(late.shard.bytes <= early.shard.bytes + 64, `shard partition ${early.shard.bytes} B -> ${late.shard.bytes} B`);
    assert.ok(late.history.bytes >= 15 * early.history.bytes, `history_node partition ${early.history.bytes} B -> ${late.history.bytes} B`);
    assert.equal((await p.executions.readHistory({ shardId, branch: branchOf(rec), minEventId: 1, maxEventId: rec.nextEventId, limit: 5000 })).length, 2000);
  });

  test('task reads start at their lower bound: range-deleted tasks cost one range tombstone, not one per task', async () => {
    const seq = (n: number) => taskIdOf(BIG_RANGE_ID, n);
    /** A shard with tasks 1..100 of which 1..95 are acked, by range deletes or one delete per task. */
    async function ackedShard(ack: (shardId: number, acked: number) => Promise<void>): Promise<number> {
      const shardId = await createShard(p);
      const rec = execution(freshKey());
      const tasks = Array.from({ length: 100 }, (_, i) => task('transfer', rec.key, seq(i + 1)));
      await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'brandNew' }, execution: rec, history: { branch: branchOf(rec), events: [] }, tasks });
      for (let acked = 1; acked <= 95; acked++) await ack(shardId, acked);
      return shardId;
    }
    const ranged = await ackedShard((shardId, acked) => p.executions.rangeDeleteHistoryTasks(shardId, 'transfer', seq(acked + 1)));
    const single = await ackedShard((shardId, acked) => p.executions.deleteHistoryTask(shardId, { category: 'transfer', taskId: seq(acked), visibilityTimeMs: 0 }));

    const tombstones = async (shardId: number, after: Int64) => {
      const rs = await cql.execute(
        `SELECT id FROM ${t.keyspace}.executions WHERE shard_id = ? AND row_type = 4 AND namespace_id = '' AND workflow_id = '' AND run_id = '' AND visibility_ts = 0 AND id > ? AND id <= ?`,
        [shardId, after, MAX_INT64],
        { prepare: true, traceQuery: true },
      );
      assert.equal(rs.rowLength, 5);
      const summary = (await traceActivities(rs.info.traceId)).map((a) => /Read (\d+) live rows and (\d+) tombstone cells/.exec(a)).find((m) => m !== null);
      assert.ok(summary, 'the trace reports what the read went through');
      return Number(summary[2]);
    };
    const counts = {
      rangeDeletedFromAck: await tombstones(ranged, seq(95)),
      rowDeletedFromAck: await tombstones(single, seq(95)),
      rowDeletedFromStart: await tombstones(single, 0n),
    };
    console.log(`tombstone cells read for the 5 live tasks after 95 were acked: ${JSON.stringify(counts)}`);
    assert.ok(counts.rangeDeletedFromAck <= 2, 'one range tombstone (its two bounds) whatever the number of acked tasks');
    assert.ok(counts.rowDeletedFromAck <= 2, 'a slice from the ack level skips row tombstones below it');
    assert.ok(counts.rowDeletedFromStart >= 95, 'what reading from the partition start would cost');
    assert.deepEqual(
      (await p.executions.getHistoryTasks({ shardId: ranged, category: 'transfer', afterTaskId: seq(95), maxTaskId: MAX_INT64, limit: 10 })).map((x) => x.taskId),
      [96, 97, 98, 99, 100].map(seq),
    );
  });

  test('rows a writer left before crashing stay out of reads, and a later commit at their event ids wins', async () => {
    const shardId = await createShard(p);
    const rec = execution(freshKey());
    const branch = branchOf(rec);
    await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'brandNew' }, execution: rec, history: { branch, events: bigEvents(1, 3, taskIdOf(BIG_RANGE_ID, 1)) }, tasks: [] });
    // What a writer that died between its event write and its batch leaves behind.
    const orphanTask = taskIdOf(BIG_RANGE_ID, 2);
    for (const e of bigEvents(3, 6, orphanTask)) {
      await cql.execute(
        `INSERT INTO ${t.keyspace}.history_node (tree_id, branch_id, node_id, txn_id, version, data) VALUES (?, ?, ?, ?, ?, ?)`,
        [branch.treeId, branch.branchId, BigInt(e.eventId), orphanTask, 1n, Buffer.from('orphan')],
        { prepare: true },
      );
    }
    const read = async (r: ExecutionRecord) =>
      (await p.executions.readHistory({ shardId, branch, minEventId: 1, maxEventId: r.nextEventId, limit: 100 })).map((e) => [e.eventId, e.taskId]);
    assert.deepEqual(await read(rec), [
      [1, taskIdOf(BIG_RANGE_ID, 1)],
      [2, taskIdOf(BIG_RANGE_ID, 1)],
    ]);

    const committedTask = taskIdOf(BIG_RANGE_ID, 3);
    const updated = next(rec, { nextEventId: 5 });
    await p.executions.updateWorkflowExecution({
      shardId,
      rangeId: BIG_RANGE_ID,
      mode: 'updateCurrent',
      execution: updated,
      expectedDbRecordVersion: 1,
      expectedNextEventId: 3,
      history: { branch, events: bigEvents(3, 5, committedTask) },
      tasks: [],
    });
    assert.deepEqual(await read(updated), [
      [1, taskIdOf(BIG_RANGE_ID, 1)],
      [2, taskIdOf(BIG_RANGE_ID, 1)],
      [3, committedTask],
      [4, committedTask],
    ]);
    await p.executions.deleteWorkflowExecution(shardId, rec.key);
    assert.equal((await partition('history_node', 'tree_id = ? AND branch_id = ?', [branch.treeId, branch.branchId])).rows, 0, 'deleting the run removes the orphans');
  });

  test('a refused write deletes the event rows it wrote; a refused create also its history_tree row', async () => {
    const shardId = await createShard(p);
    const first = execution(freshKey());
    await p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'brandNew' }, execution: first, history: { branch: branchOf(first), events: bigEvents(1, 3, taskIdOf(BIG_RANGE_ID, 1)) }, tasks: [] });
    const second = execution({ ...first.key, runId: randomUUID() });
    await assert.rejects(
      p.executions.createWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: { kind: 'brandNew' }, execution: second, history: { branch: branchOf(second), events: bigEvents(1, 3, taskIdOf(BIG_RANGE_ID, 2)) }, tasks: [] }),
      CurrentWorkflowConditionFailedError,
    );
    assert.equal((await partition('history_node', 'tree_id = ? AND branch_id = ?', [second.key.runId, second.branchId])).rows, 0);
    assert.equal((await partition('history_tree', 'tree_id = ?', [second.key.runId])).rows, 0);

    await assert.rejects(
      p.executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'updateCurrent', execution: next(first, { dbRecordVersion: 3 }), expectedDbRecordVersion: 2, expectedNextEventId: 3, history: { branch: branchOf(first), events: bigEvents(3, 5, taskIdOf(BIG_RANGE_ID, 3)) }, tasks: [] }),
      ConditionFailedError,
    );
    assert.equal((await partition('history_node', 'tree_id = ? AND branch_id = ?', [first.key.runId, first.branchId])).rows, 2);
    assert.equal((await partition('history_tree', 'tree_id = ?', [first.key.runId])).rows, 1, 'the run that exists keeps its listing');
  });

  /** The activities of a traced query; Cassandra writes its session events a moment after answering. */
  async function traceActivities(traceId: cassandra.types.Uuid): Promise<string[]> {
    for (let attempt = 0; attempt < 50; attempt++) {
      // ONE: system_traces keeps two replicas by default, more than a one-node test cluster has.
      const rows = (await cql.execute('SELECT activity FROM system_traces.events WHERE session_id = ?', [traceId], { prepare: true, consistency: ONE })).rows;
      const activities = rows.map((r) => r.get('activity') as string);
      if (activities.some((a) => a.startsWith('Read '))) return activities;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return [];
  }
});
