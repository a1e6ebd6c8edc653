import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../common/logger.js';
import { createRegistry } from '../common/metrics.js';
import type { workflowservice as ws } from '../common/temporal.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import type { AddTaskRequest, TaskStarter } from './api.js';
import { MatchingEngine } from './engine.js';
import { rampBucket, targetVersion, type TaskQueueRouting } from './versioning.js';

const v1 = { deploymentName: 'demo', buildId: 'v1' };
const v2 = { deploymentName: 'demo', buildId: 'v2' };
const routing = (r: Partial<TaskQueueRouting>): TaskQueueRouting => ({ current: null, ramping: null, rampPercentage: 0, updateTimeMs: 0, versions: [], ...r });

describe('targetVersion', () => {
  test('unpinned tasks go to the current version; none set: to unversioned pollers', () => {
    assert.deepEqual(targetVersion(routing({ current: v1 }), 'wf-1', undefined), v1);
    assert.equal(targetVersion(routing({}), 'wf-1', undefined), null);
    assert.equal(targetVersion(null, 'wf-1', undefined), null);
  });

  test('a pinned workflow stays on its version after the current one moved', () => {
    assert.deepEqual(targetVersion(routing({ current: v2 }), 'wf-1', v1), v1);
  });

  test('a ramp at 25% sends about a quarter of workflow ids to the ramping version, the same ones every time', () => {
    const r = routing({ current: v1, ramping: v2, rampPercentage: 25 });
    const ids = Array.from({ length: 4000 }, (_, i) => `order-${i}`);
    const ramped = ids.filter((id) => targetVersion(r, id, undefined) === v2);
    assert.ok(ramped.length > 4000 * 0.22 && ramped.length < 4000 * 0.28, `${ramped.length} of 4000 ramped`);
    assert.deepEqual(ids.filter((id) => targetVersion(r, id, undefined) === v2), ramped);
    assert.ok(ramped.every((id) => rampBucket(id) < 25));
  });

  test('ramps at 0% and 100%', () => {
    assert.deepEqual(targetVersion(routing({ current: v1, ramping: v2, rampPercentage: 0 }), 'wf', undefined), v1);
    assert.deepEqual(targetVersion(routing({ current: v1, ramping: v2, rampPercentage: 100 }), 'wf', undefined), v2);
  });
});

