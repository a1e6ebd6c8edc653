// Two regions in one process, each with its own SQLite store, namespace registry, frontend (on a
// free loopback port, serving the admin services) and namespace replicator reading the other.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { Connection } from '@temporalio/client';
import { freePort } from '../common/free-port.js';
import { silentLogger } from '../common/logger.js';
import { durationFromMs } from '../common/proto-time.js';
import { createRegistry } from '../common/metrics.js';
import type { HistoryApi } from '../history/api.js';
import type { MatchingApi } from '../matching/api.js';
import { FrontendService } from '../frontend/server.js';
import { recordingDouble } from '../frontend/test-helpers.js';
import { openSqlitePersistence, type SqlitePersistence } from '../persistence/sqlite/index.js';
import { FailoverServiceClient, type FailoverNamespaceResponse } from '../../proto/gen/tandem/admin/v1/failover.js';
import type { WaitForReplication } from './failover-coordinator.js';
import type { RegionConfig } from './failover.js';
import { NamespaceRegistry } from './registry.js';
import { globalNamespaceServices } from './region-services.js';
import type { NamespaceReplicator } from './replicator.js';
import { configVersionOf } from './replication-version.js';
import { registerVersion, withWorkerDeployments, workerDeployments } from './worker-deployments.js';

const SHARDS = 4;

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 3_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Region {
  name: string;
  store: SqlitePersistence;
  namespaces: NamespaceRegistry;
  frontend: FrontendService;
  replicator: NamespaceReplicator;
  connection: Connection;
  /** What the coordinator's replication wait does; tests swap it. */
  wait: { fn: WaitForReplication };
  stop(): Promise<void>;
}

async function startRegion(region: RegionConfig, regions: RegionConfig[]): Promise<Region> {
  const log = silentLogger();
  const store = await openSqlitePersistence({ path: ':memory:' });
  const namespaces = new NamespaceRegistry(store.namespaces, { region, regions, refreshIntervalMs: 200 }, log, store.clusterMetadata);
  await namespaces.start();
  const wait = { fn: (async () => {}) as WaitForReplication };
  const global = globalNamespaceServices({
    registry: namespaces,
    store,
    log,
    waitForReplication: (id, deadline) => wait.fn(id, deadline),
    replication: { pollIntervalMs: 50, retryBackoffMs: 50 },
    failover: { gracefulTimeoutMs: 300 },
  });
  const frontend = new FrontendService(
    { host: '127.0.0.1', port: Number(region.frontendAddress!.split(':')[1]), region: region.name, historyShardCount: SHARDS, shutdownGraceMs: 500 },
    {
      persistence: store,
      namespaces,
      history: recordingDouble<HistoryApi>([], {}),
      matching: recordingDouble<MatchingApi>([], {}),
      logger: log,
      registry: createRegistry(),
      failover: global.coordinator,
      extraServices: global.adminServices,
    },
  );
  await frontend.start();
  const replicator = global.replicator;
  await replicator.start();
  const connection = await Connection.connect({ address: frontend.address, interceptors: [] });
  return {
    name: region.name,
    store,
    namespaces,
    frontend,
    replicator,
    connection,
    wait,
    async stop() {
      await connection.close();
      await replicator.stop();
      await frontend.stop();
      await namespaces.stop();
      await store.close();
    },
  };
}

