// Forwarding between two regions in one process: two frontends on loopback, each over its own
// SQLite store, history and matching. The official client and worker talk to region b only; the
// namespace is active in a, so everything they do must happen in a (nothing replicates here).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { freePort } from '../common/free-port.js';
import { silentLogger } from '../common/logger.js';
import { createRegistry, type Registry } from '../common/metrics.js';
import { google, temporal } from '../common/temporal.js';
import { regionA, regionB, TestRegion } from '../history/test-region.js';
import type { RegionConfig } from '../namespaces/failover.js';
import type { NamespaceRecord } from '../persistence/types.js';
import { FrontendService } from './server.js';
import { grpcError } from './test-helpers.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const workflowsPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'forwarding.workflows.ts');
const NAMESPACE = 'global';
const LOOP = 'loop';

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A global namespace record: the same id in both stores, as namespace replication would leave it. */
function globalNamespace(id: string, name: string, activeRegion: RegionConfig): NamespaceRecord {
  return {
    id,
    name,
    state: 'registered',
    description: '',
    ownerEmail: '',
    data: {},
    retentionMs: 24 * 3600 * 1000,
    isGlobal: true,
    activeRegion: activeRegion.name,
    regions: ['a', 'b'],
    failoverVersion: activeRegion.initialFailoverVersion,
    failoverState: 'normal',
    notificationVersion: 1n,
    config: '{}',
  };
}

class Region {
  private constructor(
    readonly region: TestRegion,
    readonly frontend: FrontendService,
    readonly registry: Registry,
  ) {}

  static async start(self: RegionConfig, cluster: RegionConfig[], port: number): Promise<Region> {
    const region = await TestRegion.start(self, { regions: cluster });
    const registry = createRegistry();
    const frontend = new FrontendService(
      { host: '127.0.0.1', port, region: self.name, shutdownGraceMs: 500 },
      { persistence: region.store, namespaces: region.namespaces, history: region.engine, matching: region.matching, logger: silentLogger(), registry },
    );
    await frontend.start();
    return new Region(region, frontend, registry);
  }

  async insertNamespace(rec: NamespaceRecord): Promise<void> {
    await this.region.store.namespaces.createNamespace(rec);
    await this.region.namespaces.refresh();
  }

  /** tandem_frontend_forwarded_requests_total by method, for one target and code. */
  async forwarded(code = 'OK'): Promise<Map<string, number>> {
    const metric = this.registry.getSingleMetric('tandem_frontend_forwarded_requests_total');
    const byMethod = new Map<string, number>();
    for (const v of (await metric?.get())?.values ?? []) {
      if (v.labels.code === code) byMethod.set(String(v.labels.method), v.value + (byMethod.get(String(v.labels.method)) ?? 0));
    }
    return byMethod;
  }

  async requests(method: string): Promise<number> {
    const metric = this.registry.getSingleMetric('tandem_frontend_requests_total');
    return ((await metric?.get())?.values ?? []).filter((v) => v.labels.method === method).reduce((n, v) => n + v.value, 0);
  }

  async stop(): Promise<void> {
    await this.frontend.stop();
    await this.region.stop();
  }
}

/** The NamespaceNotActiveFailure in grpc-status-details-bin, as the SDKs decode it. */
function namespaceNotActive(err: grpc.ServiceError) {
  assert.equal(err.code, grpc.status.FAILED_PRECONDITION, err.details);
  const [bin] = err.metadata.get('grpc-status-details-bin');
  assert.ok(Buffer.isBuffer(bin), 'grpc-status-details-bin is set');
  const [detail] = google.rpc.Status.decode(bin).details;
  assert.equal(detail?.type_url, 'type.googleapis.com/temporal.api.errordetails.v1.NamespaceNotActiveFailure');
  return temporal.api.errordetails.v1.NamespaceNotActiveFailure.decode(detail.value!);
}

