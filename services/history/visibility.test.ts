// Visibility from history: records written by the transaction's own tasks (start, upsert, memo, a
// new build, close), every field of the record and of Describe, search attributes checked against
// the namespace's definitions (a bad upsert fails the workflow task with BAD_SEARCH_ATTRIBUTES),
// and a standby region building its own records from the events it applies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isTandemError } from '../common/errors.js';
import { durationFromMs, toNumber } from '../common/proto-time.js';
import { enums, type commonv1 } from '../common/temporal.js';
import { withCustomSearchAttributes } from '../namespaces/search-attributes.js';
import type { VisibilityRecord } from '../persistence/types.js';
import type { NamespaceRef } from './api.js';
import { takeNonEventState } from './non-event-state.js';
import type { TaskAttrs } from './tasks.js';
import { regionA, regionB, TestRegion } from './test-region.js';

const CT = enums.CommandType;
const QUEUE = 'visibility-test';

const json = (v: unknown, type?: string): commonv1.IPayload => ({
  metadata: { encoding: Buffer.from('json/plain'), ...(type ? { type: Buffer.from(type) } : {}) },
  data: Buffer.from(JSON.stringify(v)),
});

async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function recordOf(region: TestRegion, ns: NamespaceRef, runId: string): Promise<VisibilityRecord | undefined> {
  const { records } = await region.store.visibility.listVisibility({ namespaceId: ns.id, query: {}, pageSize: 1000 });
  return records.find((r) => r.runId === runId);
}

