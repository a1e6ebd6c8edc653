// DESIGN invariant 2 on the real stores: two history owners of one shard, each on its own store
// connection (as two processes would be). The second owner's range_id bump fences the first:
// every call of the stale owner fails with SHARD_MOVED, none of its writes is visible, and the
// new owner's task ids are all above the old owner's.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { isTandemError } from '../common/errors.js';
import { enums, historyv1, type workflowservice as ws } from '../common/temporal.js';
import { toBigInt } from '../common/proto-time.js';
import type { Persistence } from '../persistence/store.js';
import type { ExecutionKey } from '../persistence/types.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import { openCassandraPersistence } from '../persistence/cassandra/index.js';
import { allTasks, plainEvents, plainExecution } from '../persistence/conformance/fixtures.js';
import { ensureTestCassandra, dropTestKeyspace, type TestCassandra } from '../../deploy/cassandra/test-instance.js';
import { LOCAL_DATA_CENTER } from '../../deploy/cassandra/launcher.js';
import type { NamespaceRef } from './api.js';
import { TASK_ID_BITS } from './shard.js';
import { regionA, TestRegion } from './test-region.js';
import { MutableState } from './mutable-state.js';

const SHARD = 0;

/**
 * One history owner: its own store connection, namespace cache, matching and history service, on
 * one shard, so every workflow of the test lives in the shard the owners fight over.
 */
const Owner = { start: (hostId: string, store: Persistence) => TestRegion.start(regionA, { numShards: 1, store, hostId }) };

function startRequest(ns: NamespaceRef, workflowId: string): ws.IStartWorkflowExecutionRequest {
  return {
    namespace: ns.name,
    workflowId,
    workflowType: { name: 'fencingWorkflow' },
    taskQueue: { name: 'fencing-queue-nobody-polls' },
    requestId: randomUUID(),
    identity: 'fencing-test',
  };
}

function signalRequest(ns: NamespaceRef, workflowId: string, name: string): ws.ISignalWorkflowExecutionRequest {
  return { namespace: ns.name, workflowExecution: { workflowId }, signalName: name, identity: 'fencing-test', requestId: randomUUID() };
}

async function assertShardMoved(what: string, call: () => Promise<unknown>): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(isTandemError(err, 'SHARD_MOVED'), `${what}: expected SHARD_MOVED, got ${String(err)}`);
    return true;
  });
}

