// Issue 12 items 2 and 3, the Worker Versioning demo: two official TS workers of one worker
// deployment ("demo", build ids v1 and v2, workflows PINNED by default) against `tandem dev`.
// Workflows pinned to v1 drain on v1 while v2 takes the new ones; a ramp of 25% sends about a
// quarter of new workflows to the ramping version; DescribeWorkerDeployment and DescribeTaskQueue
// show the versions, the routing and the pollers of both.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { enums } from '../services/common/temporal.js';
import { rampBucket } from '../services/matching/versioning.js';
import { clientConnection, eventually, StoreFixture, storesUnderTest, TandemProcess, tearDown, workerConnection, workflowBundle, workflowsPath, type RunningWorker } from './harness.js';

const NAMESPACE = 'default';
const DEPLOYMENT = 'demo';
const TEST_TIMEOUT_MS = 120_000;
const versioningWorkflows = path.join(path.dirname(workflowsPath), 'versioning.ts');

Runtime.install({ logger: new DefaultLogger('ERROR') });

for (const kind of storesUnderTest()) {
  describe(`worker versioning on ${kind}`, () => {
    let store: StoreFixture | undefined;
    let server: TandemProcess | undefined;
    let connection: Connection | undefined;
    let native: NativeConnection | undefined;
    const workers: RunningWorker[] = [];
    let client: Client;
    const taskQueue = `versioning-${randomUUID()}`;

    const service = () => connection!.workflowService;

    async function startWorker(buildId: string): Promise<void> {
      const worker = await Worker.create({
        connection: native!,
        namespace: NAMESPACE,
        taskQueue,
        workflowBundle: await workflowBundle(versioningWorkflows),
        activities: { buildOf: async () => buildId },
        workerDeploymentOptions: { version: { deploymentName: DEPLOYMENT, buildId }, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' },
        identity: `worker-${buildId}`,
        shutdownGraceTime: '1s',
      });
      workers.push({ worker, running: worker.run() });
    }

    /** The version exists once its pollers of both task queue types polled. */
    const registered = (buildId: string) =>
      eventually(`version ${buildId} registered by its pollers`, async () => {
        const r = await service()
          .describeWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName: DEPLOYMENT, buildId } })
          .catch(() => undefined);
        return (r?.workerDeploymentVersionInfo?.taskQueueInfos?.length ?? 0) >= 2 ? r : undefined;
      });

    const setCurrent = (buildId: string) => service().setWorkerDeploymentCurrentVersion({ namespace: NAMESPACE, deploymentName: DEPLOYMENT, buildId, identity: 'test' });

    const start = (waitForFinish: boolean, extra: object = {}) =>
      client.workflow.start('versionedWork', { workflowId: `versioned-${randomUUID()}`, taskQueue, args: [waitForFinish], ...extra });

    /** The deployment version the run's last workflow task completed on, once there is one. */
    const versionOf = (h: WorkflowHandle) =>
      eventually(`${h.workflowId}: a workflow task completed on a version`, async () => {
        const d = await service().describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId: h.workflowId } });
        return d.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId ? d.workflowExecutionInfo.versioningInfo : undefined;
      });

    before(async () => {
      store = await StoreFixture.create(kind);
      server = await TandemProcess.start(store);
      connection = await clientConnection(server.address);
      client = new Client({ connection, namespace: NAMESPACE });
      native = await workerConnection(server.address);
    });

    after(() => tearDown({ workers, native, connection, server, store }));

    test('pinned workflows drain on v1 while v2, now current, takes the new ones', { timeout: TEST_TIMEOUT_MS }, async () => {
      await startWorker('v1');
      await registered('v1');
      await setCurrent('v1');
      const old = await Promise.all(Array.from({ length: 5 }, () => start(true)));
      for (const h of old) {
        const info = await versionOf(h);
        assert.equal(info.deploymentVersion?.buildId, 'v1');
        assert.equal(info.behavior, enums.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED);
      }

      const pinnedToV1 = `TemporalWorkerDeploymentVersion = '${DEPLOYMENT}:v1' AND TemporalWorkflowVersioningBehavior = 'Pinned' AND ExecutionStatus = 'Running'`;
      await eventually('visibility lists the runs pinned to v1', async () => {
        const { count } = await client.workflow.count(pinnedToV1);
        return count === old.length ? count : undefined;
      });
      for await (const listed of client.workflow.list({ query: pinnedToV1 })) {
        assert.equal(listed.raw.versioningInfo?.deploymentVersion?.buildId, 'v1', 'the list shows the version too');
      }

      await startWorker('v2');
      await registered('v2');
      const switched = await setCurrent('v2');
      assert.equal(switched.previousDeploymentVersion?.buildId, 'v1');

      const fresh = await Promise.all(Array.from({ length: 5 }, () => start(false)));
      assert.deepEqual(await Promise.all(fresh.map((h) => h.result())), fresh.map(() => 'v2'), 'new workflows run on the current version');

      await Promise.all(old.map((h) => h.signal('finish')));
      assert.deepEqual(await Promise.all(old.map((h) => h.result())), old.map(() => 'v1'), 'pinned workflows finish on their version');

      const deployment = await service().describeWorkerDeployment({ namespace: NAMESPACE, deploymentName: DEPLOYMENT });
      const summaries = deployment.workerDeploymentInfo?.versionSummaries ?? [];
      const statusOf = (b: string) => summaries.find((s) => s.deploymentVersion?.buildId === b)?.status;
      assert.equal(statusOf('v2'), enums.WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT);
      assert.equal(statusOf('v1'), enums.WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING);
      assert.equal(deployment.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId, 'v2');

      await eventually('v1 drained: no running workflow pinned to it', async () => {
        const v1 = await service().describeWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName: DEPLOYMENT, buildId: 'v1' } });
        return v1.workerDeploymentVersionInfo?.status === enums.WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED ? v1 : undefined;
      });

      const tq = await service().describeTaskQueue({ namespace: NAMESPACE, taskQueue: { name: taskQueue }, taskQueueType: enums.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, reportStats: true });
      assert.deepEqual([...new Set(tq.pollers?.map((p) => `${p.identity}=${p.deploymentOptions?.buildId}`))].sort(), ['worker-v1=v1', 'worker-v2=v2']);
      assert.equal(tq.versioningInfo?.currentDeploymentVersion?.buildId, 'v2');
      // The enhanced mode `temporal task-queue describe` uses: pollers and stats per type.
      const enhanced = await service().describeTaskQueue({
        namespace: NAMESPACE,
        taskQueue: { name: taskQueue },
        apiMode: enums.DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED,
        reportPollers: true,
        reportStats: true,
      });
      const types = enhanced.versionsInfo?.['']?.typesInfo ?? {};
      assert.deepEqual(Object.keys(types).sort(), ['1', '2'], 'workflow and activity types');
      assert.deepEqual([...new Set(types['1']?.pollers?.map((p) => p.identity))].sort(), ['worker-v1', 'worker-v2']);
      assert.ok(types['1']?.stats, 'with stats');
    });

    test('a ramp of 25% sends about a quarter of the new workflows to the ramping version', { timeout: TEST_TIMEOUT_MS }, async () => {
      await setCurrent('v1');
      await service().setWorkerDeploymentRampingVersion({ namespace: NAMESPACE, deploymentName: DEPLOYMENT, buildId: 'v2', percentage: 25, identity: 'test' });
      const tq = await service().describeTaskQueue({ namespace: NAMESPACE, taskQueue: { name: taskQueue }, taskQueueType: enums.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW });
      assert.equal(tq.versioningInfo?.rampingDeploymentVersion?.buildId, 'v2');
      assert.equal(tq.versioningInfo?.rampingVersionPercentage, 25);

      const handles = await Promise.all(Array.from({ length: 80 }, () => start(false)));
      const results = await Promise.all(handles.map((h) => h.result()));
      const ramped = results.filter((r) => r === 'v2').length;
      assert.equal(ramped + results.filter((r) => r === 'v1').length, 80);
      assert.ok(ramped >= 8 && ramped <= 32, `${ramped} of 80 new workflows ran on the ramping version`);
    });

    test('a versioning override pins a new workflow to a version that is not current', { timeout: TEST_TIMEOUT_MS }, async () => {
      // An id the 25% ramp leaves on the current version v1: only the override sends it to v2.
      let workflowId = `override-${randomUUID()}`;
      while (rampBucket(workflowId) < 25) workflowId = `override-${randomUUID()}`;
      const h = await start(false, { versioningOverride: { pinnedTo: { deploymentName: DEPLOYMENT, buildId: 'v2' } }, workflowId });
      assert.equal(await h.result(), 'v2');
      const d = await service().describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId: h.workflowId } });
      assert.equal(d.workflowExecutionInfo?.versioningInfo?.versioningOverride?.pinned?.version?.buildId, 'v2');
    });

    test('UpdateWorkflowExecutionOptions moves a running workflow pinned to v1 onto v2', { timeout: TEST_TIMEOUT_MS }, async () => {
      let workflowId = `moved-${randomUUID()}`;
      while (rampBucket(workflowId) < 25) workflowId = `moved-${randomUUID()}`;
      const h = await start(true, { workflowId });
      assert.equal((await versionOf(h)).deploymentVersion?.buildId, 'v1');
      const updated = await service().updateWorkflowExecutionOptions({
        namespace: NAMESPACE,
        workflowExecution: { workflowId },
        workflowExecutionOptions: { versioningOverride: { pinned: { version: { deploymentName: DEPLOYMENT, buildId: 'v2' }, behavior: 1 } } },
        updateMask: { paths: ['versioning_override'] },
      });
      assert.equal(updated.workflowExecutionOptions?.versioningOverride?.pinned?.version?.buildId, 'v2');
      await h.signal('finish');
      assert.equal(await h.result(), 'v2');
    });

    test('a current version is not deleted', { timeout: TEST_TIMEOUT_MS }, async () => {
      await assert.rejects(
        service().deleteWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName: DEPLOYMENT, buildId: 'v1' } }),
        (err: { code?: number }) => err.code === status.FAILED_PRECONDITION,
      );
    });
  });
}
