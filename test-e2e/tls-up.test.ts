// Issue 13, TLS and API keys, as `tandem up` runs them: two regions of separate processes (one
// history node each) on the test Cassandra and Redis, a link each way, the router, the controller;
// every tls section filled and its certificates issued as `tandem certs dev` does, and auth on
// (global.auth: the admin key file tandem up writes). The official client through the global
// endpoint over TLS with the admin key, a global namespace and a workflow replicated to b over
// mutual TLS through the links, a certificate from another CA refused, calls without a key
// refused, a key made in a used in b, re-issued certificates picked up by the running processes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { Client, Connection } from '@temporalio/client';
import { ensureTestCassandra, dropTestKeyspace, type TestCassandra } from '../deploy/cassandra/test-instance.js';
import { writeDevCertificates } from '../deploy/dev-certs.js';
import { LocalCluster } from '../deploy/processes/local-cluster.js';
import { scrape } from '../deploy/processes/node-process.js';
import { parsePrometheusText, sumSamples } from '../deploy/processes/prom-text.js';
import { ensureTestRedis } from '../deploy/redis/test-instance.js';
import { regionClientTls, type Topology } from '../deploy/topology.js';
import { channelCredentials, sdkTls } from '../services/common/tls.js';
import { IdentityServiceClient, type CreateApiKeyResponse, type CreateUserResponse } from '../proto/gen/tandem/admin/v1/identity.js';
import { NO_FORWARD_HEADER } from '../services/frontend/forwarding.js';
import { NamespaceReplicationServiceClient } from '../proto/gen/tandem/admin/v1/namespace_replication.js';
import { eventually } from './harness.js';
import { regionsTopology } from './region-fixture.js';
import { rogueRegion, servedSerial } from './tls-fixture.js';

const REFRESH_MS = 500;

