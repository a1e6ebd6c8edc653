// Matching over internal gRPC, on real servers over real engines and SQLite (the harness lives
// with history's gRPC tests): empty polls, queries end to end, query answers that find their
// node, the hasRecentPoller cache, describe, and the routing of task queues.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { LEGACY_SUBQUEUE } from '../persistence/task-levels.js';
import { TandemError, isTandemError } from '../common/errors.js';
import { commonv1, enums, workflowservice as ws } from '../common/temporal.js';
import { ownerOf } from '../membership/rendezvous.js';
import { GrpcTestCluster, counterValue, eventually } from '../history/grpc-test-cluster.js';
import type { NamespaceRef } from '../history/api.js';

async function startWorkflow(c: GrpcTestCluster, ns: NamespaceRef, taskQueue: string): Promise<{ workflowId: string; runId: string }> {
  const workflowId = `wf-${randomUUID()}`;
  const res = await c.history.startWorkflowExecution(ns, {
    namespace: ns.name,
    workflowId,
    workflowType: { name: 'grpcMatchingWorkflow' },
    taskQueue: { name: taskQueue },
    requestId: randomUUID(),
    identity: 'grpc-test',
  });
  return { workflowId, runId: res.runId! };
}

function pollRequest(ns: NamespaceRef, taskQueue: string, kind: 1 | 2 = 1): ws.IPollWorkflowTaskQueueRequest {
  return { namespace: ns.name, taskQueue: { name: taskQueue, kind }, identity: 'grpc-worker' };
}