describe('visibility from history', () => {
  let a: TestRegion;
  let b: TestRegion;
  let ns: NamespaceRef;

  before(async () => {
    [a, b] = await Promise.all([TestRegion.start(regionA), TestRegion.start(regionB)]);
    const rec = await a.namespaces.register({ name: `vis-${randomUUID().slice(0, 8)}`, isGlobal: true, regions: ['a', 'b'], activeRegion: 'a' });
    const defined = await a.namespaces.update(rec.name, (r) => ({
      ...r,
      config: withCustomSearchAttributes(r.config, () => ({ CustomerId: 'Int', Region: 'Keyword', Due: 'Datetime' })),
    }));
    // One id in every region, definitions included (namespace replication copies the record).
    await b.store.namespaces.createNamespace(defined);
    ns = { id: rec.id, name: rec.name };
  });

  after(() => Promise.all([a.stop(), b.stop()]));

  /** Ships every replication task of a's shards to b, as the replication stream does. */
  async function replicate(): Promise<void> {
    for (const shardId of [0, 1]) {
      const tasks = await a.store.executions.getHistoryTasks({ shardId, category: 'replication', afterTaskId: -1n, maxTaskId: 2n ** 63n - 1n, limit: 1000 });
      for (const t of tasks) {
        const attrs = JSON.parse(t.data) as TaskAttrs;
        const run = await a.engine.tx.read(t.namespaceId, t.workflowId, t.runId);
        const events = await a.engine.tx.readEvents(run, attrs.firstEventId!, attrs.nextEventId!, 1000);
        await b.engine.tx.applyReplicated({ namespaceId: t.namespaceId, workflowId: t.workflowId, runId: t.runId }, events, takeNonEventState(run.data));
      }
    }
  }

  async function pollTask(queue = QUEUE) {
    return a.matching.pollWorkflowTaskQueue(ns.id, { namespace: ns.name, taskQueue: { name: queue, kind: 1 }, identity: 'worker' }, AbortSignal.timeout(10_000));
  }

  test('start, upsert, memo, build and close reach the record; Describe shows the same; the standby lists it too', async () => {
    const workflowId = `wf-${randomUUID()}`;
    const { runId } = await a.engine.startWorkflowExecution(ns, {
      namespace: ns.name,
      workflowId,
      workflowType: { name: 'w' },
      taskQueue: { name: QUEUE },
      requestId: randomUUID(),
      searchAttributes: { indexedFields: { CustomerId: json(7, 'Int'), Due: json('2026-05-01T00:00:00Z', 'Datetime') } },
      memo: { fields: { note: json('first') } },
    });
    const started = await eventually('the start record', () => recordOf(a, ns, runId!));
    assert.equal(started.closeTimeMs, null);
    assert.equal(started.executionDurationMs, null);
    assert.deepEqual(started.searchAttributes, { CustomerId: { type: 'Int', value: 7 }, Due: { type: 'Datetime', value: Date.UTC(2026, 4, 1) } });
    assert.equal(started.rootWorkflowId, workflowId);
    assert.equal(started.rootRunId, runId);
    assert.equal(started.parentWorkflowId, null);

    const task = await pollTask();
    await a.engine.respondWorkflowTaskCompleted(ns, {
      namespace: ns.name,
      taskToken: task.taskToken,
      identity: 'worker',
      workerVersionStamp: { buildId: 'build-1' },
      commands: [
        {
          commandType: CT.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
          upsertWorkflowSearchAttributesCommandAttributes: {
            searchAttributes: { indexedFields: { Region: json('eu'), TemporalChangeVersion: json(['patch-1']), Due: { metadata: { encoding: Buffer.from('binary/null') } } } },
          },
        },
        { commandType: CT.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES, modifyWorkflowPropertiesCommandAttributes: { upsertedMemo: { fields: { note: json('second') } } } },
        { commandType: CT.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 't', startToFireTimeout: durationFromMs(3_600_000) } },
      ],
    });
    const upserted = await eventually('the upsert in the record', async () => {
      const r = await recordOf(a, ns, runId!);
      return r?.searchAttributes.Region ? r : undefined;
    });
    assert.deepEqual(upserted.searchAttributes, {
      CustomerId: { type: 'Int', value: 7 },
      Region: { type: 'Keyword', value: 'eu' },
      TemporalChangeVersion: { type: 'KeywordList', value: ['patch-1'] },
      BuildIds: { type: 'KeywordList', value: ['unversioned:build-1'] },
    });
    assert.equal((JSON.parse(upserted.data) as { memo: { fields: { note: { data: string } } } }).memo.fields.note.data, Buffer.from('"second"').toString('base64'));

    await a.engine.terminateWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId }, reason: 'done' });
    const closed = await eventually('the close record', async () => {
      const r = await recordOf(a, ns, runId!);
      return r?.closeTimeMs ? r : undefined;
    });
    assert.equal(closed.status, enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED);
    assert.equal(closed.executionDurationMs, closed.closeTimeMs! - closed.executionTimeMs);
    assert.ok(closed.historySizeBytes > 0);
    assert.ok(closed.stateTransitionCount >= 3, `one per transaction: ${closed.stateTransitionCount}`);
    assert.equal(closed.historyLength, 8, 'started, three of the workflow task, upsert, memo, timer, terminated');

    const d = await a.engine.describeWorkflowExecution(ns, { namespace: ns.name, execution: { workflowId, runId } });
    const info = d.workflowExecutionInfo!;
    assert.equal(d.executionConfig?.workflowExecutionTimeout, null, 'an unset timeout stays unset');
    assert.equal(d.executionConfig?.workflowRunTimeout, null);
    assert.deepEqual(info.rootExecution, { workflowId, runId });
    assert.equal(info.parentExecution, null);
    assert.equal(toNumber(info.historySizeBytes), closed.historySizeBytes);
    assert.equal(toNumber(info.stateTransitionCount), closed.stateTransitionCount);
    assert.deepEqual(Object.keys(info.searchAttributes?.indexedFields ?? {}).sort(), ['BuildIds', 'CustomerId', 'Region', 'TemporalChangeVersion']);
    assert.equal(Buffer.from(info.memo!.fields!.note!.data!).toString(), '"second"');
    const points = info.autoResetPoints?.points ?? [];
    assert.equal(points.length, 1);
    assert.equal(points[0]!.buildId, 'build-1');
    assert.equal(points[0]!.runId, runId);
    assert.equal(toNumber(points[0]!.firstWorkflowTaskCompletedId), 4);
    assert.equal(points[0]!.resettable, true);

    // The standby applies the events and writes its own records from them, close included.
    await replicate();
    const standby = await eventually('the standby record', async () => {
      const r = await recordOf(b, ns, runId!);
      return r?.closeTimeMs ? r : undefined;
    });
    assert.equal(standby.status, closed.status);
    assert.deepEqual(standby.searchAttributes, closed.searchAttributes);
    assert.equal(standby.historyLength, closed.historyLength);
    assert.equal(standby.historySizeBytes, closed.historySizeBytes);
    assert.equal(standby.executionDurationMs, closed.executionDurationMs);
  });

  test('an upsert of an undefined or mistyped attribute fails the workflow task with BAD_SEARCH_ATTRIBUTES', async () => {
    const workflowId = `bad-${randomUUID()}`;
    const { runId } = await a.engine.startWorkflowExecution(ns, { namespace: ns.name, workflowId, workflowType: { name: 'w' }, taskQueue: { name: QUEUE }, requestId: randomUUID() });
    for (const [fields, message] of [
      [{ Nope: json('x') }, new RegExp(`search attribute Nope is not defined in namespace ${ns.name}`)],
      [{ CustomerId: json('abc') }, /search attribute CustomerId of type Int cannot hold "abc"/],
    ] as const) {
      const task = await pollTask();
      await assert.rejects(
        a.engine.respondWorkflowTaskCompleted(ns, {
          namespace: ns.name,
          taskToken: task.taskToken,
          identity: 'worker',
          commands: [{ commandType: CT.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, upsertWorkflowSearchAttributesCommandAttributes: { searchAttributes: { indexedFields: fields } } }],
        }),
        (err: unknown) => isTandemError(err, 'INVALID_ARGUMENT') && message.test((err as Error).message),
      );
    }
    const ms = await a.engine.tx.read(ns.id, workflowId, runId!);
    const events = await a.engine.tx.readAllEvents(ms, 1, ms.info.nextEventId);
    const failed = events.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes;
    assert.equal(failed?.cause, enums.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES);
    assert.equal(ms.info.searchAttributes, null, 'nothing was upserted');
  });

  test('an attribute another process defined since the cache was read reaches the record', async () => {
    const cached = (await a.namespaces.getById(ns.id))!;
    // Written past this region's registry, as another process of the region writes it.
    await a.store.namespaces.updateNamespace(
      { ...cached, notificationVersion: cached.notificationVersion + 1n, config: withCustomSearchAttributes(cached.config, (c) => ({ ...c, Fresh: 'Bool' })) },
      cached.notificationVersion,
    );
    const { runId } = await a.engine.startWorkflowExecution(ns, {
      namespace: ns.name,
      workflowId: `fresh-${randomUUID()}`,
      workflowType: { name: 'w' },
      taskQueue: { name: `${QUEUE}-fresh` },
      requestId: randomUUID(),
      searchAttributes: { indexedFields: { Fresh: json(true) } },
    });
    const rec = await eventually('the record', () => recordOf(a, ns, runId!));
    assert.deepEqual(rec.searchAttributes, { Fresh: { type: 'Bool', value: true } });
  });

  test("a child's record and Describe name its parent and its root; the grandchild inherits the root", async () => {
    const workflowId = `parent-${randomUUID()}`;
    const queue = `${QUEUE}-family`;
    const { runId } = await a.engine.startWorkflowExecution(ns, { namespace: ns.name, workflowId, workflowType: { name: 'w' }, taskQueue: { name: queue }, requestId: randomUUID() });
    /** Completes the next task on `from` with a child started on a queue of its own. */
    const startChild = async (from: string, childId: string) => {
      const task = await pollTask(from);
      await a.engine.respondWorkflowTaskCompleted(ns, {
        namespace: ns.name,
        taskToken: task.taskToken,
        identity: 'worker',
        commands: [
          {
            commandType: CT.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
            startChildWorkflowExecutionCommandAttributes: { workflowId: childId, workflowType: { name: 'w' }, taskQueue: { name: childId } },
          },
        ],
      });
      const { records } = await eventually(`${childId} listed`, async () => {
        const page = await a.store.visibility.listVisibility({ namespaceId: ns.id, query: {}, pageSize: 1000 });
        return page.records.some((r) => r.workflowId === childId) ? page : undefined;
      });
      return records.find((r) => r.workflowId === childId)!;
    };
    const child = await startChild(queue, `${workflowId}-child`);
    assert.equal(child.parentWorkflowId, workflowId);
    assert.equal(child.parentRunId, runId);
    assert.equal(child.rootWorkflowId, workflowId);
    assert.equal(child.rootRunId, runId);
    const grandchild = await startChild(child.workflowId, `${workflowId}-grandchild`);
    assert.equal(grandchild.parentWorkflowId, child.workflowId);
    assert.equal(grandchild.rootWorkflowId, workflowId);
    assert.equal(grandchild.rootRunId, runId);
    const d = await a.engine.describeWorkflowExecution(ns, { namespace: ns.name, execution: { workflowId: grandchild.workflowId } });
    assert.deepEqual(d.workflowExecutionInfo?.rootExecution, { workflowId, runId });
    assert.deepEqual(d.workflowExecutionInfo?.parentExecution, { workflowId: child.workflowId, runId: child.runId });
  });
});
