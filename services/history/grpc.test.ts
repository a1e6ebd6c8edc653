// History over internal gRPC, on real servers (127.0.0.1, port 0) over real engines and SQLite:
// the worker loop through RemoteHistory and RemoteMatching, errors identical to the in-process
// engine's, long polls that answer when the caller gives up, and calls that follow a moved shard.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TandemError, isTandemError } from '../common/errors.js';
import { silentLogger } from '../common/logger.js';
import { enums, type workflowservice as ws } from '../common/temporal.js';
import type { NamespaceRef } from './api.js';
import { RemoteHistory } from './grpc-client.js';
import { shardIdFor } from './shard-id.js';
import { GrpcTestCluster, counterValue, eventually } from './grpc-test-cluster.js';

const ET = enums.EventType;

function startRequest(ns: NamespaceRef, workflowId: string, taskQueue: string): ws.IStartWorkflowExecutionRequest {
  return {
    namespace: ns.name,
    workflowId,
    workflowType: { name: 'grpcTestWorkflow' },
    taskQueue: { name: taskQueue },
    requestId: randomUUID(),
    identity: 'grpc-test',
  };
}

function signalRequest(ns: NamespaceRef, workflowId: string, signalName: string): ws.ISignalWorkflowExecutionRequest {
  return { namespace: ns.name, workflowExecution: { workflowId }, signalName, identity: 'grpc-test', requestId: randomUUID() };
}

async function rejection(call: () => Promise<unknown>): Promise<TandemError> {
  try {
    await call();
  } catch (err) {
    assert.ok(err instanceof TandemError, `expected a TandemError, got ${String(err)}`);
    return err;
  }
  assert.fail('the call succeeded');
}

function errorShape(e: TandemError) {
  return { code: e.code, grpcStatus: e.grpcStatus, message: e.message, details: e.details };
}

async function eventTypes(c: GrpcTestCluster, ns: NamespaceRef, workflowId: string): Promise<number[]> {
  const page = await c.history.getWorkflowExecutionHistory(ns, { namespace: ns.name, execution: { workflowId } }, new AbortController().signal);
  return (page.history?.events ?? []).map((e) => e.eventType ?? 0);
}

