// Issue 14, priorities and fairness keys, end to end with the official TypeScript client and
// worker: a backlog queued while no worker polls is run highest priority first once a worker
// starts; activities wait with the workflow's priority merged with their own; the priorities are
// in the history events and in describe as the reference server keeps them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type InjectedSinks } from '@temporalio/worker';
import { enums, type commonv1, type historyv1 } from '../services/common/temporal.js';
import * as activities from './priority-activities.js';
import { ran } from './priority-activities.js';
import { clientConnection, eventually, StoreFixture, storesUnderTest, TandemProcess, tearDown, testReplay, workerConnection, workflowBundle, type RunningWorker } from './harness.js';
import type { RunOrderSinks } from './workflows/priority.js';

const NAMESPACE = 'default';
const TEST_TIMEOUT_MS = 90_000;
const ET = enums.EventType;

Runtime.install({ logger: new DefaultLogger('ERROR') });

/** Every field, defaults included, as a decoded message leaves defaults out. */
const plain = (p: commonv1.IPriority | null | undefined) =>
  p ? { priorityKey: p.priorityKey ?? 0, fairnessKey: p.fairnessKey ?? '', fairnessWeight: p.fairnessWeight ?? 0 } : null;

/** The level each name's tasks waited at, in the order they ran: ['urgent-2', ...] -> ['urgent', ...]. */
const groups = (names: string[]) => names.map((n) => n.replace(/-[0-9a-f-]{36}$/, '').replace(/-\d+$/, ''));