describe('tandem up with TLS: the router, two regions and the links between them', { timeout: 300_000 }, () => {
  const suffix = randomUUID().slice(0, 6);
  const [a, b] = [`ta${suffix}`, `tb${suffix}`];
  const keyspaces: TestCassandra[] = [];
  const connections: Connection[] = [];
  let topology: Topology;
  let dir: string;
  let cluster: LocalCluster;
  let ca: Buffer;
  let adminKey: string;

  const frontendOf = (name: string) => {
    const r = topology.regions.find((x) => x.name === name)!;
    return `127.0.0.1:${r.frontend.port}`;
  };
  const routerAddress = () => `127.0.0.1:${topology.global.endpoint.port}`;
  /** A connection with the admin key, or with `as.apiKey` (none when undefined). */
  const connect = async (address: string, as: { apiKey?: string } = { apiKey: adminKey }) => {
    const { apiKey } = as;
    const c = await Connection.connect({ address, tls: sdkTls(regionClientTls(topology.global.endpoint.tls)), apiKey });
    connections.push(c);
    return c;
  };

  before(async () => {
    const redis = await ensureTestRedis();
    keyspaces.push(await ensureTestCassandra(), await ensureTestCassandra());
    topology = await regionsTopology({
      regions: [
        { name: a, historyNodes: 1, cassandra: keyspaces[0]! },
        { name: b, historyNodes: 1, cassandra: keyspaces[1]! },
      ],
      numShards: 2,
      redis,
      membership: { ttlMs: 3000, heartbeatMs: 1000, pollMs: 300 },
      links: true,
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-tls-up-'));
    const certs = (f: string) => path.join(dir, 'certs', f);
    for (const r of topology.regions) {
      r.tls = {
        certFile: certs(`${r.name}/frontend.pem`),
        keyFile: certs(`${r.name}/frontend-key.pem`),
        caFile: certs('ca.pem'),
        clientCertFile: certs(`${r.name}/client.pem`),
        clientKeyFile: certs(`${r.name}/client-key.pem`),
        refreshMs: REFRESH_MS,
      };
    }
    topology.global.endpoint.tls = { certFile: certs('global/endpoint.pem'), keyFile: certs('global/endpoint-key.pem'), caFile: certs('ca.pem'), refreshMs: REFRESH_MS };
    topology.global.auth = { adminKeyFile: path.join(dir, 'keys', 'admin.key') };
    writeDevCertificates(topology);
    ca = fs.readFileSync(certs('ca.pem'));
    const topologyFile = path.join(dir, 'topology.json');
    fs.writeFileSync(topologyFile, JSON.stringify(topology, null, 2));
    const logFile = process.env.TANDEM_E2E_LOG ?? path.join(dir, 'processes.log');
    const write = (line: string) => fs.appendFileSync(logFile, `${line}\n`);
    cluster = new LocalCluster({ topologyFile, topology, global: true, log: (m) => write(`[up] ${m}`), onLine: (id, l) => write(`[${id}] ${l}`) });
    await cluster.start();
    adminKey = fs.readFileSync(topology.global.auth.adminKeyFile, 'utf8').trim();
  });

  after(async () => {
    for (const c of connections) await c.close();
    await cluster?.stop();
    if (cluster) fs.rmSync(cluster.runState.dir, { recursive: true, force: true });
    for (const k of keyspaces) await dropTestKeyspace(k);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a global namespace and a workflow started through the TLS global endpoint reach b over mutual TLS', async () => {
    const router = await connect(routerAddress());
    const namespace = `tls-${suffix}`;
    await router.workflowService.registerNamespace({
      namespace,
      isGlobalNamespace: true,
      clusters: [{ clusterName: a }, { clusterName: b }],
      activeClusterName: a,
      workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86_400) },
    });
    const inB = await connect(frontendOf(b));
    const local = <T>(fn: () => Promise<T>) => inB.withMetadata({ [NO_FORWARD_HEADER]: 'false' }, fn);
    await eventually(`namespace ${namespace} in ${b}`, () => local(() => inB.workflowService.describeNamespace({ namespace })), 60_000);
    const handle = await new Client({ connection: router, namespace }).workflow.start('waitForSignals', { workflowId: `tls-up-${suffix}`, taskQueue: 'tls-up' });
    const execution = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    await eventually(
      `the run in ${b}`,
      async () => ((await local(() => inB.workflowService.getWorkflowExecutionHistory({ namespace, execution }))).history?.events?.length ? true : undefined),
      60_000,
    );
  });

  test("the failover controller's observers find both regions healthy over TLS", async () => {
    const controller = cluster.node(topology.global.controllers[0]!.id);
    for (const region of [a, b]) {
      await eventually(
        `a healthy probe of ${region}`,
        async () => {
          const text = await scrape(controller.metricsUrl);
          return text && sumSamples(parsePrometheusText(text), 'tandem_controller_probes_total', { region, outcome: 'healthy' }) > 0 ? true : undefined;
        },
        60_000,
      );
    }
  });

  test("a certificate from another CA is refused by a's frontend process", async () => {
    const client = new NamespaceReplicationServiceClient(frontendOf(a), channelCredentials(rogueRegion(dir, topology.regions[1]!.tls!.caFile)));
    try {
      const code = await new Promise<grpc.status>((resolve) => client.readNamespaceReplication({ afterSequence: 0n, maxEntries: 1, readerRegion: b }, (err) => resolve(err ? err.code : grpc.status.OK)));
      assert.equal(code, grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });

  test('auth is on: the admin key file is private, calls without a key are refused, a key made in a works in b', async () => {
    assert.equal(fs.statSync(topology.global.auth!.adminKeyFile).mode & 0o777, 0o600);
    for (const address of [routerAddress(), frontendOf(a), frontendOf(b)]) {
      // The client's connect makes a first call: without a key it is refused.
      await assert.rejects(connect(address, {}), (err: { code?: number; cause?: { code?: number } }) => (err.code ?? err.cause?.code) === grpc.status.UNAUTHENTICATED);
    }
    const identities = new IdentityServiceClient(frontendOf(a), channelCredentials(regionClientTls(topology.global.endpoint.tls)));
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${adminKey}`);
    const call = <Res>(fn: (cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown) =>
      new Promise<Res>((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
    try {
      await call<CreateUserResponse>((cb) => identities.createUser({ user: { name: `reader-${suffix}`, role: 'read-only', namespacePermissions: {}, serviceAccount: false, createdAtMs: 0n } }, metadata, cb));
      const created = await call<CreateApiKeyResponse>((cb) => identities.createApiKey({ owner: `reader-${suffix}`, description: 'tls-up', ttlMs: 0n }, metadata, cb));
      // The client's connect is refused until the key has replicated to b.
      const inB = await eventually(`the key made in ${a} accepted in ${b}`, () => connect(frontendOf(b), { apiKey: created.secret }).catch(() => undefined), 30_000);
      await assert.rejects(
        new Client({ connection: inB, namespace: 'default' }).workflow.start('waitForSignals', { workflowId: `tls-up-ro-${suffix}`, taskQueue: 'tls-up' }),
        (err: { code?: number; cause?: { code?: number } }) => (err.code ?? err.cause?.code) === grpc.status.PERMISSION_DENIED,
      );
    } finally {
      identities.close();
    }
  });

  test('re-issued certificates are served by the running router and frontends', async () => {
    const endpoints = [routerAddress(), frontendOf(a), frontendOf(b)];
    const served = await Promise.all(endpoints.map((e) => servedSerial(e, ca)));
    writeDevCertificates(topology);
    for (const [i, address] of endpoints.entries()) {
      await eventually(`${address} serves its re-issued certificate`, async () => ((await servedSerial(address, ca)) !== served[i] ? true : undefined), 20_000);
    }
    const after = await connect(routerAddress());
    await after.workflowService.getSystemInfo({});
  });
});
