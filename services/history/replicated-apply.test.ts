// The 'replicated' write policy (DESIGN invariants 4a, 6, 7): a standby region that applies the
// active region's events and non-event state, as its replication tasks describe them, holds the
// same run, field by field; applying twice changes nothing; a gap is refused; and the standby
// keeps the run's tasks, dispatching them once it is promoted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isTandemError } from '../common/errors.js';
import { durationFromMs } from '../common/proto-time.js';
import { enums } from '../common/temporal.js';
import { nextFailoverVersion } from '../namespaces/failover.js';
import type { NamespaceRef } from './api.js';
import { takeNonEventState } from './non-event-state.js';
import { differences, eventPart } from './replay-check.js';
import { replicationAckKey, replicationBacklog } from './replication-progress.js';
import type { TaskAttrs } from './tasks.js';
import { regionA, regionB, TestRegion } from './test-region.js';

const CT = enums.CommandType;
const QUEUE = 'replicated-apply';

describe('the replicated write policy', () => {
  let a: TestRegion;
  let b: TestRegion;
  let ns: NamespaceRef;

  before(async () => {
    [a, b] = await Promise.all([TestRegion.start(regionA), TestRegion.start(regionB)]);
    const rec = await a.namespaces.register({ name: `g-${randomUUID().slice(0, 8)}`, isGlobal: true, regions: ['a', 'b'], activeRegion: 'a' });
    // One id in every region (namespace replication copies the record).
    await b.store.namespaces.createNamespace(rec);
    ns = { id: rec.id, name: rec.name };
  });

  after(() => Promise.all([a.stop(), b.stop()]));

  /** Ships every replication task of a's shards to b, as the replication stream does. */
  async function replicate(): Promise<number> {
    let shipped = 0;
    for (const shardId of [0, 1]) {
      const tasks = await a.store.executions.getHistoryTasks({ shardId, category: 'replication', afterTaskId: -1n, maxTaskId: 2n ** 63n - 1n, limit: 1000 });
      for (const t of tasks) {
        const attrs = JSON.parse(t.data) as TaskAttrs;
        const run = await a.engine.tx.read(t.namespaceId, t.workflowId, t.runId);
        const events = await a.engine.tx.readEvents(run, attrs.firstEventId!, attrs.nextEventId!, 1000);
        await b.engine.tx.applyReplicated({ namespaceId: t.namespaceId, workflowId: t.workflowId, runId: t.runId }, events, takeNonEventState(run.data));
        shipped++;
      }
    }
    return shipped;
  }

  test('options set by UpdateActivityOptions reach the standby, which times the activity by them', async () => {
    const workflowId = `wf-${randomUUID()}`;
    const { runId } = await a.engine.startWorkflowExecution(ns, { namespace: ns.name, workflowId, workflowType: { name: 'w' }, taskQueue: { name: QUEUE }, requestId: randomUUID() });
    const task = await a.matching.pollWorkflowTaskQueue(ns.id, { namespace: ns.name, taskQueue: { name: QUEUE, kind: 1 }, identity: 'worker-a' }, AbortSignal.timeout(10_000));
    const scheduleActivity = { activityId: 'act', activityType: { name: 'act' }, taskQueue: { name: `${QUEUE}-act` }, scheduleToCloseTimeout: durationFromMs(3_600_000) };
    await a.engine.respondWorkflowTaskCompleted(ns, {
      namespace: ns.name,
      taskToken: task.taskToken,
      identity: 'worker-a',
      commands: [{ commandType: CT.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK, scheduleActivityTaskCommandAttributes: scheduleActivity }],
    });
    const { activityOptions } = await a.engine.updateActivityOptions(ns, {
      namespace: ns.name,
      execution: { workflowId },
      id: 'act',
      activityOptions: { taskQueue: { name: `${QUEUE}-moved` }, scheduleToCloseTimeout: durationFromMs(120_000) },
      updateMask: { paths: ['task_queue.name', 'schedule_to_close_timeout'] },
    });
    assert.deepEqual([activityOptions?.taskQueue?.name, Number(activityOptions?.scheduleToCloseTimeout?.seconds)], [`${QUEUE}-moved`, 120]);

    await replicate();
    const active = (await a.engine.tx.read(ns.id, workflowId, runId!)).activityById('act')!;
    const standby = (await b.engine.tx.read(ns.id, workflowId, runId!)).activityById('act')!;
    assert.deepEqual(standby.progress, active.progress, 'the options came with the attempt');
    assert.equal(standby.progress.options?.taskQueue, `${QUEUE}-moved`);
    const timers = [];
    for (const shardId of [0, 1]) {
      timers.push(...(await b.store.executions.getTimerTasks({ shardId, after: { visibilityTimeMs: 0, taskId: -1n }, maxVisibilityTimeMs: Number.MAX_SAFE_INTEGER, limit: 1000 })));
    }
    const scheduleToClose = timers
      .filter((t) => t.workflowId === workflowId && (JSON.parse(t.data) as TaskAttrs).timeoutType === 'scheduleToClose')
      .map((t) => t.visibilityTimeMs - standby.scheduledTimeMs);
    assert.ok(scheduleToClose.includes(120_000), `the standby holds a schedule-to-close timer at the new deadline (${scheduleToClose.join(', ')} ms after scheduling)`);
  });

  test('the standby holds the same run; a duplicate changes nothing; a gap is refused; promotion dispatches its work', async () => {
    const workflowId = `wf-${randomUUID()}`;
    const priority = { priorityKey: 2, fairnessKey: 'tenant', fairnessWeight: 3 };
    const { runId } = await a.engine.startWorkflowExecution(ns, { namespace: ns.name, workflowId, workflowType: { name: 'w' }, taskQueue: { name: QUEUE }, requestId: randomUUID(), priority });
    const task = await a.matching.pollWorkflowTaskQueue(ns.id, { namespace: ns.name, taskQueue: { name: QUEUE, kind: 1 }, identity: 'worker-a' }, AbortSignal.timeout(10_000));
    await a.engine.respondWorkflowTaskCompleted(ns, {
      namespace: ns.name,
      taskToken: task.taskToken,
      identity: 'worker-a',
      commands: [
        { commandType: CT.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 't', startToFireTimeout: durationFromMs(3_600_000) } },
        {
          commandType: CT.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
          scheduleActivityTaskCommandAttributes: {
            activityId: 'act',
            activityType: { name: 'act' },
            taskQueue: { name: `${QUEUE}-act` },
            startToCloseTimeout: durationFromMs(60_000),
            priority: { priorityKey: 4 },
          },
        },
      ],
    });
    await a.engine.signalWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId }, signalName: 'hello', requestId: randomUUID() });

    assert.ok((await replicate()) >= 3, 'every write of the global namespace made a replication task');
    const active = await a.engine.tx.read(ns.id, workflowId, runId!);
    const standby = await b.engine.tx.read(ns.id, workflowId, runId!);
    assert.deepEqual(differences(eventPart(active.data), eventPart(standby.data)), [], 'the event part is the same');
    assert.deepEqual(standby.data.progress, active.data.progress, 'the non-event part came along');
    assert.deepEqual(standby.info.priority, priority, "the run's priority came in its started event");
    assert.deepEqual(standby.activityById('act')?.priority, { priorityKey: 4, fairnessKey: '', fairnessWeight: 0 });
    const historyA = await a.engine.tx.readAllEvents(active, 1, active.info.nextEventId);
    const historyB = await b.engine.tx.readAllEvents(standby, 1, standby.info.nextEventId);
    assert.deepEqual(historyB.map((e) => [Number(e.eventId), String(e.version), e.eventType]), historyA.map((e) => [Number(e.eventId), String(e.version), e.eventType]));

    // Applied again: dropped as duplicates.
    await replicate();
    assert.equal((await b.engine.tx.read(ns.id, workflowId, runId!)).info.nextEventId, active.info.nextEventId);

    // A gap: events after the standby's next event id are refused, so the sender resends.
    const key = { namespaceId: ns.id, workflowId, runId: runId! };
    const later = { ...historyA.at(-1)!, eventId: historyA.at(-1)!.eventId!.add(5) };
    await assert.rejects(b.engine.tx.applyReplicated(key, [later]), (err: unknown) => isTandemError(err, 'FAILED_PRECONDITION'));

    // While passive the standby dispatches nothing; once promoted, the pending workflow task
    // (for the signal) reaches a worker of region b.
    const promoted = await b.namespaces.update(ns.name, (r) => ({
      ...r,
      activeRegion: 'b',
      failoverVersion: nextFailoverVersion(r.failoverVersion, regionB.initialFailoverVersion, regionB.failoverVersionIncrement),
    }));
    assert.equal(promoted.activeRegion, 'b');
    const taskB = await b.matching.pollWorkflowTaskQueue(ns.id, { namespace: ns.name, taskQueue: { name: QUEUE, kind: 1 }, identity: 'worker-b' }, AbortSignal.timeout(15_000));
    assert.equal(taskB.workflowExecution?.workflowId, workflowId, 'the promoted standby dispatched the pending workflow task');
  });

  test("the standby's backlog: replication tasks of the namespace above each shard's persisted ack", async () => {
    await a.engine.startWorkflowExecution(ns, { namespace: ns.name, workflowId: `wf-${randomUUID()}`, workflowType: { name: 'w' }, taskQueue: { name: QUEUE }, requestId: randomUUID() });
    const before = await replicationBacklog(a.store, 2, ns.id, 'b');
    assert.ok(before.tasks > 0 && before.shards.length > 0, 'nothing acknowledged yet');
    for (const shardId of before.shards) {
      const tasks = await a.store.executions.getHistoryTasks({ shardId, category: 'replication', afterTaskId: -1n, maxTaskId: 2n ** 63n - 1n, limit: 1000 });
      await a.history.controller.getShard(shardId)!.updateAckLevels({ [replicationAckKey('b')]: tasks.at(-1)!.taskId.toString() });
    }
    assert.deepEqual(await replicationBacklog(a.store, 2, ns.id, 'b'), { tasks: 0, shards: [] });
    assert.ok((await replicationBacklog(a.store, 2, ns.id, 'c')).tasks > 0, 'acks are per standby region');
  });
});