describe('history over internal gRPC', () => {
  test('start, poll through matching, complete: the worker loop across three servers', async () => {
    const c = await GrpcTestCluster.start({ numShards: 4, historyNodeIds: ['history-1'], shards: 'all' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      const taskQueue = `tq-${randomUUID()}`;
      const workflowId = `wf-${randomUUID()}`;
      const started = await c.history.startWorkflowExecution(ns, startRequest(ns, workflowId, taskQueue));
      assert.ok(started.runId);

      // The history node adds the workflow task to matching over gRPC; matching records it started
      // on history over gRPC before handing it to this poll.
      const task = await c.matching.pollWorkflowTaskQueue(
        ns.id,
        { namespace: ns.name, taskQueue: { name: taskQueue, kind: 1 }, identity: 'grpc-worker' },
        AbortSignal.timeout(30_000),
      );
      assert.ok(task.taskToken && task.taskToken.length > 0, 'the poll got a task');
      assert.equal(task.workflowExecution?.runId, started.runId);
      assert.deepEqual(
        task.history?.events?.map((e) => e.eventType),
        [ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, ET.EVENT_TYPE_WORKFLOW_TASK_STARTED],
      );

      await c.history.respondWorkflowTaskCompleted(ns, {
        namespace: ns.name,
        taskToken: task.taskToken,
        identity: 'grpc-worker',
        commands: [
          {
            commandType: enums.CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
            completeWorkflowExecutionCommandAttributes: { result: { payloads: [] } },
          },
        ],
      });

      // result(): the close-event long poll answers with the completion.
      const closed = await c.history.getWorkflowExecutionHistory(
        ns,
        {
          namespace: ns.name,
          execution: { workflowId, runId: started.runId },
          waitNewEvent: true,
          historyEventFilterType: enums.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
        },
        AbortSignal.timeout(30_000),
      );
      assert.equal(closed.history?.events?.[0]?.eventType, ET.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
      const described = await c.history.describeWorkflowExecution(ns, { namespace: ns.name, execution: { workflowId } });
      assert.equal(described.workflowExecutionInfo?.status, enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
    } finally {
      await c.stop();
    }
  });

  test('errors arrive as the TandemErrors the engine throws: code, status, message and details', async () => {
    const c = await GrpcTestCluster.start({ numShards: 4, historyNodeIds: ['history-1'], shards: 'all' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      const engine = c.node('history-1').history.engine;
      const workflowId = `wf-${randomUUID()}`;
      const started = await c.history.startWorkflowExecution(ns, startRequest(ns, workflowId, `tq-${randomUUID()}`));

      // ALREADY_EXISTS with WorkflowExecutionAlreadyStartedFailure.
      const again = startRequest(ns, workflowId, 'other-queue');
      const remoteDup = await rejection(() => c.history.startWorkflowExecution(ns, again));
      const localDup = await rejection(() => engine.startWorkflowExecution(ns, again));
      assert.equal(remoteDup.code, 'WORKFLOW_ALREADY_STARTED');
      assert.deepEqual(errorShape(remoteDup), errorShape(localDup));
      assert.equal(remoteDup.details[0]?.typeName, 'temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure');
      assert.equal(remoteDup.details[0]?.value.runId, started.runId);

      // NOT_FOUND with NamespaceNotFoundFailure.
      const ghost: NamespaceRef = { id: randomUUID(), name: 'ghost' };
      const remoteNs = await rejection(() => c.history.signalWorkflowExecution(ghost, signalRequest(ghost, workflowId, 's')));
      const localNs = await rejection(() => engine.signalWorkflowExecution(ghost, signalRequest(ghost, workflowId, 's')));
      assert.equal(remoteNs.code, 'NAMESPACE_NOT_FOUND');
      assert.deepEqual(errorShape(remoteNs), errorShape(localNs));
      assert.equal(remoteNs.details[0]?.typeName, 'temporal.api.errordetails.v1.NamespaceNotFoundFailure');

      // NOT_FOUND without details.
      const describeGhost = { namespace: ns.name, execution: { workflowId: `missing-${randomUUID()}` } };
      const remoteWf = await rejection(() => c.history.describeWorkflowExecution(ns, describeGhost));
      assert.deepEqual(errorShape(remoteWf), errorShape(await rejection(() => engine.describeWorkflowExecution(ns, describeGhost))));
      assert.equal(remoteWf.code, 'WORKFLOW_NOT_FOUND');

      // A task token history cannot read: the same INVALID_ARGUMENT (or NOT_FOUND) as in process.
      const badToken = { namespace: ns.name, taskToken: Buffer.from('not a token'), identity: 'x' };
      assert.deepEqual(
        errorShape(await rejection(() => c.history.respondWorkflowTaskCompleted(ns, badToken))),
        errorShape(await rejection(() => engine.respondWorkflowTaskCompleted(ns, badToken))),
      );
    } finally {
      await c.stop();
    }
  });

  test('a long poll the caller gives up on answers with an empty page and a token, not an error', async () => {
    const c = await GrpcTestCluster.start({ numShards: 4, historyNodeIds: ['history-1'], shards: 'all' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      const workflowId = `wf-${randomUUID()}`;
      await c.history.startWorkflowExecution(ns, startRequest(ns, workflowId, `tq-${randomUUID()}`));
      const page = await c.history.getWorkflowExecutionHistory(
        ns,
        {
          namespace: ns.name,
          execution: { workflowId },
          waitNewEvent: true,
          historyEventFilterType: enums.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
        },
        AbortSignal.timeout(300),
      );
      assert.deepEqual(page.history?.events ?? [], []);
      assert.ok(page.nextPageToken && page.nextPageToken.length > 0, 'a token to poll again with');
    } finally {
      await c.stop();
    }
  });

  test('a shard that moves: calls in flight and right after land on the new owner', async () => {
    const c = await GrpcTestCluster.start({ numShards: 8, historyNodeIds: ['history-a', 'history-b'], shards: 'membership' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      let workflowId = '';
      let shard = -1;
      do {
        workflowId = `wf-${randomUUID()}`;
        shard = shardIdFor(ns.id, workflowId, c.numShards);
      } while (c.ownerOf(shard) !== 'history-a');
      await c.history.startWorkflowExecution(ns, startRequest(ns, workflowId, `tq-${randomUUID()}`));

      // history-a gives the shard up; membership still names it, so the call meets SHARD_MOVED
      // there and keeps retrying.
      const a = c.node('history-a');
      const b = c.node('history-b');
      a.history.controller.release(shard);
      const inFlight = c.history.signalWorkflowExecution(ns, signalRequest(ns, workflowId, 'in-flight'));
      const shardMovedOnA = { method: 'SignalWorkflowExecution', code: 'UNAVAILABLE' };
      await eventually('the signal to meet SHARD_MOVED on history-a', async () =>
        (await counterValue(a.registry, 'tandem_internal_rpc_server_requests_total', shardMovedOnA)) > 0,
      );

      // The move completes: history-b takes the shard, history-a leaves the membership.
      await b.history.controller.acquire(shard);
      await a.membership.stop();
      assert.equal(c.ownerOf(shard), 'history-b');

      await inFlight;
      await c.history.signalWorkflowExecution(ns, signalRequest(ns, workflowId, 'right-after'));
      const types = await eventTypes(c, ns, workflowId);
      assert.deepEqual(types.filter((t) => t === ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).length, 2);
      assert.ok((await counterValue(b.registry, 'tandem_internal_rpc_server_requests_total', { method: 'SignalWorkflowExecution', code: 'OK' })) >= 2);
    } finally {
      await c.stop();
    }
  });

  test('an owner that cannot be reached: the call retries until membership names the new owner', async () => {
    const c = await GrpcTestCluster.start({ numShards: 8, historyNodeIds: ['history-a', 'history-b'], shards: 'membership' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      let workflowId = '';
      do workflowId = `wf-${randomUUID()}`;
      while (c.ownerOf(shardIdFor(ns.id, workflowId, c.numShards)) !== 'history-a');
      await c.history.startWorkflowExecution(ns, startRequest(ns, workflowId, `tq-${randomUUID()}`));

      // history-a's server goes away while membership still lists it (a crash not yet expired).
      const a = c.node('history-a');
      await a.server.stop();
      const describing = c.history.describeWorkflowExecution(ns, { namespace: ns.name, execution: { workflowId } });
      c.cluster.kill('history-a');
      await c.assignShards();
      const described = await describing;
      assert.equal(described.workflowExecutionInfo?.execution?.workflowId, workflowId);
    } finally {
      await c.stop();
    }
  });

  test('retries stop at the deadline with the last error', async () => {
    const c = await GrpcTestCluster.start({ numShards: 4, historyNodeIds: ['history-1'], shards: 'all' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      for (let s = 0; s < c.numShards; s++) c.node('history-1').history.controller.release(s);
      const impatient = new RemoteHistory({
        membership: c.node('history-1').membership,
        numShards: c.numShards,
        logger: silentLogger(),
        options: { retryDeadlineMs: 200, retryInitialBackoffMs: 20, retryMaxBackoffMs: 50 },
      });
      try {
        const err = await rejection(() => impatient.startWorkflowExecution(ns, startRequest(ns, `wf-${randomUUID()}`, 'tq')));
        assert.ok(isTandemError(err, 'SHARD_MOVED'), `got ${err.code}`);
      } finally {
        await impatient.stop();
      }
    } finally {
      await c.stop();
    }
  });

  test('refreshNamespace: every history node holds the current record when it resolves', async () => {
    const c = await GrpcTestCluster.start({ numShards: 4, historyNodeIds: ['history-1', 'history-2'], shards: 'all' });
    try {
      const ns = await c.registerNamespace(`grpc-${randomUUID().slice(0, 8)}`);
      const [first, second] = [...c.historyNodes.values()];
      // Seen by both, then changed behind their backs (as another process's failover would).
      await Promise.all([first!.namespaces.requireById(ns.id), second!.namespaces.requireById(ns.id)]);
      const stored = (await first!.store.namespaces.getNamespaceById(ns.id))!;
      await first!.store.namespaces.updateNamespace({ ...stored, failoverState: 'handover', notificationVersion: stored.notificationVersion + 1n }, stored.notificationVersion);
      await c.history.refreshNamespace(ns.id);
      for (const node of [first!, second!]) assert.equal((await node.namespaces.requireById(ns.id)).failoverState, 'handover', `${node.id} sees the handover`);
    } finally {
      await c.stop();
    }
  });
});