for (const kind of storesUnderTest()) {
  describe(`priorities and fairness on ${kind}`, () => {
    let store: StoreFixture | undefined;
    let server: TandemProcess | undefined;
    let connection: Connection | undefined;
    let native: NativeConnection | undefined;
    let client: Client;
    const workers: RunningWorker[] = [];

    before(async () => {
      store = await StoreFixture.create(kind);
      server = await TandemProcess.start(store);
      connection = await clientConnection(server.address);
      native = await workerConnection(server.address);
      client = new Client({ connection, namespace: NAMESPACE });
    });

    after(() => tearDown({ workers, native, connection, server, store }));

    async function startWorker(options: Omit<Parameters<typeof Worker.create>[0], 'connection' | 'namespace'>): Promise<void> {
      const worker = await Worker.create({ connection: native!, namespace: NAMESPACE, shutdownGraceTime: '1s', ...options });
      workers.push({ worker, running: worker.run() });
    }

    /** Waits until matching holds `n` tasks of the queue: the backlog no worker has polled yet. */
    async function backlog(taskQueue: string, taskQueueType: number, n: number): Promise<Record<string, number>> {
      return eventually(`${n} tasks queued on ${taskQueue}`, async () => {
        const d = await client.workflowService.describeTaskQueue({ namespace: NAMESPACE, taskQueue: { name: taskQueue }, taskQueueType, reportStats: true });
        if (Number(d.stats?.approximateBacklogCount) !== n) return undefined;
        return Object.fromEntries(Object.entries(d.statsByPriorityKey ?? {}).map(([level, s]) => [level, Number(s.approximateBacklogCount)]));
      });
    }

    const history = async (workflowId: string): Promise<historyv1.IHistoryEvent[]> => (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];

    test('workflows queued while no worker polls run highest priority first; UpdateWorkflowExecutionOptions moves one up', { timeout: TEST_TIMEOUT_MS }, async () => {
      const taskQueue = `prio-wf-${randomUUID()}`;
      const starts: Array<[string, number | undefined]> = [
        ['low-1', 5],
        ['default-1', undefined],
        ['urgent-1', 1],
        ['low-2', 5],
        ['moved', 5],
        ['default-2', undefined],
        ['urgent-2', 1],
      ];
      const suffix = randomUUID();
      const handles = [];
      for (const [name, priorityKey] of starts) {
        handles.push(await client.workflow.start('reportsRun', { taskQueue, workflowId: `${name}-${suffix}`, priority: priorityKey ? { priorityKey } : undefined }));
      }
      await backlog(taskQueue, enums.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, 7);
      await client.workflowService.updateWorkflowExecutionOptions({
        namespace: NAMESPACE,
        workflowExecution: { workflowId: `moved-${suffix}` },
        workflowExecutionOptions: { priority: { priorityKey: 1 } },
        updateMask: { paths: ['priority.priority_key'] },
      });
      assert.deepEqual(
        await backlog(taskQueue, enums.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, 8),
        { 1: 3, 3: 2, 5: 3 },
        'moved waits at level 1 too (its level-5 copy is dropped as stale once it started)',
      );

      const order: string[] = [];
      const sinks: InjectedSinks<RunOrderSinks> = { runOrder: { ran: { fn: (_info, workflowId) => void order.push(workflowId) } } };
      // One workflow task at a time (and no sticky queue, which needs two pollers), so the order they
      // run in is the order matching hands them out.
      await startWorker({ taskQueue, workflowBundle: await workflowBundle(), sinks, maxConcurrentWorkflowTaskExecutions: 1, maxCachedWorkflows: 0 });
      await Promise.all(handles.map((h) => h.result()));
      const levels = groups(order);
      assert.deepEqual([...levels.slice(0, 3)].sort(), ['moved', 'urgent', 'urgent'], `level 1 first: ${levels.join(', ')}`);
      assert.deepEqual(levels.slice(3), ['default', 'default', 'low', 'low']);

      const moved = client.workflow.getHandle(`moved-${suffix}`);
      assert.deepEqual((await moved.describe()).priority, { priorityKey: 1, fairnessKey: '', fairnessWeight: 0 });
      const events = await history(`moved-${suffix}`);
      assert.deepEqual(plain(events[0]?.workflowExecutionStartedEventAttributes?.priority), { priorityKey: 5, fairnessKey: '', fairnessWeight: 0 });
      const updated = events.find((e) => e.eventType === ET.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED);
      assert.deepEqual(plain(updated?.workflowExecutionOptionsUpdatedEventAttributes?.priority), { priorityKey: 1, fairnessKey: '', fairnessWeight: 0 });
      assert.equal((await client.workflow.getHandle(`default-1-${suffix}`).describe()).priority?.priorityKey, undefined, 'none asked, none kept');
    });

    test("activities wait with the workflow's priority merged with their own; history and describe show each as set", { timeout: TEST_TIMEOUT_MS }, async () => {
      const taskQueue = `prio-main-${randomUUID()}`;
      const activityQueue = `prio-act-${randomUUID()}`;
      const workflowId = `prioritized-${randomUUID()}`;
      await startWorker({ taskQueue, workflowBundle: await workflowBundle() });
      const handle = await client.workflow.start('prioritizedWork', {
        taskQueue,
        workflowId,
        args: [activityQueue],
        priority: { priorityKey: 2, fairnessKey: 'tenant-x' },
      });
      assert.deepEqual(await backlog(activityQueue, enums.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, 6), { 1: 2, 2: 2, 4: 2 });

      ran.length = 0;
      await startWorker({ taskQueue: activityQueue, activities, maxConcurrentActivityTaskExecutions: 1 });
      assert.equal((await handle.result()).length, 6);
      assert.deepEqual(groups(ran.map((r) => r.name)), ['urgent', 'urgent', 'inherited', 'inherited', 'later', 'later']);
      const told = Object.fromEntries(ran.map((r) => [r.name.replace(/-\d$/, ''), r.priority]));
      assert.deepEqual(told, {
        urgent: { priorityKey: 1, fairnessKey: 'tenant-x', fairnessWeight: 0 },
        inherited: { priorityKey: 2, fairnessKey: 'tenant-x', fairnessWeight: 0 },
        later: { priorityKey: 4, fairnessKey: 'tenant-x', fairnessWeight: 0 },
      });

      const events = await history(workflowId);
      const runPriority = { priorityKey: 2, fairnessKey: 'tenant-x', fairnessWeight: 0 };
      assert.deepEqual(plain(events[0]?.workflowExecutionStartedEventAttributes?.priority), runPriority);
      assert.deepEqual((await handle.describe()).priority, runPriority);
      const scheduled = events
        .filter((e) => e.eventType === ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        .map((e) => plain(e.activityTaskScheduledEventAttributes?.priority)?.priorityKey ?? 'none')
        .sort();
      assert.deepEqual(scheduled, [1, 1, 4, 4, 'none', 'none'], "each activity's own, as the workflow set it");
      const initiated = events.find((e) => e.eventType === ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED);
      assert.deepEqual(plain(initiated?.startChildWorkflowExecutionInitiatedEventAttributes?.priority), { priorityKey: 0, fairnessKey: '', fairnessWeight: 3 });
      const child = client.workflow.getHandle(`${workflowId}-child`);
      assert.deepEqual((await child.describe()).priority, { ...runPriority, fairnessWeight: 3 }, "the child starts with its own over its parent's");
    });

    testReplay(() => store!);
  });
}