describe('versioned sub-queues in the engine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-versioning-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const starter: TaskStarter = {
    recordWorkflowTaskStarted: async (t: AddTaskRequest) => ({ taskToken: Buffer.from(t.workflowId), workflowExecution: { workflowId: t.workflowId, runId: t.runId } }),
    recordActivityTaskStarted: async (t: AddTaskRequest) => ({ taskToken: Buffer.from(t.workflowId), workflowExecution: { workflowId: t.workflowId, runId: t.runId } }),
    buildQueryTask: async (_id, q) => ({ query: q.query }),
  };

  const poll = (engine: MatchingEngine, buildId: string | null, signal: AbortSignal) =>
    engine.pollWorkflowTaskQueue(
      'ns',
      {
        taskQueue: { name: 'orders' },
        identity: `worker-${buildId ?? 'unversioned'}`,
        deploymentOptions: buildId ? { deploymentName: 'demo', buildId, workerVersioningMode: 2 } : null,
      },
      signal,
    );

  const add = (engine: MatchingEngine, workflowId: string, pinnedVersion?: typeof v1) =>
    engine.addWorkflowTask({ taskQueue: { namespaceId: 'ns', name: 'orders', type: 1, kind: 1 }, workflowId, runId: 'r', scheduledEventId: 2, scheduleToStartTimeoutMs: 0, ...(pinnedVersion ? { pinnedVersion } : {}) });

  test('the current version, the pinned one and the unversioned pollers each get their tasks', async () => {
    const persistence = await openSqlitePersistence({ path: join(dir, 'm.db') });
    let current: typeof v1 | null = v1;
    const engine = new MatchingEngine({
      store: persistence.taskQueues,
      starter,
      logger: silentLogger(),
      registry: createRegistry(),
      routing: async (_ns, tq) => (tq === 'orders' ? routing({ current }) : null),
      // No upkeep tick in this test: tasks stay where the routing placed them when added.
      config: { ackFlushIntervalMs: 60_000 },
    });
    await engine.start();
    try {
      await add(engine, 'new-on-v1');
      current = v2;
      await add(engine, 'new-on-v2');
      await add(engine, 'pinned-to-v1', v1);
      const short = () => AbortSignal.timeout(300);
      assert.equal((await poll(engine, 'v2', short())).workflowExecution?.workflowId, 'new-on-v2');
      assert.equal((await poll(engine, 'v2', short())).workflowExecution, undefined);
      const onV1 = [(await poll(engine, 'v1', short())).workflowExecution?.workflowId, (await poll(engine, 'v1', short())).workflowExecution?.workflowId];
      assert.deepEqual(onV1.sort(), ['new-on-v1', 'pinned-to-v1']);
      assert.equal((await poll(engine, null, short())).workflowExecution, undefined);

      const query = new AbortController();
      const answer = engine.queryWorkflow(
        { taskQueue: { namespaceId: 'ns', name: 'orders', type: 1, kind: 1 }, execution: { workflowId: 'pinned-to-v1' }, query: { queryType: 'state' }, pinnedVersion: v1 },
        query.signal,
      );
      assert.equal((await poll(engine, 'v1', short())).query?.queryType, 'state', 'a pinned run\'s query goes to its version');
      query.abort();
      await assert.rejects(answer);

      current = null;
      await add(engine, 'unversioned');
      assert.equal((await poll(engine, null, short())).workflowExecution?.workflowId, 'unversioned');

      current = v2;
      await add(engine, 'waiting-on-v1', v1);
      const described: ws.IDescribeTaskQueueResponse = await engine.describeTaskQueue('ns', { taskQueue: { name: 'orders' }, reportStats: true });
      assert.deepEqual(described.pollers?.map((p) => p.deploymentOptions?.buildId ?? '').sort(), ['', 'v1', 'v2']);
      assert.equal(described.versioningInfo?.currentDeploymentVersion?.buildId, 'v2');
      assert.equal(Number(described.stats?.approximateBacklogCount), 1, 'the backlog of every version counts');
      assert.ok(described.stats?.approximateBacklogAge, 'with the age of its oldest task');
    } finally {
      await engine.stop();
      await persistence.close();
    }
  });

  test('when the routing moves on, unpinned tasks queued for the old version follow, even with its workers gone; pinned ones stay', async () => {
    const persistence = await openSqlitePersistence({ path: join(dir, 'reroute.db') });
    let r = routing({ current: v1, versions: [v1, v2], updateTimeMs: 1 });
    const engineOn = () =>
      new MatchingEngine({ store: persistence.taskQueues, starter, logger: silentLogger(), registry: createRegistry(), routing: async () => r, config: { ackFlushIntervalMs: 50 } });
    const first = engineOn();
    await first.start();
    await add(first, 'auto-on-v1');
    await add(first, 'pinned-to-v1', v1);
    // A restart: no queue is loaded, and v1 has no pollers any more.
    await first.stop();
    const engine = engineOn();
    await engine.start();
    try {
      r = routing({ current: v2, versions: [v1, v2], updateTimeMs: 2 });
      assert.equal((await poll(engine, 'v2', AbortSignal.timeout(10_000))).workflowExecution?.workflowId, 'auto-on-v1');
      assert.equal((await poll(engine, 'v2', AbortSignal.timeout(500))).workflowExecution, undefined, 'the pinned task did not move');
      assert.equal((await poll(engine, 'v1', AbortSignal.timeout(5_000))).workflowExecution?.workflowId, 'pinned-to-v1');
    } finally {
      await engine.stop();
      await persistence.close();
    }
  });
});
