// Priorities through history, as the reference keeps them: the started event holds the run's, an
// activity's and a child's own are on their scheduled and initiated events, what matching gets is
// the run's merged with the own field by field, a child starts with that merge, and
// UpdateWorkflowExecutionOptions changes the run's by field mask.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isTandemError } from '../common/errors.js';
import { durationFromMs } from '../common/proto-time.js';
import { enums, type commandv1, type commonv1, type historyv1 } from '../common/temporal.js';
import { taskPriority } from '../matching/priority.js';
import type { NamespaceRef } from './api.js';
import { regionA, TestRegion } from './test-region.js';

const CT = enums.CommandType;
const ET = enums.EventType;

describe('priorities in history', () => {
  let r: TestRegion;
  let ns: NamespaceRef;

  before(async () => {
    r = await TestRegion.start(regionA);
    const rec = await r.namespaces.register({ name: `p-${randomUUID().slice(0, 8)}` });
    ns = { id: rec.id, name: rec.name };
  });

  after(() => r.stop());

  const start = (workflowId: string, taskQueue: string, priority?: commonv1.IPriority) =>
    r.engine.startWorkflowExecution(ns, { namespace: ns.name, workflowId, workflowType: { name: 'w' }, taskQueue: { name: taskQueue }, requestId: randomUUID(), priority });
  const pollWorkflow = (taskQueue: string) =>
    r.matching.pollWorkflowTaskQueue(ns.id, { namespace: ns.name, taskQueue: { name: taskQueue, kind: 1 }, identity: 'worker' }, AbortSignal.timeout(10_000));
  const pollActivity = (taskQueue: string) =>
    r.matching.pollActivityTaskQueue(ns.id, { namespace: ns.name, taskQueue: { name: taskQueue }, identity: 'worker' }, AbortSignal.timeout(10_000));
  /** Once the transfer queue handed matching every one of them. */
  const backlogOf = (taskQueue: string, n: number, taskQueueType = enums.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW) =>
    eventually(async () => {
      const d = await r.matching.describeTaskQueue(ns.id, { namespace: ns.name, taskQueue: { name: taskQueue }, taskQueueType, reportStats: true });
      return Number(d.stats?.approximateBacklogCount) === n ? true : undefined;
    });
  const describeRun = (workflowId: string) => r.engine.describeWorkflowExecution(ns, { namespace: ns.name, execution: { workflowId } });
  async function history(workflowId: string): Promise<historyv1.IHistoryEvent[]> {
    const ms = await r.engine.tx.read(ns.id, workflowId, '');
    return r.engine.tx.readAllEvents(ms, 1, ms.info.nextEventId);
  }
  const complete = (taskToken: Uint8Array | null | undefined, commands: commandv1.ICommand[]) =>
    r.engine.respondWorkflowTaskCompleted(ns, { namespace: ns.name, taskToken, identity: 'worker', commands });
  const activity = (activityId: string, taskQueue: string, priority?: commonv1.IPriority): commandv1.ICommand => ({
    commandType: CT.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
    scheduleActivityTaskCommandAttributes: { activityId, activityType: { name: 'act' }, taskQueue: { name: taskQueue }, startToCloseTimeout: durationFromMs(60_000), priority },
  });

  test('workflow tasks wait by their run\'s priority; activities and children inherit it field by field', async () => {
    const queue = `wf-${randomUUID()}`;
    const activities = `act-${randomUUID()}`;
    const children = `child-${randomUUID()}`;
    const id = (name: string) => `${name}-${queue}`;
    await start(id('low'), queue, { priorityKey: 5 });
    await start(id('default'), queue);
    const parentPriority = { priorityKey: 1, fairnessKey: 'tenant-a', fairnessWeight: 2 };
    await start(id('urgent'), queue, parentPriority);
    await backlogOf(queue, 3);

    const first = await pollWorkflow(queue);
    assert.equal(first.workflowExecution?.workflowId, id('urgent'), 'the highest priority first, though started last');
    assert.deepEqual(plain((await describeRun(id('urgent'))).workflowExecutionInfo?.priority), parentPriority);
    assert.equal((await describeRun(id('default'))).workflowExecutionInfo?.priority, null, 'none asked, none shown');
    const started = (await history(id('urgent')))[0]!.workflowExecutionStartedEventAttributes;
    assert.deepEqual(plain(started?.priority), parentPriority);

    await complete(first.taskToken, [
      activity('inherits', activities),
      activity('own', activities, { priorityKey: 4 }),
      {
        commandType: CT.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
        startChildWorkflowExecutionCommandAttributes: { workflowId: id('child'), workflowType: { name: 'w' }, taskQueue: { name: children }, priority: { fairnessWeight: 5 } },
      },
    ]);
    const events = await history(id('urgent'));
    const scheduled = events.filter((e) => e.eventType === ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map((e) => plain(e.activityTaskScheduledEventAttributes?.priority));
    assert.deepEqual(scheduled, [null, { priorityKey: 4, fairnessKey: '', fairnessWeight: 0 }], 'each command\'s own, as sent');
    const initiated = events.find((e) => e.eventType === ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED);
    assert.deepEqual(plain(initiated?.startChildWorkflowExecutionInitiatedEventAttributes?.priority), { priorityKey: 0, fairnessKey: '', fairnessWeight: 5 });
    assert.deepEqual(
      (await describeRun(id('urgent'))).pendingActivities?.map((a) => [a.activityId, plain(a.priority)]),
      [['inherits', null], ['own', { priorityKey: 4, fairnessKey: '', fairnessWeight: 0 }]],
    );

    await backlogOf(activities, 2, enums.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY);
    const got = [await pollActivity(activities), await pollActivity(activities)];
    assert.deepEqual(
      got.map((t) => [t.activityId, plain(t.priority)]),
      [
        ['inherits', parentPriority],
        ['own', { ...parentPriority, priorityKey: 4 }],
      ],
      'the inherited level 1 goes before the own level 4; the worker is told the merged priority',
    );

    const childStarted = await eventually(async () => (await history(id('child')).catch(() => []))[0]);
    assert.deepEqual(plain(childStarted.workflowExecutionStartedEventAttributes?.priority), { ...parentPriority, fairnessWeight: 5 });
    await backlogOf(children, 1);
    const childQueue = await r.matching.describeTaskQueue(ns.id, { namespace: ns.name, taskQueue: { name: children }, reportStats: true });
    assert.deepEqual(Object.keys(childQueue.statsByPriorityKey ?? {}), ['1'], 'the child waits at its inherited level 1');
    // The parent's next task (the child started) waits at level 1 too, ahead of the others.
    await backlogOf(queue, 3);
    const rest = [await pollWorkflow(queue), await pollWorkflow(queue), await pollWorkflow(queue)];
    assert.deepEqual(rest.map((t) => t.workflowExecution?.workflowId), [id('urgent'), id('default'), id('low')]);
  });

  test('UpdateWorkflowExecutionOptions sets fields by mask, writes the whole priority once, and re-queues a waiting workflow task', async () => {
    const queue = `opt-${randomUUID()}`;
    const workflowId = `moved-${queue}`;
    await start(`other-${queue}`, queue);
    await start(workflowId, queue, { priorityKey: 5, fairnessKey: 'tenant-b' });
    await backlogOf(queue, 2);
    const update = (priority: commonv1.IPriority, paths: string[]) =>
      r.engine.updateWorkflowExecutionOptions(ns, { namespace: ns.name, workflowExecution: { workflowId }, workflowExecutionOptions: { priority }, updateMask: { paths } });

    const resp = await update({ priorityKey: 1, fairnessKey: 'ignored' }, ['priority.priority_key']);
    const moved = { priorityKey: 1, fairnessKey: 'tenant-b', fairnessWeight: 0 };
    assert.deepEqual(plain(resp.workflowExecutionOptions?.priority), moved);
    assert.deepEqual(plain((await describeRun(workflowId)).workflowExecutionInfo?.priority), moved);
    const length = (await history(workflowId)).length;
    const updated = (await history(workflowId)).at(-1)!;
    assert.equal(updated.eventType, ET.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED);
    assert.deepEqual(plain(updated.workflowExecutionOptionsUpdatedEventAttributes?.priority), moved);
    await backlogOf(queue, 3);
    await update({ priorityKey: 1 }, ['priority.priorityKey']);
    assert.equal((await history(workflowId)).length, length, 'nothing changed: no event');

    assert.equal((await pollWorkflow(queue)).workflowExecution?.workflowId, workflowId, 'its waiting workflow task moved up to level 1');
    assert.equal((await pollWorkflow(queue)).workflowExecution?.workflowId, `other-${queue}`);
    const stale = await r.matching.pollWorkflowTaskQueue(ns.id, { namespace: ns.name, taskQueue: { name: queue, kind: 1 }, identity: 'worker' }, AbortSignal.timeout(500));
    assert.deepEqual(stale, {}, 'the copy left at level 5 was dropped as stale');

    await assert.rejects(update({ fairnessWeight: -1 }, ['priority']), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && e.message === "FairnessWeight can't be negative");
    await assert.rejects(update({}, ['memo']), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT'));
  });

  test('a bad priority on a command fails the workflow task with that command\'s cause; continue-as-new keeps the run\'s', async () => {
    const queue = `bad-${randomUUID()}`;
    const workflowId = `bad-${queue}`;
    const priority = { priorityKey: 2, fairnessKey: 'tenant-c', fairnessWeight: 0 };
    await start(workflowId, queue, priority);
    await assert.rejects(
      complete((await pollWorkflow(queue)).taskToken, [activity('a', queue, { fairnessKey: 'k'.repeat(65) })]),
      (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && e.message === 'FairnessKey length exceeds limit',
    );
    const failed = (await history(workflowId)).find((e) => e.eventType === ET.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    assert.equal(failed?.workflowTaskFailedEventAttributes?.cause, enums.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES);

    await complete((await pollWorkflow(queue)).taskToken, [
      { commandType: CT.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION, continueAsNewWorkflowExecutionCommandAttributes: { workflowType: { name: 'w' } } },
    ]);
    const next = await history(workflowId);
    assert.equal(next[0]?.eventType, ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    assert.notEqual(next[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId, '');
    assert.deepEqual(plain(next[0]?.workflowExecutionStartedEventAttributes?.priority), priority);
  });
});

/** Every field, defaults included: a decoded message leaves its defaults out. */
const plain = (p: commonv1.IPriority | null | undefined) => taskPriority(p) ?? null;

async function eventually<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((res) => setTimeout(res, 20));
  }
  assert.fail('timed out');
}