function runBackend(name: string, open: () => Promise<Persistence>): void {
  describe(`shard fencing on ${name}`, () => {
    test('a stale owner is fenced, leaves no trace, and the new owner continues its workflows', async () => {
      const a = await Owner.start('owner-a', await open());
      let b: TestRegion | undefined;
      try {
        const rec = await a.namespaces.register({ name: `fencing-${randomUUID().slice(0, 8)}` });
        const ns: NamespaceRef = { id: rec.id, name: rec.name };
        const wf1 = `wf1-${randomUUID()}`;
        const wf2 = `wf2-${randomUUID()}`;
        const wf3 = `wf3-${randomUUID()}`;

        // The first owner writes a workflow: start and one signal.
        const started = await a.engine.startWorkflowExecution(ns, startRequest(ns, wf1));
        await a.engine.signalWorkflowExecution(ns, signalRequest(ns, wf1, 'from-a'));
        const shardA = a.history.controller.getShard(SHARD);
        assert.ok(shardA && !shardA.isLost);
        const rangeA = shardA.rangeId;

        const key1: ExecutionKey = { namespaceId: ns.id, workflowId: wf1, runId: started.runId! };
        const historyA = await readHistory(a, ns, wf1);
        assert.deepEqual(eventTypes(historyA), [
          'WorkflowExecutionStarted',
          'WorkflowTaskScheduled',
          'WorkflowExecutionSignaled',
        ]);
        const before = await snapshot(a.store, ns, key1, [wf1, wf2, wf3]);
        const idsOfA = [...historyA.map((e) => toBigInt(e.taskId!)), ...before.tasks.map((t) => t.taskId)];
        const maxIdOfA = idsOfA.reduce((m, id) => (id > m ? id : m), 0n);
        assert.ok(maxIdOfA >= rangeA << TASK_ID_BITS, 'the first owner issued ids from its range');

        // The second owner takes the shard: range_id goes up by one, under its name.
        b = await Owner.start('owner-b', await open());
        const row = await b.store.shards.getShard(SHARD);
        assert.equal(row?.rangeId, rangeA + 1n);
        assert.equal(row?.owner, 'owner-b');

        // Every call of the stale owner fails, writes (cached state or not) and reads alike.
        await assertShardMoved('signal', () => a.engine.signalWorkflowExecution(ns, signalRequest(ns, wf1, 'stale-a')));
        assert.equal(shardA.isLost, true, 'the fenced write marked the shard lost');
        assert.deepEqual(a.history.controller.ownedShardIds, [], 'the lost shard was dropped');
        await assertShardMoved('start', () => a.engine.startWorkflowExecution(ns, startRequest(ns, wf2)));
        await assertShardMoved('terminate', () =>
          a.engine.terminateWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId: wf1 }, reason: 'stale' }),
        );
        await assertShardMoved('cancel', () =>
          a.engine.requestCancelWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId: wf1 }, requestId: randomUUID() }),
        );
        await assertShardMoved('describe', () => a.engine.describeWorkflowExecution(ns, { namespace: ns.name, execution: { workflowId: wf1 } }));

        // Nothing the stale owner tried is in the store: no run of wf2, wf1 as it was, no new task.
        const afterFence = await snapshot(b.store, ns, key1, [wf1, wf2, wf3]);
        assert.equal(afterFence.current[wf2], null, 'no current run for the fenced start');
        assert.deepEqual(afterFence.workflowIdsInShard, [wf1], 'the only execution of the shard is wf1');
        assert.deepEqual(afterFence.execution, before.execution, 'wf1 record unchanged');
        assert.deepEqual(afterFence.events, before.events, 'wf1 events unchanged');
        const bFloor = (rangeA + 1n) << TASK_ID_BITS;
        const knownBefore = new Set(before.tasks.map((t) => t.taskId));
        for (const t of afterFence.tasks) {
          assert.notEqual(t.workflowId, wf2, 'no task for the fenced start');
          if (t.taskId < bFloor) assert.ok(knownBefore.has(t.taskId), `task ${t.taskId} (${t.type}) was written before the fence`);
        }
        const visibility = await b.store.visibility.listVisibility({ namespaceId: ns.id, query: { where: { op: '=', field: { name: 'WorkflowId', type: 'Keyword', builtin: true }, value: wf2 } }, pageSize: 10 });
        assert.deepEqual(visibility.records, [], 'no visibility record for the fenced start');

        // The new owner reads what the first wrote and continues it.
        const described = await b.engine.describeWorkflowExecution(ns, { namespace: ns.name, execution: { workflowId: wf1 } });
        assert.equal(described.workflowExecutionInfo?.status, enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
        assert.equal(described.workflowExecutionInfo?.execution?.runId, started.runId);
        assert.equal(Number(described.workflowExecutionInfo?.historyLength), historyA.length);
        assert.deepEqual(encoded(await readHistory(b, ns, wf1)), encoded(historyA));

        await b.engine.signalWorkflowExecution(ns, signalRequest(ns, wf1, 'from-b'));
        await b.engine.terminateWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId: wf1 }, reason: 'done', identity: 'b' });
        const started3 = await b.engine.startWorkflowExecution(ns, startRequest(ns, wf3));
        const history1 = await readHistory(b, ns, wf1);
        assert.deepEqual(eventTypes(history1), [
          'WorkflowExecutionStarted',
          'WorkflowTaskScheduled',
          'WorkflowExecutionSignaled',
          'WorkflowExecutionSignaled',
          'WorkflowExecutionTerminated',
        ]);
        assert.deepEqual(encoded(history1.slice(0, historyA.length)), encoded(historyA), 'the first owner’s events are kept as written');
        assert.deepEqual(
          history1.slice(3).map((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? null),
          ['from-b', null],
          'the stale signal never landed',
        );

        // Invariant 2: every id the new owner issued is above every id the first owner issued.
        const history3 = await readHistory(b, ns, wf3);
        const after = await snapshot(b.store, ns, { namespaceId: ns.id, workflowId: wf3, runId: started3.runId! }, [wf1, wf2, wf3]);
        const idsOfB = [
          ...history1.slice(historyA.length).map((e) => toBigInt(e.taskId!)),
          ...history3.map((e) => toBigInt(e.taskId!)),
          ...after.tasks.filter((t) => !knownBefore.has(t.taskId)).map((t) => t.taskId),
        ];
        assert.ok(idsOfB.length >= 3);
        for (const id of idsOfB) assert.ok(id > maxIdOfA, `task id ${id} of the new owner is above ${maxIdOfA}`);
        assert.equal(after.current[wf1], started.runId);
        assert.equal(after.current[wf3], started3.runId);
      } finally {
        await b?.stop();
        await a.stop();
      }
    });

    test('writes racing the takeover: exactly the acknowledged ones are in history', async () => {
      const a = await Owner.start('race-a', await open());
      let b: TestRegion | undefined;
      try {
        const rec = await a.namespaces.register({ name: `race-${randomUUID().slice(0, 8)}` });
        const ns: NamespaceRef = { id: rec.id, name: rec.name };
        const wf = `race-${randomUUID()}`;
        await a.engine.startWorkflowExecution(ns, startRequest(ns, wf));
        const shardA = a.history.controller.getShard(SHARD)!;

        const names = Array.from({ length: 20 }, (_, i) => `s${i}`);
        const outcomes = names.map((n) => a.engine.signalWorkflowExecution(ns, signalRequest(ns, wf, n)).then(() => 'ok' as const, (err: unknown) => err));
        b = await Owner.start('race-b', await open());
        const settled = await Promise.all(outcomes);
        for (const o of settled) if (o !== 'ok') assert.ok(isTandemError(o, 'SHARD_MOVED'), `a failed signal fails with SHARD_MOVED, got ${String(o)}`);
        const acknowledged = names.filter((_, i) => settled[i] === 'ok');

        // A queue-ack write of the stale owner is fenced like any other write.
        await assertShardMoved('ack levels', () => shardA.updateAckLevels({ transfer: '1' }));
        assert.equal(shardA.isLost, true);

        const inHistory = (await readHistory(b, ns, wf)).flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []);
        assert.deepEqual(inHistory, acknowledged);
        assert.notEqual((await b.store.shards.getShard(SHARD))?.ackLevels.transfer, '1', 'the fenced ack level write left no trace');
      } finally {
        await b?.stop();
        await a.stop();
      }
    });
  });
}

