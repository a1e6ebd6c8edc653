// DESIGN invariants 4, 7 and 10 inside history: every writer (a client call, a worker's
// completion, a timer, an activity timeout, retention) is refused while the namespace is passive
// in this region or in handover, and nothing is lost: a task that fell due meanwhile waits and
// runs right after promotion. Real SQLite store, real matching, the history service's own queues.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isTandemError, type ErrorCode } from '../common/errors.js';
import { durationFromMs, toLong } from '../common/proto-time.js';
import { enums, type workflowservice as ws } from '../common/temporal.js';
import { nextFailoverVersion, type RegionConfig } from '../namespaces/failover.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import type { MatchingEngine } from '../matching/engine.js';
import type { Persistence } from '../persistence/store.js';
import type { HistoryTask, NamespaceRecord } from '../persistence/types.js';
import type { NamespaceRef } from './api.js';
import type { HistoryService } from './history-service.js';
import { TaskExecutor } from './task-executor.js';
import { regionA, regionB, TestRegion } from './test-region.js';

const ET = enums.EventType;
const CT = enums.CommandType;
const NUM_SHARDS = 2;
const QUEUE = 'write-policy';

describe('history writes only where the namespace is active', () => {
  let region: TestRegion;
  let store: Persistence;
  let namespaces: NamespaceRegistry;
  let history: HistoryService;
  let matching: MatchingEngine;
  let executor: TaskExecutor;

  before(async () => {
    region = await TestRegion.start(regionA, { numShards: NUM_SHARDS });
    ({ store, namespaces, history, matching } = region);
    executor = new TaskExecutor(history.engine);
  });

  after(() => region.stop());

  const engine = () => history.engine;

  async function globalNamespace(): Promise<NamespaceRef> {
    const rec = await namespaces.register({ name: `g-${randomUUID().slice(0, 8)}`, isGlobal: true, regions: ['a', 'b'], activeRegion: 'a' });
    return { id: rec.id, name: rec.name };
  }

  /** A graceful failover's steps as this region sees them. */
  const handover = (ns: NamespaceRef) => namespaces.update(ns.name, (r) => ({ ...r, failoverState: 'handover' }));
  const failoverTo = (ns: NamespaceRef, to: RegionConfig) =>
    namespaces.update(ns.name, (r: NamespaceRecord) => ({
      ...r,
      activeRegion: to.name,
      failoverState: 'normal',
      failoverVersion: nextFailoverVersion(r.failoverVersion + 1n, to.initialFailoverVersion, to.failoverVersionIncrement),
    }));

  async function start(ns: NamespaceRef, workflowId = `wf-${randomUUID()}`): Promise<string> {
    await engine().startWorkflowExecution(ns, {
      namespace: ns.name,
      workflowId,
      workflowType: { name: 'writePolicy' },
      taskQueue: { name: QUEUE },
      requestId: randomUUID(),
    });
    return workflowId;
  }

  /** Polls the run's workflow task and completes it with the given commands. */
  async function completeTask(ns: NamespaceRef, commands: ws.IRespondWorkflowTaskCompletedRequest['commands']): Promise<void> {
    const task = await poll(ns);
    await engine().respondWorkflowTaskCompleted(ns, { namespace: ns.name, taskToken: task.taskToken, commands, identity: 'test' });
  }

  async function poll(ns: NamespaceRef): Promise<ws.IPollWorkflowTaskQueueResponse> {
    const task = await matching.pollWorkflowTaskQueue(
      ns.id,
      { namespace: ns.name, taskQueue: { name: QUEUE, kind: 1 }, identity: 'test' },
      AbortSignal.timeout(10_000),
    );
    assert.ok(task.taskToken && task.taskToken.length > 0, 'a workflow task was handed out');
    return task;
  }

  async function eventTypes(ns: NamespaceRef, workflowId: string): Promise<number[]> {
    const res = await engine().getWorkflowExecutionHistory(ns, { namespace: ns.name, execution: { workflowId } }, AbortSignal.timeout(5000));
    return (res.history?.events ?? []).map((e) => e.eventType ?? 0);
  }

  async function timerTasks(ns: NamespaceRef, workflowId: string, type: string): Promise<HistoryTask[]> {
    const out: HistoryTask[] = [];
    for (let shardId = 0; shardId < NUM_SHARDS; shardId++) {
      const tasks = await store.executions.getTimerTasks({ shardId, after: { visibilityTimeMs: 0, taskId: 0n }, maxVisibilityTimeMs: Date.now() + 3_600_000 * 24 * 365, limit: 1000 });
      out.push(...tasks.filter((t) => t.namespaceId === ns.id && t.workflowId === workflowId && t.type === type));
    }
    return out;
  }

  async function refused(code: ErrorCode, what: string, call: () => Promise<unknown>): Promise<void> {
    await assert.rejects(call, (err: unknown) => {
      assert.ok(isTandemError(err, code), `${what}: expected ${code}, got ${String(err)}`);
      return true;
    });
  }

  /** Runs each writer once passive and once in handover: refused both times, no event written. */
  async function refusedWhileNotActive(ns: NamespaceRef, workflowId: string, what: string, write: () => Promise<unknown>): Promise<void> {
    const before = await eventTypes(ns, workflowId);
    await handover(ns);
    await refused('NAMESPACE_HANDOVER', `${what} during handover`, write);
    await failoverTo(ns, regionB);
    await refused('NAMESPACE_NOT_ACTIVE', `${what} while passive`, write);
    assert.deepEqual(await eventTypes(ns, workflowId), before, `${what} wrote nothing`);
    await failoverTo(ns, regionA);
  }

  test('client calls: start, signal, cancel, terminate', async () => {
    const ns = await globalNamespace();
    const wf = await start(ns);
    await refusedWhileNotActive(ns, wf, 'signal', () =>
      engine().signalWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId: wf }, signalName: 's', requestId: randomUUID() }),
    );
    await refusedWhileNotActive(ns, wf, 'terminate', () => engine().terminateWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId: wf } }));
    await refusedWhileNotActive(ns, wf, 'cancel', () => engine().requestCancelWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId: wf } }));
    await refusedWhileNotActive(ns, wf, 'start', () => start(ns));
  });

  test('worker completions: a workflow task answered while the namespace is not active', async () => {
    const ns = await globalNamespace();
    const wf = await start(ns);
    const task = await poll(ns);
    await refusedWhileNotActive(ns, wf, 'workflow task completion', () =>
      engine().respondWorkflowTaskCompleted(ns, { namespace: ns.name, taskToken: task.taskToken, commands: [], identity: 'test' }),
    );
  });

  test('a workflow task started before a failover: its late completion is refused and a new task is dispatched at once', async () => {
    const ns = await globalNamespace();
    const wf = await start(ns);
    const stale = await poll(ns);
    // Away and back: the task was started under a version this region has since handed over.
    await failoverTo(ns, regionB);
    await failoverTo(ns, regionA);
    await refused('TASK_NOT_FOUND', 'the old region worker completion', () =>
      engine().respondWorkflowTaskCompleted(ns, { namespace: ns.name, taskToken: stale.taskToken, commands: [], identity: 'test' }),
    );
    const failed = (await eventTypes(ns, wf)).filter((t) => t === ET.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    assert.equal(failed.length, 1, 'the stale task is failed (FAILOVER_CLOSE_COMMAND), not left to time out');
    const next = await poll(ns);
    assert.equal(next.workflowExecution?.workflowId, wf, 'the next workflow task is handed out without waiting for a timeout');
    assert.equal(next.attempt, 2);
  });

  test('a timer, an activity timeout and a workflow task timeout are refused while passive', async () => {
    const ns = await globalNamespace();
    const wf = await start(ns);
    await completeTask(ns, [
      { commandType: CT.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 't1', startToFireTimeout: durationFromMs(3_600_000) } },
      {
        commandType: CT.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
        scheduleActivityTaskCommandAttributes: {
          activityId: 'a1',
          activityType: { name: 'act' },
          taskQueue: { name: `${QUEUE}-activities` },
          startToCloseTimeout: durationFromMs(3_600_000),
          scheduleToStartTimeout: durationFromMs(3_600_000),
        },
      },
    ]);
    const [timer] = await timerTasks(ns, wf, 'userTimer');
    const [activityTimeout] = await timerTasks(ns, wf, 'activityTimeout');
    assert.ok(timer && activityTimeout, 'the timer and the activity timeout are queued');
    await refusedWhileNotActive(ns, wf, 'user timer', () => executor.execute(timer));
    await refusedWhileNotActive(ns, wf, 'activity timeout', () => executor.execute(activityTimeout));
  });

  test('retention: a closed run is not deleted while passive', async () => {
    const ns = await globalNamespace();
    const wf = await start(ns);
    await completeTask(ns, [{ commandType: CT.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }]);
    const [deletion] = await timerTasks(ns, wf, 'deleteExecution');
    assert.ok(deletion, 'the retention timer is queued');
    await refusedWhileNotActive(ns, wf, 'retention deletion', () => executor.execute(deletion));
    const described = await engine().describeWorkflowExecution(ns, { namespace: ns.name, execution: { workflowId: wf } });
    assert.equal(described.workflowExecutionInfo?.status, enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED, 'the run is still there');
  });

  test('a run written at a version this region has not seen is never written at the old one', async () => {
    const ns = await globalNamespace();
    const wf = await start(ns);
    // Another region wrote the run after a failover this region's view has not caught up with.
    await engine().tx.update(ns.id, wf, '', (ms) => {
      ms.info.lastWriteVersion = '1000';
      ms.dirty = true;
    }, { policy: 'replicated' });
    await refused('NAMESPACE_NOT_ACTIVE', 'signal under a stale version', () =>
      engine().signalWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId: wf }, signalName: 's', requestId: randomUUID() }),
    );
  });

  test('a timer that fell due while passive fires right after promotion', async () => {
    const ns = await globalNamespace();
    const wf = await start(ns);
    await completeTask(ns, [
      { commandType: CT.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 'due', startToFireTimeout: durationFromMs(1500) } },
    ]);
    await failoverTo(ns, regionB);
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(!(await eventTypes(ns, wf)).includes(ET.EVENT_TYPE_TIMER_FIRED), 'no timer fires while passive');
    assert.equal((await timerTasks(ns, wf, 'userTimer')).length, 1, 'the due timer task is kept, not deleted');
    const promotedAt = Date.now();
    await failoverTo(ns, regionA);
    for (;;) {
      if ((await eventTypes(ns, wf)).includes(ET.EVENT_TYPE_TIMER_FIRED)) break;
      assert.ok(Date.now() - promotedAt < 10_000, 'the timer fired after promotion');
      await new Promise((r) => setTimeout(r, 50));
    }
    const res = await engine().getWorkflowExecutionHistory(ns, { namespace: ns.name, execution: { workflowId: wf } }, AbortSignal.timeout(5000));
    const fired = res.history!.events!.find((e) => e.eventType === ET.EVENT_TYPE_TIMER_FIRED)!;
    const ns2 = await namespaces.requireById(ns.id);
    assert.equal(fired.version?.toString(), toLong(ns2.failoverVersion).toString(), 'written at the promoted version');
  });
});
