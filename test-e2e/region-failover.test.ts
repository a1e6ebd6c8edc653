// Failover between two regions of separate processes, each on its own Cassandra instance (issue 9's
// must-show): region a on a Cassandra of this test's own, which it kills; b on the shared test
// Cassandra. The official TypeScript client and worker drive a bounded load.
// - Under load in a, b holds every run event for event (versions included) soon after it stops.
// - The links between the regions cut for 30 s under load, then healed: the streams resume from
//   their acks, no gap, no duplicate, nothing in the DLQ.
// - Graceful failover a -> b during the load, workers moved to b: nothing lost, nothing completed
//   twice, every run completes; then back to a the same way.
// - Forced: the links cut for a few seconds under load (so b surely misses writes), then every
//   process of a and its Cassandra killed (SIGKILL); b is promoted with
//   `FailoverNamespace(force)`, which reports the replication lag it could not apply. The
//   acknowledged starts and signals b never got are printed and must lie within that lag. Runs b
//   has complete there. Then a comes back: it converges to b, the signals only a had are reapplied
//   in b, and a workflow id started again in b while a was gone ends with exactly one running run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ensureTestCassandra, dropTestKeyspace, OwnTestCassandra, type TestCassandra } from '../deploy/cassandra/test-instance.js';
import { ensureTestRedis } from '../deploy/redis/test-instance.js';
import { FailoverServiceClient, type FailoverNamespaceResponse } from '../proto/gen/tandem/admin/v1/failover.js';
import * as activities from './activities.js';
import { eventually, workflowBundle } from './harness.js';
import { regionsTopology } from './region-fixture.js';
import { RegionPair, type RunRef } from './region-pair.js';
import { addsIn, assertSignalsCounted, SdkLoad, type LoadedRun } from './sdk-load.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const NUM_SHARDS = 4;
const NAMESPACE = `fo-${randomUUID().slice(0, 8)}`;
/** The bound is a second after the load stops; the processes share two cores with the test. */
const CONVERGE_MS = 20_000;

