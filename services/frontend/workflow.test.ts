// Validation, namespace resolution and plumbing of the workflow and worker RPCs, against recording
// doubles of history and matching. The end-to-end behaviour is tested with the real history.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { apiErrorWithDetails } from '../common/errors.js';
import { google, temporal } from '../common/temporal.js';
import type { NamespaceRef } from '../history/api.js';
import { encodeQueryTaskToken } from '../history/task-token.js';
import { visibility } from '../persistence/conformance/fixtures.js';
import { StoreUnavailableError } from '../persistence/errors.js';
import { grpcError, startFrontend, type Fixture } from './test-helpers.js';

function lastCall(f: Fixture, method: string) {
  const c = [...f.calls].reverse().find((x) => x.method === method);
  assert.ok(c, `${method} was called`);
  return c;
}

const start = (over: Record<string, unknown> = {}) => ({
  namespace: 'default',
  workflowId: 'wf-1',
  workflowType: { name: 'MyWorkflow' },
  taskQueue: { name: 'q' },
  ...over,
});

let f: Fixture;
let nsId: string;
before(async () => {
  f = await startFrontend(
    { maxPayloadBytes: 1024, maxIdLength: 50 },
    {
      startWorkflowExecution: (_ns: NamespaceRef, req: { workflowId: string }) => {
        if (req.workflowId === 'taken') {
          return Promise.reject(
            apiErrorWithDetails(
              'WORKFLOW_ALREADY_STARTED',
              [{ typeName: 'temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure', value: { startRequestId: 'r0', runId: 'run-0' } }],
              'taken',
              'run-0',
            ),
          );
        }
        if (req.workflowId === 'store-down') return Promise.reject(new StoreUnavailableError('cassandra timed out'));
        if (req.workflowId === 'bug') return Promise.reject(new TypeError('oops'));
        return Promise.resolve({ runId: 'run-1', started: true });
      },
    },
  );
  await f.namespaces.register({ name: 'default' });
  await f.namespaces.register({ name: 'elsewhere', isGlobal: true, activeRegion: 'b', regions: ['a'] });
  nsId = (await f.namespaces.requireByName('default')).id;
});
after(async () => {
  await f.close();
});