async function snapshot(store: Persistence, ns: NamespaceRef, key: ExecutionKey, workflowIds: string[]) {
  const rec = await store.executions.getWorkflowExecution(SHARD, key);
  assert.ok(rec, `run ${key.workflowId} exists`);
  const all = await store.executions.listExecutions(SHARD, null, 1000);
  const events = await store.executions.readHistory({ shardId: SHARD, branch: MutableState.fromBlob(rec.data, rec.dbRecordVersion, 0n).branch, minEventId: 0, maxEventId: rec.nextEventId, limit: 10_000 });
  const current: Record<string, string | null> = {};
  for (const id of workflowIds) current[id] = (await store.executions.getCurrentExecution(SHARD, ns.id, id))?.runId ?? null;
  return {
    execution: plainExecution(rec),
    events: plainEvents(events),
    workflowIdsInShard: all.map((r) => r.key.workflowId),
    current,
    tasks: await allTasks(store, SHARD),
  };
}

async function readHistory(owner: TestRegion, ns: NamespaceRef, workflowId: string): Promise<historyv1.IHistoryEvent[]> {
  const res = await owner.engine.getWorkflowExecutionHistory(ns, { namespace: ns.name, execution: { workflowId } }, new AbortController().signal);
  return res.history?.events ?? [];
}

function eventTypes(events: historyv1.IHistoryEvent[]): string[] {
  return events.map((e) => pascal(enums.EventType[e.eventType!]));
}

function pascal(name: string): string {
  return name
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
}

function encoded(events: historyv1.IHistoryEvent[]): string[] {
  return events.map((e) => Buffer.from(historyv1.HistoryEvent.encode(e).finish()).toString('hex'));
}

let sqliteDir = '';
runBackend('sqlite', async () => {
  sqliteDir ||= fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-fencing-'));
  return openSqlitePersistence({ path: path.join(sqliteDir, 'store.db') });
});
after(() => {
  if (sqliteDir) fs.rmSync(sqliteDir, { recursive: true, force: true });
});

let cassandraInstance: TestCassandra | undefined;
runBackend('cassandra', async () => {
  cassandraInstance ??= await ensureTestCassandra();
  return openCassandraPersistence({ contactPoints: [cassandraInstance.contactPoint], localDataCenter: LOCAL_DATA_CENTER, keyspace: cassandraInstance.keyspace });
});
after(async () => {
  if (cassandraInstance) await dropTestKeyspace(cassandraInstance);
});
