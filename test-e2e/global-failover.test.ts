// A region dies and clients follow by themselves (issue 10's must-show): `tandem up` in small, two
// regions of separate processes with the links between them, the router, the routes and the two
// controller replicas (two failure domains); region a on a Cassandra of this test's own. The
// official TypeScript client and worker know ONE address, the global endpoint.
// - A partition between the regions alone (both healthy to the observers) triggers no failover.
// - `tandem chaos kill-region a` (and a's Cassandra killed) under load: the controller promotes b
//   and re-points the route; RTO (kill to the first start through the endpoint) and the
//   acknowledged starts and signals b never got are printed, the loss within the lag the forced
//   failover measured, and none for a namespace with synchronous replication; every run b holds
//   completes there, with the worker that never moved.
// - `tandem chaos revive-region a`: a converges, and the controller fails the namespace back home
//   (it says `tandem.failback=auto`) with nothing lost.
// - Ten `tandem drill a --and-back` in a row under load: all graceful, none lost or duplicated.
// (One partitioned observer never triggering a failover: services/controller/controller.test.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ensureTestCassandra, dropTestKeyspace, OwnTestCassandra, type TestCassandra } from '../deploy/cassandra/test-instance.js';
import { ensureTestRedis } from '../deploy/redis/test-instance.js';
import { FailoverAuditServiceClient, type FailoverAuditEntry } from '../proto/gen/tandem/admin/v1/failover_audit.js';
import * as activities from './activities.js';
import { eventually, workflowBundle } from './harness.js';
import { regionsTopology } from './region-fixture.js';
import { RegionPair } from './region-pair.js';
import { addsIn, SdkLoad, type LoadedRun } from './sdk-load.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const TANDEM = fileURLToPath(new URL('../bin/tandem.mjs', import.meta.url));
const NAMESPACE = `gf-${randomUUID().slice(0, 8)}`;
/** Synchronous replication (`tandem.replication=sync`): a forced failover loses nothing of it. */
const SYNC_NAMESPACE = `gfs-${randomUUID().slice(0, 8)}`;
const DRILLS = 10;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('a region dies under load and clients follow through the global endpoint', { timeout: 900_000 }, () => {
  const taskQueue = `gf-${randomUUID()}`;
  const suffix = randomUUID().slice(0, 6);
  const [a, b] = [`ga${suffix}`, `gb${suffix}`];
  let ownCassandra: OwnTestCassandra;
  let shared: TestCassandra;
  let pair: RegionPair;
  let endpoint: string;
  let connection: Connection;
  let client: Client;
  let native: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  let syncClient: Client;
  let syncWorker: Worker;
  let syncWorkerRun: Promise<void>;
  /** The sync namespace's load during the outage, finished once a is back (its writes need a). */
  let syncLoad: SdkLoad;
  /** Runs b held after the outage and completed there: a must hold them too once it is back. */
  let outageRuns: LoadedRun[] = [];

  const tandem = (...argv: string[]) =>
    new Promise<Run>((resolve) => {
      execFile(process.execPath, [TANDEM, ...argv], { timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
      });
    });
  const withTopology = (...argv: string[]) => tandem(...argv, '--topology', pair.topologyFile);

  before(async () => {
    const redis = await ensureTestRedis();
    [ownCassandra, shared] = await Promise.all([OwnTestCassandra.start(`e2e-${a}`), ensureTestCassandra()]);
    const topology = await regionsTopology({
      regions: [
        { name: a, historyNodes: 1, cassandra: ownCassandra },
        { name: b, historyNodes: 1, cassandra: shared },
      ],
      numShards: 4,
      redis,
      membership: { ttlMs: 3000, heartbeatMs: 1000, pollMs: 300 },
      links: true,
    });
    const bundle = workflowBundle();
    pair = await RegionPair.start(topology, 'tandem-global-failover-', { global: true });
    endpoint = `127.0.0.1:${topology.global.endpoint.port}`;
    connection = await Connection.connect({ address: endpoint });
    // Through the endpoint like everything else: a namespace without a route goes to the default one.
    for (const [namespace, replication] of [
      [NAMESPACE, 'async'],
      [SYNC_NAMESPACE, 'sync'],
    ]) {
      await connection.workflowService.registerNamespace({
        namespace,
        isGlobalNamespace: true,
        clusters: [{ clusterName: a }, { clusterName: b }],
        activeClusterName: a,
        workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86_400) },
        data: { 'tandem.failback': 'auto', 'tandem.replication': replication! },
      });
      for (const name of [a, b]) await eventually(`${namespace} in ${name}`, () => pair.local(name, (c) => c.workflowService.describeNamespace({ namespace })), 30_000);
      await eventually(`a route for ${namespace}`, async () => ((await routeOf(namespace!))?.region === a ? true : undefined), 30_000);
    }
    client = new Client({ connection, namespace: NAMESPACE });
    syncClient = new Client({ connection, namespace: SYNC_NAMESPACE });
    native = await NativeConnection.connect({ address: endpoint });
    worker = await Worker.create({ connection: native, namespace: NAMESPACE, taskQueue, workflowBundle: await bundle, activities });
    workerRun = worker.run();
    syncWorker = await Worker.create({ connection: native, namespace: SYNC_NAMESPACE, taskQueue, workflowBundle: await bundle, activities });
    syncWorkerRun = syncWorker.run();
  });

  after(async () => {
    worker?.shutdown();
    syncWorker?.shutdown();
    await workerRun?.catch(() => {});
    await syncWorkerRun?.catch(() => {});
    await native?.close().catch(() => {});
    await connection?.close();
    await pair?.stop();
    await ownCassandra?.stop();
    if (shared) await dropTestKeyspace(shared);
  });

  async function routeOf(namespace: string): Promise<{ region: string; epoch: number } | undefined> {
    const r = await withTopology('routes', '--json');
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { namespace: string; region: string; epoch: number }[]).find((x) => x.namespace === namespace);
  }

  async function activeIn(name: string, namespace = NAMESPACE): Promise<string | undefined> {
    const d = await pair.local(name, (c) => c.workflowService.describeNamespace({ namespace }));
    return d.replicationConfig?.activeClusterName ?? undefined;
  }

  /** The failover audit of a region, newest first, straight from its frontend. */
  async function auditOf(name: string): Promise<FailoverAuditEntry[]> {
    const admin = new FailoverAuditServiceClient(pair.frontendOf(name), grpc.credentials.createInsecure());
    try {
      const res = await new Promise<{ entries: FailoverAuditEntry[] }>((resolve, reject) => admin.listFailoverAudit({ namespace: NAMESPACE, limit: 100 }, (err, r) => (err ? reject(err) : resolve(r))));
      return res.entries;
    } finally {
      admin.close();
    }
  }


  test('tandem status shows the replication lag between the regions and the routes', async () => {
    const status = await withTopology('status');
    assert.match(status.stdout, new RegExp(`replication to ${b}: lag [0-9.]+ s, \\d+ tasks`), status.stdout + status.stderr);
    assert.match(status.stdout, new RegExp(`${NAMESPACE} -> ${a} \\(127\\.0\\.0\\.1:\\d+\\) epoch \\d+`), status.stdout);
  });

  test('a partition between the two regions alone triggers no failover', async () => {
    const before = (await routeOf(NAMESPACE))!;
    const cut = await withTopology('chaos', 'partition', a, b);
    assert.equal(cut.code, 0, cut.stderr);
    const cutAtMs = Date.now();
    // Longer than the controller's down window (10 s): the observers see both regions healthy.
    const load = new SdkLoad(client);
    await load.run({ taskQueue, prefix: 'partitioned', durationMs: 15_000, maxStarts: 1_000, addsPerStart: 1 });
    await new Promise((r) => setTimeout(r, Math.max(0, cutAtMs + 15_000 - Date.now())));
    const healed = await withTopology('chaos', 'heal');
    assert.equal(healed.code, 0, healed.stderr);
    assert.equal(await activeIn(a), a, 'still active in a');
    assert.deepEqual(await routeOf(NAMESPACE), before, 'the route did not move');
    assert.deepEqual(await auditOf(a), [], 'no failover was audited');
    await load.finishAll();
  });

  test('tandem chaos kill-region a under load: the controller promotes b, clients follow, the loss lies within the measured lag', async () => {
    const load = new SdkLoad(client);
    syncLoad = new SdkLoad(syncClient);
    const running = load.run({ taskQueue, prefix: 'outage', durationMs: 120_000, maxStarts: 80, addsPerStart: 1 });
    const syncRunning = syncLoad.run({ taskQueue, prefix: 'outage-sync', durationMs: 60_000, maxStarts: 40, addsPerStart: 1 });
    await new Promise((r) => setTimeout(r, 6_000));
    const kill = await withTopology('chaos', 'kill-region', a);
    assert.equal(kill.code, 0, kill.stderr);
    await ownCassandra.kill();
    const killedAtMs = Date.now();
    // A sync namespace's writes wait for the other region: with a gone, b cannot acknowledge them.
    syncLoad.stop();
    await syncRunning;
    console.log(kill.stdout.trim());

    // RTO: from the kill to the first start that succeeds through the endpoint.
    let rtoMs = 0;
    for (let i = 0; !rtoMs; i++) {
      assert.ok(Date.now() - killedAtMs < 120_000, 'no start succeeded through the endpoint within 120 s of the kill');
      try {
        await connection.withDeadline(Date.now() + 3_000, () => client.workflow.start('waitForSignals', { workflowId: `rto-${i}`, taskQueue }));
        rtoMs = Date.now() - killedAtMs;
        await client.workflow.getHandle(`rto-${i}`).signal('done');
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    // The load carries on a little in b, then stops.
    await new Promise((r) => setTimeout(r, 3_000));
    load.stop();
    await running;
    assert.equal((await routeOf(NAMESPACE))?.region, b, 'the route points at b');
    const auditB = await auditOf(b);
    const forced = auditB.find((e) => e.mode === 'forced' && e.outcome === 'completed');
    if (!forced) assert.fail(`no forced failover audited in b: ${auditB.map((e) => `${e.mode}/${e.outcome} ${e.fromRegion}->${e.toRegion} by ${e.identity}: ${e.message}`).join('; ')}`);
    assert.match(forced.identity, /controller/);
    const lagMs = Math.round(Number(forced.lagSeconds ?? 0) * 1000);

    const lostStarts: LoadedRun[] = [];
    let lostSignals = 0;
    const windowStartMs = killedAtMs - lagMs - 1_000;
    for (const run of load.runs.values()) {
      const events = await pair.historyIn(b, NAMESPACE, run);
      if (events.length === 0) {
        lostStarts.push(run);
        assert.ok(run.startedAckMs >= windowStartMs, `${run.workflowId} acknowledged ${killedAtMs - run.startedAckMs} ms before the kill, outside the measured lag of ${lagMs} ms`);
        continue;
      }
      const signaled = addsIn(events);
      for (const atMs of run.addAcksMs.slice(signaled)) {
        lostSignals++;
        assert.ok(atMs >= windowStartMs, `${run.workflowId}: a signal acknowledged ${killedAtMs - atMs} ms before the kill, outside the measured lag`);
      }
    }
    console.log(
      `kill-region ${a}: RTO ${rtoMs} ms; forced failover RPO (lag at the switch) ${lagMs} ms, ${Number(forced.lagTasks ?? 0)} tasks; ` +
        `acknowledged ${load.runs.size} starts, lost ${lostStarts.length} starts and ${lostSignals} signals`,
    );

    // Synchronous replication: every start and signal acknowledged before the kill is in b.
    await eventually(`${SYNC_NAMESPACE} active in ${b}`, async () => ((await activeIn(b, SYNC_NAMESPACE)) === b ? true : undefined), 60_000);
    let syncLost = 0;
    for (const run of syncLoad.runs.values()) {
      const events = await pair.historyIn(b, SYNC_NAMESPACE, run);
      if (events.length === 0 || addsIn(events) < run.addAcksMs.length) syncLost++;
    }
    console.log(`sync namespace: acknowledged ${syncLoad.runs.size} starts before the kill; runs missing or short of acknowledged signals in ${b}: ${syncLost}`);
    assert.equal(syncLost, 0, 'a sync namespace loses nothing acknowledged');

    // Every run b holds completes in b, with the worker that never changed its address.
    const inB = [...load.runs.values()].filter((r) => !lostStarts.includes(r));
    outageRuns = inB;
    for (const run of inB) {
      const handle = client.workflow.getHandle(run.workflowId, run.runId);
      await handle.signal('done');
      const result = await handle.result();
      await pair.assertCompletedOnce(b, NAMESPACE, run);
      // a is still down: what b got of the run's signals, each counted once.
      const adds = addsIn(await pair.historyIn(b, NAMESPACE, run));
      assert.equal(result, adds, `${run.workflowId}: each of the ${adds} signals b holds counted once`);
    }
  });

  test('tandem chaos revive-region a: a converges, and the controller fails the namespace back home with nothing lost', async () => {
    await ownCassandra.revive();
    const revived = await withTopology('chaos', 'revive-region', a);
    assert.equal(revived.code, 0, revived.stderr);
    for (const namespace of [NAMESPACE, SYNC_NAMESPACE]) {
      await eventually(`${namespace} back in ${a}`, async () => ((await activeIn(a, namespace)) === a && (await activeIn(b, namespace)) === a ? true : undefined), 180_000);
    }
    // a holds what b wrote while it was gone.
    await pair.converged(b, a, NAMESPACE, outageRuns, 60_000);
    // The sync namespace's runs go on at home: none lost, every acknowledged signal counted once.
    await syncLoad.finishAll();
    await eventually('the route back at a', async () => ((await routeOf(NAMESPACE))?.region === a ? true : undefined), 30_000);
    const failback = (await auditOf(b)).find((e) => e.mode === 'graceful' && e.toRegion === a && e.outcome === 'completed');
    assert.ok(failback ?? (await auditOf(a)).find((e) => e.mode === 'graceful' && e.toRegion === a), 'a graceful failback audited');
    // Home again: new work runs in a, and a holds it as b does.
    const load = new SdkLoad(client);
    await load.run({ taskQueue, prefix: 'home', durationMs: 5_000, maxStarts: 10 });
    await load.finishAll();
    await Promise.all([...load.runs.values()].map((run) => pair.assertCompletedOnce(a, NAMESPACE, run)));
    await pair.converged(a, b, NAMESPACE, load.runs.values(), 30_000);
  });

  test(`${DRILLS} drills in a row under load: all graceful, none lost or duplicated`, async () => {
    const load = new SdkLoad(client);
    const running = load.run({ taskQueue, prefix: 'drills', durationMs: 600_000, maxStarts: 400, addsPerStart: 1 });
    const durations: number[] = [];
    try {
      for (let i = 0; i < DRILLS; i++) {
        const r = await withTopology('drill', a, '--and-back', '--canaries', '2');
        assert.equal(r.code, 0, `drill ${i + 1}: ${r.stdout}${r.stderr}`);
        const report = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { namespace: string; steps: { mode: string; ok: boolean; durationMs: number }[]; canaries: { lost: number; duplicated: number } });
        assert.deepEqual(report.map((x) => x.namespace).sort(), [NAMESPACE, SYNC_NAMESPACE].sort(), `drill ${i + 1} moved both namespaces`);
        for (const ns of report) {
          assert.ok(ns.steps.length === 2 && ns.steps.every((s) => s.ok && s.mode === 'graceful'), `drill ${i + 1}: ${JSON.stringify(ns)}`);
          assert.deepEqual([ns.canaries.lost, ns.canaries.duplicated], [0, 0]);
        }
        durations.push(...report.find((x) => x.namespace === NAMESPACE)!.steps.map((s) => s.durationMs));
      }
    } finally {
      load.stop();
      await running;
    }
    const sorted = [...durations].sort((x, y) => x - y);
    console.log(`${DRILLS} drills (a -> b -> a) under load, ${load.runs.size} runs: failover durations ms ${durations.join(' ')}; p50 ${sorted[Math.floor(sorted.length / 2)]}, max ${sorted.at(-1)}`);
    await load.finishAll();
    await Promise.all([...load.runs.values()].map((run) => pair.assertCompletedOnce(a, NAMESPACE, run)));
  });
});