describe('start and signal', () => {
  test('a valid start reaches history with the resolved namespace and a request id', async () => {
    const res = await f.service.startWorkflowExecution(start());
    assert.equal(res.runId, 'run-1');
    const call = lastCall(f, 'startWorkflowExecution');
    assert.deepEqual(call.args[0], { id: nsId, name: 'default' });
    const req = call.args[1] as { requestId: string; workflowId: string };
    assert.equal(req.workflowId, 'wf-1');
    assert.match(req.requestId, /^[0-9a-f-]{36}$/);
  });

  test('missing fields are INVALID_ARGUMENT with a clear message', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ namespace: '' }, 'Namespace is not set on request.'],
      [{ workflowId: '' }, 'WorkflowId is not set on request.'],
      [{ workflowType: null }, 'WorkflowType is not set on request.'],
      [{ taskQueue: { name: '' } }, 'TaskQueue is not set on request.'],
      [{ workflowId: 'x'.repeat(51) }, 'WorkflowId exceeds length limit 50.'],
      [{ workflowRunTimeout: { seconds: Long.fromNumber(-1) } }, 'workflowRunTimeout must not be negative.'],
      [{ retryPolicy: { backoffCoefficient: 0.5 } }, 'BackoffCoefficient cannot be less than 1 on retry policy.'],
      [{ priority: { priorityKey: -1 } }, "PriorityKey can't be negative"],
      [{ priority: { fairnessKey: 'é'.repeat(33) } }, 'FairnessKey length exceeds limit'],
      [{ priority: { fairnessWeight: -0.5 } }, "FairnessWeight can't be negative"],
    ];
    for (const [over, message] of cases) {
      const err = await grpcError(f.service.startWorkflowExecution(start(over)));
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, message);
      assert.equal(err.details, message);
    }
    const err = await grpcError(f.service.signalWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: 'w' } }));
    assert.equal(err.details, 'SignalName is not set on request.');
  });

  test('an oversize payload set is INVALID_ARGUMENT naming the field, size and limit', async () => {
    const big = { payloads: [{ metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.alloc(2000) }] };
    let err = await grpcError(f.service.startWorkflowExecution(start({ input: big })));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(err.details, 'input size 2020 bytes exceeds the limit of 1024 bytes.');

    err = await grpcError(
      f.service.signalWithStartWorkflowExecution({ ...start(), signalName: 's', memo: { fields: { a: { data: Buffer.alloc(1500) } } } }),
    );
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /^memo size 1500 bytes/);

    err = await grpcError(
      f.service.respondWorkflowTaskCompleted({
        namespace: 'default',
        taskToken: Buffer.from('t'),
        commands: [{ completeWorkflowExecutionCommandAttributes: { result: big } }],
      }),
    );
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /^commands\[0\]\.completeWorkflowExecutionCommandAttributes\.result size 2020 bytes/);

    // Just under the limit passes.
    await f.service.signalWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: 'w' },
      signalName: 's',
      input: { payloads: [{ data: Buffer.alloc(1000) }] },
    });
  });

  test('history errors map to their gRPC status and details', async () => {
    let err = await grpcError(f.service.startWorkflowExecution(start({ workflowId: 'taken' })));
    assert.equal(err.code, grpc.status.ALREADY_EXISTS);
    const bin = err.metadata.get('grpc-status-details-bin')[0] as Buffer;
    const detail = google.rpc.Status.decode(bin).details[0]!;
    assert.equal(detail.type_url, 'type.googleapis.com/temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure');
    assert.equal(temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure.decode(detail.value!).runId, 'run-0');

    err = await grpcError(f.service.startWorkflowExecution(start({ workflowId: 'store-down' })));
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    err = await grpcError(f.service.startWorkflowExecution(start({ workflowId: 'bug' })));
    assert.equal(err.code, grpc.status.INTERNAL);
    assert.match(err.details, /oops/);
  });

  test('the SDK client sees WorkflowExecutionAlreadyStartedError', async () => {
    await assert.rejects(
      f.client.workflow.start('MyWorkflow', { workflowId: 'taken', taskQueue: 'q', args: [] }),
      WorkflowExecutionAlreadyStartedError,
    );
  });

  test('a namespace active in another region: FAILED_PRECONDITION with NamespaceNotActiveFailure', async () => {
    const err = await grpcError(f.service.startWorkflowExecution(start({ namespace: 'elsewhere' })));
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
    const detail = google.rpc.Status.decode(err.metadata.get('grpc-status-details-bin')[0] as Buffer).details[0]!;
    assert.equal(detail.type_url, 'type.googleapis.com/temporal.api.errordetails.v1.NamespaceNotActiveFailure');
    const d = temporal.api.errordetails.v1.NamespaceNotActiveFailure.decode(detail.value!);
    assert.deepEqual([d.namespace, d.currentCluster, d.activeCluster], ['elsewhere', 'a', 'b']);
    // Reads are served by the standby.
    await f.service.describeWorkflowExecution({ namespace: 'elsewhere', execution: { workflowId: 'w' } });
  });

  test('a namespace in handover refuses new writes with UNAVAILABLE', async () => {
    await f.namespaces.register({ name: 'moving' });
    await f.namespaces.update('moving', (r) => ({ ...r, failoverState: 'handover' }));
    const err = await grpcError(f.service.startWorkflowExecution(start({ namespace: 'moving' })));
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });
});

describe('long polls and worker calls', () => {
  test('GetWorkflowExecutionHistory long poll answers before the client deadline', async () => {
    const res = await f.connection.withDeadline(Date.now() + 1500, () =>
      f.service.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'w' }, waitNewEvent: true }),
    );
    assert.ok(res);
    const signal = lastCall(f, 'getWorkflowExecutionHistory').args[2] as AbortSignal;
    assert.equal(signal.aborted, true);
  });

  test('a poll with a short deadline answers empty instead of DEADLINE_EXCEEDED', async () => {
    const res = await f.connection.withDeadline(Date.now() + 1500, () =>
      f.service.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: 'q' }, identity: 'me' }),
    );
    assert.equal(res.taskToken?.length ?? 0, 0);
    assert.equal(lastCall(f, 'pollWorkflowTaskQueue').args[0], nsId);
  });

  test('RespondQueryTaskCompleted hands matching the query id of the token', async () => {
    const taskToken = encodeQueryTaskToken({ namespaceId: nsId, queryId: 'q-42' });
    await f.service.respondQueryTaskCompleted({ namespace: 'default', taskToken, completedType: 1 });
    const call = lastCall(f, 'respondQueryTaskCompleted');
    assert.deepEqual(call.args.slice(0, 2), [nsId, 'q-42']);
    const err = await grpcError(f.service.respondQueryTaskCompleted({ namespace: 'default', taskToken: Buffer.from('junk') }));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  });

  test('activity calls: tokens or ids are required', async () => {
    let err = await grpcError(f.service.respondActivityTaskCompleted({ namespace: 'default' }));
    assert.equal(err.details, 'TaskToken is not set on request.');
    err = await grpcError(f.service.respondActivityTaskCompletedById({ namespace: 'default', workflowId: 'w' }));
    assert.equal(err.details, 'ActivityId is not set on request.');
    await f.service.recordActivityTaskHeartbeatById({ namespace: 'default', workflowId: 'w', activityId: '1' });
    assert.equal(lastCall(f, 'recordActivityTaskHeartbeat').args[0] !== undefined, true);
  });

  test('ShutdownWorker cancels the sticky queue polls', async () => {
    await f.service.shutdownWorker({ namespace: 'default', stickyTaskQueue: 'me-sticky', identity: 'me' });
    assert.deepEqual(lastCall(f, 'shutdownWorker').args, [nsId, 'me-sticky']);
  });
});