describe('failover between two regions on two Cassandra instances', { timeout: 900_000 }, () => {
  const taskQueue = `fo-${randomUUID()}`;
  const suffix = randomUUID().slice(0, 6);
  const [a, b] = [`fa${suffix}`, `fb${suffix}`];
  let ownCassandra: OwnTestCassandra;
  let shared: TestCassandra;
  let pair: RegionPair;
  let bundle: WorkflowBundleWithSourceMap;
  const workers = new Map<string, { worker: Worker; running: Promise<void>; native: NativeConnection }>();

  before(async () => {
    const redis = await ensureTestRedis();
    [ownCassandra, shared] = await Promise.all([OwnTestCassandra.start(`e2e-${a}`), ensureTestCassandra()]);
    const topology = await regionsTopology({
      regions: [
        { name: a, historyNodes: 1, cassandra: ownCassandra },
        { name: b, historyNodes: 1, cassandra: shared },
      ],
      numShards: NUM_SHARDS,
      redis,
      membership: { ttlMs: 3000, heartbeatMs: 1000, pollMs: 300 },
      links: true,
    });
    [pair, bundle] = await Promise.all([RegionPair.start(topology, 'tandem-failover-'), workflowBundle()]);
    await pair.registerGlobalNamespace(NAMESPACE, a);
    await startWorker(a);
  });

  after(async () => {
    for (const name of [...workers.keys()]) await stopWorker(name);
    await pair?.stop();
    await ownCassandra?.stop();
    if (shared) await dropTestKeyspace(shared);
  });

  async function startWorker(name: string): Promise<void> {
    const native = await NativeConnection.connect({ address: pair.frontendOf(name) });
    const worker = await Worker.create({ connection: native, namespace: NAMESPACE, taskQueue, workflowBundle: bundle, activities });
    workers.set(name, { worker, running: worker.run(), native });
  }

  async function stopWorker(name: string): Promise<void> {
    const w = workers.get(name);
    if (!w) return;
    workers.delete(name);
    w.worker.shutdown();
    await w.running.catch(() => {});
    await w.native.close().catch(() => {});
  }

  async function clientOf(name: string): Promise<Client> {
    return new Client({ connection: await pair.connection(name), namespace: NAMESPACE });
  }

  async function gracefulFailover(from: string, to: string): Promise<number> {
    const started = Date.now();
    const c = await pair.connection(from);
    await c.workflowService.updateNamespace({ namespace: NAMESPACE, replicationConfig: { activeClusterName: to } });
    for (const name of pair.names) {
      await eventually(`${name} sees ${NAMESPACE} active in ${to}`, async () => {
        const d = await pair.local(name, (x) => x.workflowService.describeNamespace({ namespace: NAMESPACE }));
        return d.replicationConfig?.activeClusterName === to ? true : undefined;
      });
    }
    return Date.now() - started;
  }


  test('under a load in a, b holds every run event for event, versions included', async () => {
    const load = new SdkLoad(await clientOf(a));
    await load.run({ taskQueue, prefix: 'steady', durationMs: 8_000, maxStarts: 30 });
    const took = await pair.converged(a, b, NAMESPACE, load.runs.values(), CONVERGE_MS);
    console.log(`b converged ${took} ms after the load of ${load.runs.size} runs stopped`);
    await load.finishAll();
    await pair.converged(a, b, NAMESPACE, load.runs.values(), CONVERGE_MS);
    assert.equal(await pair.metricOf(b, 'tandem_replication_tasks_failed_total'), 0, 'no apply failed in b');
  });

  test('the links cut for 30 s under load and healed: the streams resume from their acks, no gap, no duplicate', async () => {
    const reconnectsBefore = await pair.metricOf(b, 'tandem_replication_stream_reconnects_total');
    const load = new SdkLoad(await clientOf(a));
    await pair.partition();
    const cutAtMs = Date.now();
    await load.run({ taskQueue, prefix: 'cut', durationMs: 30_000, maxStarts: 40, addsPerStart: 1 });
    // The cut lasts 30 s whatever the load's pace.
    await new Promise((r) => setTimeout(r, Math.max(0, cutAtMs + 30_000 - Date.now())));
    await pair.heal();
    const took = await pair.converged(a, b, NAMESPACE, load.runs.values(), CONVERGE_MS);
    console.log(`links cut ${Date.now() - cutAtMs - took} ms with ${load.runs.size} runs started in a; b converged ${took} ms after the heal`);
    assert.ok((await pair.metricOf(b, 'tandem_replication_stream_reconnects_total')) > reconnectsBefore, "b's receivers reconnected");
    assert.equal(await pair.metricOf(b, 'tandem_replication_tasks_failed_total'), 0, 'no apply failed in b: no gap, no duplicate');
    assert.equal(await pair.dlqOf(b), 0, "b's replication DLQ is empty");
    await load.finishAll();
    await pair.converged(a, b, NAMESPACE, load.runs.values(), CONVERGE_MS);
  });

  test('graceful failover a -> b during the load, workers moved to b, and back: nothing lost, nothing completed twice', async () => {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const load = new SdkLoad(await clientOf(from));
      const running = load.run({ taskQueue, prefix: `graceful-${to}`, durationMs: 10_000, maxStarts: 40 });
      await new Promise((r) => setTimeout(r, 3_000));
      const took = await gracefulFailover(from, to);
      console.log(`graceful failover ${from} -> ${to} under load: ${took} ms`);
      await startWorker(to);
      await stopWorker(from);
      await running;
      await load.finishAll();
      for (const run of load.runs.values()) await pair.assertCompletedOnce(to, NAMESPACE, run);
      await pair.converged(to, from, NAMESPACE, load.runs.values(), CONVERGE_MS);
    }
  });

  test('forced failover after killing every process of a and its Cassandra: the loss lies within the measured lag; a comes back and converges', async () => {
    const load = new SdkLoad(await clientOf(a));
    const running = load.run({ taskQueue, prefix: 'forced', durationMs: 30_000, maxStarts: 60 });
    await new Promise((r) => setTimeout(r, 5_000));
    // The link goes first (as a region's network often does), then the region: b misses a's last writes.
    await pair.partition();
    await new Promise((r) => setTimeout(r, 4_000));
    // The outage: every process of a, its database included, at once.
    const killedAtMs = Date.now();
    await Promise.all([...pair.nodesOf(a).map((n) => n.kill()), ownCassandra.kill()]);
    load.stop();
    await running;
    await stopWorker(a);
    await pair.dropConnection(a);

    const report = await forceFailover(b);
    const lagMs = Math.round(Number(report.lagSeconds) * 1000);
    console.log(`forced failover to ${b}: ${Number(report.durationMs)} ms, replication lag at the switch ${Number(report.lagTasks)} tasks, ${lagMs} ms`);

    // What b never got, of what the client saw acknowledged.
    const lostStarts: LoadedRun[] = [];
    const lostAdds: { run: LoadedRun; atMs: number }[] = [];
    for (const run of load.runs.values()) {
      const events = await pair.historyIn(b, NAMESPACE, run);
      if (events.length === 0) {
        lostStarts.push(run);
        continue;
      }
      const signaled = addsIn(events);
      for (const atMs of run.addAcksMs.slice(signaled)) lostAdds.push({ run, atMs });
    }
    console.log(
      `acknowledged before the kill: ${load.runs.size} starts, ${[...load.runs.values()].reduce((n, r) => n + r.addAcksMs.length, 0)} signals; ` +
        `acknowledged but not in ${b}: ${lostStarts.length} starts, ${lostAdds.length} signals`,
    );
    // The loss window is the lag measured at the switch (plus the time the kill itself took to land).
    const windowStartMs = killedAtMs - lagMs - 1_000;
    for (const run of lostStarts) assert.ok(run.startedAckMs >= windowStartMs, `${run.workflowId} started ${killedAtMs - run.startedAckMs} ms before the kill, outside the measured lag of ${lagMs} ms`);
    for (const { run, atMs } of lostAdds) assert.ok(atMs >= windowStartMs, `${run.workflowId}: a signal acknowledged ${killedAtMs - atMs} ms before the kill, outside the measured lag`);

    // b carries on: workers there; a workflow id the client lost is started again (a new run).
    await startWorker(b);
    const clientB = await clientOf(b);
    const restarted = new Map<string, string>();
    for (const run of lostStarts) restarted.set(run.workflowId, (await clientB.workflow.start('waitForSignals', { workflowId: run.workflowId, taskQueue })).firstExecutionRunId);

    // a comes back: its database, then its processes, with the data they had; the links heal.
    await pair.heal();
    await ownCassandra.revive();
    for (const service of ['history', 'matching', 'frontend']) {
      await Promise.all(pair.nodesOf(a).filter((n) => n.options.service === service).map((n) => n.start()));
    }
    await eventually(`${a} sees ${NAMESPACE} active in ${b}`, async () => {
      const d = await pair.local(a, (x) => x.workflowService.describeNamespace({ namespace: NAMESPACE }));
      return d.replicationConfig?.activeClusterName === b ? true : undefined;
    });

    // Signals only a had are reapplied in b (after the failover, at b's version).
    for (const { run } of lostAdds) {
      await eventually(`${run.workflowId}: the signals a alone had reach b`, async () => {
        const events = await pair.historyIn(b, NAMESPACE, run);
        const adds = addsIn(events);
        return adds >= run.addAcksMs.length ? true : undefined;
      }, 60_000);
    }
    // A workflow id with a run in each region ends with exactly one running.
    for (const [workflowId, runId] of restarted) {
      const lost = load.runs.get(workflowId)!;
      await eventually(`${workflowId}: one running run`, async () => {
        // Once the run a alone had has reached b, one of the two is closed.
        const statuses = [await statusIn(b, { workflowId, runId }), await statusIn(b, lost)];
        return statuses[1] !== undefined && statuses.filter((s) => s === 'RUNNING').length === 1 ? statuses : undefined;
      }, 60_000);
    }

    // Every run b holds completes in b, once; then a holds them exactly as b does.
    const inB = [...load.runs.values()].filter((r) => !lostStarts.includes(r));
    for (const run of inB) {
      const handle = clientB.workflow.getHandle(run.workflowId, run.runId);
      await handle.signal('done');
      assertSignalsCounted(run, await handle.result(), 'every signal acknowledged in a counted once in b');
      await pair.assertCompletedOnce(b, NAMESPACE, run);
    }
    // The run started again in b got the signals of the run a alone had (reapplied when that one lost).
    for (const [workflowId, runId] of restarted) {
      const handle = clientB.workflow.getHandle(workflowId, runId);
      await handle.signal('done');
      assertSignalsCounted(load.runs.get(workflowId)!, await handle.result(), "the lost run's signals reapplied to the run that kept running");
    }
    const everyRun: RunRef[] = [...inB, ...[...restarted].map(([workflowId, runId]) => ({ workflowId, runId }))];
    await pair.converged(b, a, NAMESPACE, everyRun, 60_000);
  });

  async function statusIn(name: string, run: RunRef): Promise<string | undefined> {
    const d = await pair.local(name, (c) => c.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: run })).catch(() => undefined);
    const status = d?.workflowExecutionInfo?.status;
    return status === undefined || status === null ? undefined : status === 1 ? 'RUNNING' : String(status);
  }

  async function forceFailover(to: string): Promise<FailoverNamespaceResponse> {
    const admin = new FailoverServiceClient(pair.frontendOf(to), grpc.credentials.createInsecure());
    try {
      return await new Promise<FailoverNamespaceResponse>((resolve, reject) =>
        admin.failoverNamespace({ namespace: NAMESPACE, targetRegion: to, force: true, timeoutMs: 0n, identity: 'region-failover.test' }, (err, r) => (err ? reject(err) : resolve(r))),
      );
    } finally {
      admin.close();
    }
  }
});