describe('matching over internal gRPC', () => {
  test('an empty poll the caller gives up on is the all-default response', async () => {
    const c = await GrpcTestCluster.start({ numShards: 2, historyNodeIds: ['history-1'], shards: 'all' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      const polled = await c.matching.pollActivityTaskQueue(
        ns.id,
        { namespace: ns.name, taskQueue: { name: `empty-${randomUUID()}` }, identity: 'w' },
        AbortSignal.timeout(200),
      );
      assert.equal(ws.PollActivityTaskQueueResponse.encode(polled).finish().length, 0);
    } finally {
      await c.stop();
    }
  });

  test('a query travels history -> matching -> worker and back; the answer finds the node holding the query', async () => {
    const c = await GrpcTestCluster.start({
      numShards: 2,
      historyNodeIds: ['history-1'],
      shards: 'all',
      matchingNodeIds: ['matching-1', 'matching-2'],
    });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      const taskQueue = `tq-${randomUUID()}`;
      const { workflowId, runId } = await startWorkflow(c, ns, taskQueue);
      // The first workflow task done (no command: the run goes on), so the query comes as a
      // legacy query task of its own.
      const first = await c.matching.pollWorkflowTaskQueue(ns.id, pollRequest(ns, taskQueue), AbortSignal.timeout(30_000));
      assert.ok(first.taskToken?.length);
      await c.history.respondWorkflowTaskCompleted(ns, { namespace: ns.name, taskToken: first.taskToken, identity: 'grpc-worker', commands: [] });

      const querying = c.history.queryWorkflow(
        ns,
        { namespace: ns.name, execution: { workflowId, runId }, query: { queryType: 'state' } },
        AbortSignal.timeout(30_000),
      );
      const queryTask = await c.matching.pollWorkflowTaskQueue(ns.id, pollRequest(ns, taskQueue), AbortSignal.timeout(30_000));
      assert.equal(queryTask.query?.queryType, 'state');
      assert.equal(queryTask.workflowExecution?.workflowId, workflowId);
      const queryId = JSON.parse(Buffer.from(queryTask.taskToken!.subarray(1)).toString('utf8')).queryId as string;
      const answer = commonv1.Payloads.create({ payloads: [{ data: Buffer.from('"ok"') }] });
      await c.matching.respondQueryTaskCompleted(ns.id, queryId, {
        namespace: ns.name,
        taskToken: queryTask.taskToken,
        completedType: enums.QueryResultType.QUERY_RESULT_TYPE_ANSWERED,
        queryResult: answer,
      });
      const result = await querying;
      assert.equal(Buffer.from(result.queryResult?.payloads?.[0]?.data ?? []).toString(), '"ok"');
      // The queue (and the query) lived on one of the two nodes; the other answered TASK_NOT_FOUND.
      const owner = ownerOf(`${ns.id}/${taskQueue}/1`, c.cluster.members('matching'));
      const notFoundElsewhere = { method: 'RespondQueryTaskCompleted', code: 'NOT_FOUND' };
      for (const m of c.matchingNodes) {
        const ok = await counterValue(m.registry, 'tandem_internal_rpc_server_requests_total', { method: 'RespondQueryTaskCompleted', code: 'OK' });
        assert.equal(ok, m.id === owner?.id ? 1 : 0, `answers accepted by ${m.id}`);
        if (m.id !== owner?.id) assert.equal(await counterValue(m.registry, 'tandem_internal_rpc_server_requests_total', notFoundElsewhere), 1);
      }

      // Answered already: the engine's TASK_NOT_FOUND, whichever node is asked.
      await assert.rejects(
        () => c.matching.respondQueryTaskCompleted(ns.id, queryId, { namespace: ns.name, completedType: 1 }),
        (err: unknown) => isTandemError(err, 'TASK_NOT_FOUND'),
      );
    } finally {
      await c.stop();
    }
  });

  test('hasRecentPoller answers from a cache the owner refreshes; describe lists the poller', async () => {
    const c = await GrpcTestCluster.start({ numShards: 2, historyNodeIds: ['history-1'], shards: 'all' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      const sticky = `sticky-${randomUUID()}`;
      const ref = { namespaceId: ns.id, name: sticky, type: 1, kind: 2 } as const;
      assert.equal(c.matching.hasRecentPoller(ref), false, 'nothing known yet: the normal queue is the safe answer');
      await c.matching.pollWorkflowTaskQueue(ns.id, pollRequest(ns, sticky, 2), AbortSignal.timeout(100));
      await eventually('the cache to learn of the sticky poller', () => c.matching.hasRecentPoller(ref));

      const described = await c.matching.describeTaskQueue(ns.id, { namespace: ns.name, taskQueue: { name: sticky, kind: 2 } });
      assert.deepEqual(
        described.pollers?.map((p) => p.identity),
        ['grpc-worker'],
      );
      c.matching.shutdownWorker(ns.id, sticky);
    } finally {
      await c.stop();
    }
  });

  test('a stopping server lets its long polls answer (empty) before it closes', async () => {
    const c = await GrpcTestCluster.start({ numShards: 2, historyNodeIds: ['history-1'], shards: 'all' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      const taskQueue = `tq-${randomUUID()}`;
      const polling = c.matching.pollWorkflowTaskQueue(ns.id, pollRequest(ns, taskQueue), AbortSignal.timeout(60_000));
      const describe = { namespace: ns.name, taskQueue: { name: taskQueue } };
      await eventually('the poll to reach matching', async () => ((await c.matching.describeTaskQueue(ns.id, describe)).pollers ?? []).length > 0);
      await c.matchingNodes[0]!.server.stop();
      const polled = await polling;
      assert.equal(ws.PollWorkflowTaskQueueResponse.encode(polled).finish().length, 0);
    } finally {
      await c.stop();
    }
  });

  test('adds made to a queue while one is in flight travel together; each task is added', async () => {
    const c = await GrpcTestCluster.start({ numShards: 2, historyNodeIds: ['history-1'], shards: 'all' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      const ids = Array.from({ length: 10 }, (_, i) => `wf-${i}`);
      const add = (workflowId: string) =>
        c.matching.addWorkflowTask({ taskQueue: { namespaceId: ns.id, name: 'batched', type: 1, kind: 1 }, workflowId, runId: 'r', scheduledEventId: 2, scheduleToStartTimeoutMs: 0 });
      await Promise.all(ids.map(add));
      const calls = await counterValue(c.matchingNodes[0]!.registry, 'tandem_internal_rpc_server_requests_total', { method: 'AddTasks', code: 'OK' });
      assert.ok(calls >= 1 && calls < ids.length, `${calls} AddTasks calls for ${ids.length} adds`);
      const tasks = await c.matchingNodes[0]!.store.taskQueues.getTasks({ namespaceId: ns.id, name: 'batched', type: 1 }, LEGACY_SUBQUEUE, { pass: 0n, taskId: 0n }, 100);
      assert.deepEqual(tasks.map((t) => (JSON.parse(t.data) as { workflowId: string }).workflowId), ids);
    } finally {
      await c.stop();
    }
  });

  test('engine errors arrive unchanged', async () => {
    const c = await GrpcTestCluster.start({ numShards: 2, historyNodeIds: ['history-1'], shards: 'all' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      const err = await c.matching
        .addActivityTask({
          taskQueue: { namespaceId: ns.id, name: 'q', type: 1, kind: 1 },
          workflowId: 'w',
          runId: 'r',
          scheduledEventId: 5,
          scheduleToStartTimeoutMs: 0,
        })
        .then(
          () => assert.fail('added a workflow-queue task as an activity'),
          (e: unknown) => e,
        );
      assert.ok(err instanceof TandemError);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.equal(err.message, 'task queue type 1 does not match the task (activity)');
    } finally {
      await c.stop();
    }
  });
});