describe('forwarding to the active region', () => {
  let a: Region;
  let b: Region;
  let connection: Connection;
  let client: Client;
  const nsId = randomUUID();
  const taskQueue = `forwarding-${randomUUID()}`;
  const startRequest = (namespace: string) => ({
    namespace,
    workflowId: `raw-${randomUUID()}`,
    workflowType: { name: 'tally' },
    taskQueue: { name: taskQueue },
    requestId: randomUUID(),
  });

  before(async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const cluster = [
      { ...regionA, frontendAddress: `127.0.0.1:${portA}` },
      { ...regionB, frontendAddress: `127.0.0.1:${portB}` },
    ];
    a = await Region.start(cluster[0]!, cluster, portA);
    b = await Region.start(cluster[1]!, cluster, portB);
    await a.insertNamespace(globalNamespace(nsId, NAMESPACE, regionA));
    await b.insertNamespace(globalNamespace(nsId, NAMESPACE, regionA));
    // Each region thinks the other is active: a forward loop.
    const loopId = randomUUID();
    await a.insertNamespace(globalNamespace(loopId, LOOP, regionB));
    await b.insertNamespace(globalNamespace(loopId, LOOP, regionA));
    // No retry interceptor: the tests check the first status of each call.
    connection = await Connection.connect({ address: b.frontend.address, interceptors: [] });
    client = new Client({ connection, namespace: NAMESPACE });
  });

  after(async () => {
    await connection?.close();
    await b?.stop();
    await a?.stop();
  });

  test('a client and a worker on the standby run a workflow in the active region', { timeout: 120_000 }, async () => {
    const native = await NativeConnection.connect({ address: b.frontend.address });
    const worker = await Worker.create({
      connection: native,
      namespace: NAMESPACE,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('ERROR') }),
      activities: { greet: async (name: string) => `hello ${name}` },
      shutdownGraceTime: '1s',
    });
    const running = worker.run();
    try {
      const handle = await client.workflow.start('tally', { taskQueue, workflowId: `tally-${randomUUID()}`, args: ['b'] });
      await handle.signal('add', 2);
      assert.equal(await handle.query<number, []>('total'), 2);
      assert.equal(await handle.executeUpdate<number, []>('double'), 4);
      const described = await handle.describe();
      assert.equal(described.status.name, 'RUNNING');
      await handle.signal('done');
      assert.equal(await handle.result(), 'hello b: 4');

      // The run lives in a only: b forwarded every call instead of serving it.
      const ns = { id: nsId, name: NAMESPACE };
      const execution = { workflowId: handle.workflowId };
      await a.region.engine.describeWorkflowExecution(ns, { namespace: NAMESPACE, execution });
      await assert.rejects(b.region.engine.describeWorkflowExecution(ns, { namespace: NAMESPACE, execution }), /not found/);

      const viaSignalWithStart = await client.workflow.signalWithStart('tally', {
        taskQueue,
        workflowId: `sws-${randomUUID()}`,
        args: ['sws'],
        signal: 'add',
        signalArgs: [5],
      });
      await viaSignalWithStart.signal('done');
      assert.equal(await viaSignalWithStart.result(), 'hello sws: 5');

      const cancelled = await client.workflow.start('tally', { taskQueue, workflowId: `cancel-${randomUUID()}`, args: ['c'] });
      await cancelled.cancel();
      await assert.rejects(cancelled.result(), WorkflowFailedError);

      const terminated = await client.workflow.start('tally', { taskQueue, workflowId: `terminate-${randomUUID()}`, args: ['t'] });
      await terminated.terminate('enough');
      assert.equal((await terminated.describe()).status.name, 'TERMINATED');
    } finally {
      worker.shutdown();
      await running;
      await native.close();
    }

    const ok = await b.forwarded();
    for (const method of [
      'StartWorkflowExecution',
      'SignalWorkflowExecution',
      'SignalWithStartWorkflowExecution',
      'QueryWorkflow',
      'UpdateWorkflowExecution',
      'RequestCancelWorkflowExecution',
      'TerminateWorkflowExecution',
      'DescribeWorkflowExecution',
      'GetWorkflowExecutionHistory',
      'PollWorkflowTaskQueue',
      'RespondWorkflowTaskCompleted',
      // No PollActivityTaskQueue: the worker gets its activities eagerly, in the answers to its
      // forwarded completions, so its activity polls are still open here; the next test forwards one.
      'RespondActivityTaskCompleted',
    ]) {
      assert.ok((ok.get(method) ?? 0) > 0, `${method} was forwarded (forwarded: ${JSON.stringify([...ok])})`);
    }
    assert.equal((await a.forwarded()).size, 0, 'a served everything itself');
  });

  test('a forwarded long poll keeps the caller deadline, and a caller cancel cancels it', async () => {
    const poll = () =>
      connection.workflowService.pollActivityTaskQueue({ namespace: NAMESPACE, taskQueue: { name: `idle-${randomUUID()}` }, identity: 't' });
    // a answers the margin (1 s) before the deadline, not after its 60 s cap.
    const started = Date.now();
    const empty = await connection.withDeadline(Date.now() + 2_500, poll);
    assert.equal(empty.taskToken?.length ?? 0, 0);
    assert.ok(Date.now() - started < 2_500);

    const before = await a.requests('PollActivityTaskQueue');
    const abort = new AbortController();
    const cancelled = connection.withAbortSignal(abort.signal, poll);
    setTimeout(() => abort.abort(), 300);
    await assert.rejects(cancelled);
    await eventually('a ended the cancelled poll', async () => (await a.requests('PollActivityTaskQueue')) > before, 5_000);
  });

  test('a forward loop ends in NamespaceNotActive', async () => {
    const err = await grpcError(connection.workflowService.startWorkflowExecution(startRequest(LOOP)));
    // a's answer, relayed by b: a thinks b is active, and does not send the call back.
    const detail = namespaceNotActive(err);
    assert.deepEqual([detail.namespace, detail.currentCluster, detail.activeCluster], [LOOP, 'a', 'b']);
  });

  test('when the active region is down the standby answers NamespaceNotActive, and serves reads itself', async () => {
    await a.frontend.stop();
    const err = await grpcError(connection.workflowService.startWorkflowExecution(startRequest(NAMESPACE)));
    const detail = namespaceNotActive(err);
    assert.deepEqual([detail.namespace, detail.currentCluster, detail.activeCluster], [NAMESPACE, 'b', 'a']);
    assert.ok(((await b.forwarded('UNAVAILABLE')).get('StartWorkflowExecution') ?? 0) > 0);
    // The standby's copy answers reads (empty here: nothing replicates in this test).
    const count = await connection.workflowService.countWorkflowExecutions({ namespace: NAMESPACE });
    assert.equal(Number(count.count), 0);
  });
});