describe('visibility', () => {
  test('list and count with a query; unsupported queries are INVALID_ARGUMENT', async () => {
    const base = { taskQueue: 'q', executionTimeMs: 0, historyLength: 3, data: '' };
    await f.persistence.visibility.upsertVisibility(visibility(nsId, { ...base, workflowId: 'v1', runId: 'r1', workflowType: 'T', status: 1, startTimeMs: 1000 }));
    await f.persistence.visibility.upsertVisibility(visibility(nsId, {
      ...base,
      parentWorkflowId: 'v3',
      parentRunId: 'r3',
      rootWorkflowId: 'v3',
      rootRunId: 'r3',
      workflowId: 'v2',
      runId: 'r2',
      workflowType: 'T',
      status: 2,
      startTimeMs: 2000,
      closeTimeMs: 3000,
      data: JSON.stringify({
        memo: { fields: { k: { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"v"').toString('base64') } } },
      }),
    }));
    await f.persistence.visibility.upsertVisibility(visibility(nsId, { ...base, workflowId: 'v3', runId: 'r3', workflowType: 'U', status: 1, startTimeMs: 3000 }));

    // Open runs first, then closed ones.
    const res = await f.service.listWorkflowExecutions({ namespace: 'default', query: "WorkflowType = 'T'" });
    assert.deepEqual(res.executions!.map((e) => e.execution?.workflowId), ['v1', 'v2']);
    const v2 = res.executions![1]!;
    assert.deepEqual([v2.parentExecution?.workflowId, v2.parentExecution?.runId], ['v3', 'r3']);
    assert.deepEqual([v2.rootExecution?.workflowId, v2.rootExecution?.runId], ['v3', 'r3']);
    assert.equal(v2.status, 2);
    assert.equal(Number(v2.closeTime?.seconds), 3);
    assert.equal(Number(v2.historyLength), 3);
    assert.equal(v2.taskQueue, 'q');
    assert.equal(Buffer.from(v2.memo!.fields!.k!.data!).toString(), '"v"');

    const count = await f.service.countWorkflowExecutions({ namespace: 'default', query: "ExecutionStatus = 'Running'" });
    assert.equal(Number(count.count), 2);
    const grouped = await f.service.countWorkflowExecutions({ namespace: 'default', query: 'GROUP BY ExecutionStatus' });
    assert.equal(Number(grouped.count), 3);
    assert.deepEqual(
      grouped.groups!.map((g) => [g.groupValues!.map((v) => [Buffer.from(v.metadata!.encoding!).toString(), Buffer.from(v.data!).toString()]), Number(g.count)]),
      [[[['json/plain', '"Running"']], 2], [[['json/plain', '"Completed"']], 1]],
    );

    const paged: string[] = [];
    let token: Uint8Array | undefined;
    do {
      const page = await f.service.listWorkflowExecutions({ namespace: 'default', pageSize: 2, nextPageToken: token });
      paged.push(...page.executions!.map((e) => e.execution!.workflowId!));
      token = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (token);
    assert.deepEqual(paged, ['v3', 'v1', 'v2']);

    const open = await f.service.listOpenWorkflowExecutions({ namespace: 'default', typeFilter: { name: 'T' } });
    assert.deepEqual(open.executions!.map((e) => e.execution?.workflowId), ['v1']);

    const either = await f.service.listWorkflowExecutions({ namespace: 'default', query: "WorkflowId = 'v1' OR RootWorkflowId = 'v3'" });
    assert.deepEqual(either.executions!.map((e) => e.execution?.workflowId), ['v3', 'v1', 'v2']);

    const err = await grpcError(f.service.listWorkflowExecutions({ namespace: 'default', query: "WorkflowId = 'a' OR Nope = 'b'" }));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /invalid query: unknown search attribute "Nope" at position 20/);
  });

  test('client.workflow.list goes through ListWorkflowExecutions', async () => {
    const ids: string[] = [];
    const memos: unknown[] = [];
    for await (const wf of f.client.workflow.list({ query: "ExecutionStatus = 'Completed'" })) {
      ids.push(wf.workflowId);
      memos.push(wf.memo);
    }
    assert.deepEqual(ids, ['v2']);
    assert.deepEqual(memos, [{ k: 'v' }]);
  });
});