describe('global namespaces across two regions', () => {
  let a: Region;
  let b: Region;
  before(async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const regions: RegionConfig[] = [
      { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n, frontendAddress: `127.0.0.1:${pa}` },
      { name: 'b', initialFailoverVersion: 2n, failoverVersionIncrement: 10n, frontendAddress: `127.0.0.1:${pb}` },
    ];
    a = await startRegion(regions[0]!, regions);
    b = await startRegion(regions[1]!, regions);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  const describeIn = (r: Region, namespace: string) => r.connection.workflowService.describeNamespace({ namespace });
  const register = (r: Region, namespace: string, extra: object = {}) =>
    r.connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: durationFromMs(86_400_000),
      isGlobalNamespace: true,
      clusters: [{ clusterName: 'a' }, { clusterName: 'b' }],
      activeClusterName: 'a',
      ...extra,
    });
  /** Resolves once region r holds the namespace with the given active region and version. */
  const until = (r: Region, namespace: string, check: (d: Awaited<ReturnType<typeof describeIn>>) => boolean) =>
    eventually(`${namespace} in ${r.name}`, async () => {
      const d = await describeIn(r, namespace);
      return check(d) ? d : undefined;
    });

  test('a global namespace registered in a appears in b with the same id; a local one stays local', async () => {
    await register(a, 'orders', { description: 'v1' });
    const inA = await describeIn(a, 'orders');
    const inB = await until(b, 'orders', () => true);
    assert.equal(inB.namespaceInfo?.id, inA.namespaceInfo?.id);
    assert.equal(inB.replicationConfig?.activeClusterName, 'a');
    assert.equal(inB.isGlobalNamespace, true);
    assert.equal(Number(inB.failoverVersion), 1);

    await a.connection.workflowService.registerNamespace({ namespace: 'local-only', workflowExecutionRetentionPeriod: durationFromMs(86_400_000) });
    await b.replicator.syncOnce();
    assert.equal(await b.namespaces.getByName('local-only'), null);
  });

  test('register in a region outside the namespace clusters is refused clearly', async () => {
    const err = await register(b, 'elsewhere', { clusters: [{ clusterName: 'a' }] }).then(
      () => assert.fail('registered'),
      (e: grpc.ServiceError) => e,
    );
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /register it in one of its clusters \(a\); this is cluster b/);
  });

  test('an update sent to b (standby) is written in a (active) and reaches b', async () => {
    await until(b, 'orders', () => true);
    await b.connection.workflowService.updateNamespace({ namespace: 'orders', updateInfo: { description: 'v2' } });
    assert.equal((await describeIn(a, 'orders')).namespaceInfo?.description, 'v2', 'written in the active region');
    await until(b, 'orders', (d) => d.namespaceInfo?.description === 'v2');
  });

  test('worker deployments replicate with the namespace: routing set through b is written in a and reaches b', async () => {
    await a.namespaces.update('orders', (rec) => withWorkerDeployments(rec, (all) => registerVersion(all, 'demo', 'v1', { name: 'tq', type: 1 }, Date.now())));
    await b.connection.workflowService.setWorkerDeploymentCurrentVersion({ namespace: 'orders', deploymentName: 'demo', buildId: 'v1' });
    const current = (r: Region) =>
      r.connection.workflowService
        .describeWorkerDeployment({ namespace: 'orders', deploymentName: 'demo' })
        .then((d) => d.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId);
    assert.equal(await current(a), 'v1', 'written in the active region');
    // b's own record (its reads would be forwarded to a).
    await eventually('the routing in b', async () => {
      const rec = await b.namespaces.getByName('orders');
      return rec && workerDeployments(rec).demo?.currentBuildId === 'v1' ? rec : undefined;
    });
  });

  test('graceful failover a->b through UpdateNamespace sent to b, then back through a', async () => {
    await register(a, 'payments');
    await until(b, 'payments', () => true);
    await b.connection.workflowService.updateNamespace({ namespace: 'payments', replicationConfig: { activeClusterName: 'b' } });
    for (const r of [a, b]) {
      const d = await until(r, 'payments', (x) => x.replicationConfig?.activeClusterName === 'b');
      assert.equal(Number(d.failoverVersion), 2, `version in ${r.name}`);
      assert.equal(d.replicationConfig?.state, 1 /* NORMAL */);
    }
    // Back, the way `temporal operator namespace update --active-cluster a` sends it.
    await a.connection.workflowService.updateNamespace({ namespace: 'payments', replicationConfig: { activeClusterName: 'a' } });
    for (const r of [a, b]) {
      const d = await until(r, 'payments', (x) => x.replicationConfig?.activeClusterName === 'a');
      assert.equal(Number(d.failoverVersion), 11, `version in ${r.name}`);
    }
    // Each failover ran (and is audited) in the region that was active when it was asked.
    const audited = async (r: Region) =>
      (await r.store.clusterMetadata.listFailoverAudit('payments', 10)).map((e) => [e.fromRegion, e.toRegion, e.fromVersion, e.toVersion, e.mode, e.outcome]);
    assert.deepEqual(await audited(a), [['a', 'b', 1n, 2n, 'graceful', 'completed']]);
    assert.deepEqual(await audited(b), [['b', 'a', 2n, 11n, 'graceful', 'completed']]);
  });

  test('a graceful failover whose replication wait runs out aborts back to NORMAL in a', async () => {
    await register(a, 'slow');
    await until(b, 'slow', () => true);
    a.wait.fn = () => new Promise(() => {});
    try {
      const err = await a.connection.workflowService
        .updateNamespace({ namespace: 'slow', replicationConfig: { activeClusterName: 'b' } })
        .then(() => assert.fail('failed over'), (e: grpc.ServiceError) => e);
      assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
      assert.match(err.details, /Graceful failover of namespace slow to b aborted: .*active in a again \(NORMAL\)/);
    } finally {
      a.wait.fn = async () => {};
    }
    const d = await describeIn(a, 'slow');
    assert.equal(d.replicationConfig?.activeClusterName, 'a');
    assert.equal(d.replicationConfig?.state, 1 /* NORMAL */);
    assert.equal(Number(d.failoverVersion), 1);
    const [last] = await a.store.clusterMetadata.listFailoverAudit('slow', 1);
    assert.equal(last?.outcome, 'aborted');
  });

  test('a forced failover (tandem.admin.v1) switches at once in the region asked, and reaches the other', async () => {
    await register(a, 'forced');
    await until(b, 'forced', () => true);
    const client = new FailoverServiceClient(b.frontend.address, grpc.credentials.createInsecure());
    try {
      const res = await new Promise<FailoverNamespaceResponse>((resolve, reject) =>
        client.failoverNamespace({ namespace: 'forced', targetRegion: 'b', force: true, timeoutMs: 0n, identity: 'test' }, (err, r) => (err ? reject(err) : resolve(r))),
      );
      assert.deepEqual([res.fromRegion, res.toRegion, res.fromVersion, res.toVersion, res.mode], ['a', 'b', 1n, 2n, 'forced']);
    } finally {
      client.close();
    }
    await until(a, 'forced', (d) => d.replicationConfig?.activeClusterName === 'b' && Number(d.failoverVersion) === 2);
  });

  test('tandem failover: graceful through either region, forced in the region asked', async () => {
    await register(a, 'cli');
    await until(b, 'cli', () => true);
    const tandem = async (...argv: string[]) => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/tandem.ts', 'failover', 'cli', ...argv]);
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const graceful = await tandem('--to', 'b', '--address', b.frontend.address);
    assert.deepEqual([graceful.fromRegion, graceful.toRegion, graceful.fromVersion, graceful.toVersion, graceful.mode], ['a', 'b', '1', '2', 'graceful']);
    await until(b, 'cli', (d) => d.replicationConfig?.activeClusterName === 'b');
    const forced = await tandem('--to', 'a', '--force', '--address', a.frontend.address);
    assert.deepEqual([forced.fromRegion, forced.toRegion, forced.toVersion, forced.mode], ['b', 'a', '11', 'forced']);
    await until(b, 'cli', (d) => d.replicationConfig?.activeClusterName === 'a' && Number(d.failoverVersion) === 11);
  });

  test('a stale record (lower version) is never applied', async () => {
    await register(a, 'stale');
    const fresh = await until(b, 'stale', () => true);
    const current = (await b.namespaces.getByName('stale'))!;
    const { notificationVersion: _, ...older } = { ...current, description: 'old', failoverVersion: 0n };
    assert.equal(await b.namespaces.applyReplicated(older), 'stale');
    const sameVersion = { ...older, failoverVersion: current.failoverVersion };
    assert.equal(await b.namespaces.applyReplicated(sameVersion), 'stale', 'same (failoverVersion, configVersion) is not newer');
    assert.equal((await describeIn(b, 'stale')).namespaceInfo?.description, fresh.namespaceInfo?.description);
    assert.equal(configVersionOf(current), 1n);
  });

  test('GetClusterInfo and ListClusters answer truthfully', async () => {
    const info = await a.connection.workflowService.getClusterInfo({});
    assert.equal(info.clusterName, 'a');
    assert.equal(info.historyShardCount, SHARDS);
    assert.equal(Number(info.initialFailoverVersion), 1);
    assert.equal(Number(info.failoverVersionIncrement), 10);
    assert.ok(info.versionInfo?.current?.version);
    const list = await b.connection.operatorService.listClusters({});
    assert.deepEqual(
      list.clusters?.map((c) => [c.clusterName, c.address, Number(c.initialFailoverVersion), c.historyShardCount, c.isConnectionEnabled]),
      [
        ['a', a.frontend.address, 1, SHARDS, true],
        ['b', b.frontend.address, 2, SHARDS, true],
      ],
    );
  });

  test('AddOrUpdateRemoteCluster reads the remote frontend, checks it, stores it; RemoveRemoteCluster forgets it', async () => {
    const port = await freePort();
    const c = await startRegion({ name: 'c', initialFailoverVersion: 3n, failoverVersionIncrement: 10n, frontendAddress: `127.0.0.1:${port}` }, []);
    try {
      const op = a.connection.operatorService;
      await op.addOrUpdateRemoteCluster({ frontendAddress: c.frontend.address, enableRemoteClusterConnection: true });
      const listed = (await op.listClusters({})).clusters?.find((x) => x.clusterName === 'c');
      assert.equal(listed?.address, c.frontend.address);
      assert.equal(Number(listed?.initialFailoverVersion), 3);
      assert.deepEqual((await a.store.clusterMetadata.listRemoteClusters()).map((r) => r.name), ['c']);
      const refused = await op.addOrUpdateRemoteCluster({ frontendAddress: b.frontend.address.replace(/:\d+$/, ':1') }).then(
        () => assert.fail('added an unreachable cluster'),
        (e: grpc.ServiceError) => e,
      );
      assert.equal(refused.code, grpc.status.FAILED_PRECONDITION);
      await op.removeRemoteCluster({ clusterName: 'c' });
      assert.equal((await op.listClusters({})).clusters?.some((x) => x.clusterName === 'c'), false);
      const topology = await op.removeRemoteCluster({ clusterName: 'b' }).then(() => assert.fail('removed b'), (e: grpc.ServiceError) => e);
      assert.match(topology.details, /comes from the topology/);
    } finally {
      await c.stop();
    }
  });
});
