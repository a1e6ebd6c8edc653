// Issue 13, TLS: regions a and b in one process on SQLite (`tandem dev --tls`'s DevRegions) with
// the certificates `tandem certs dev` issues for deploy/local/two-regions-tls.json: the official
// client and worker over TLS through the global endpoint, replication over mutual TLS, a region
// with a certificate from another CA refused, and a re-issued certificate served without a restart.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { writeDevCertificates } from '../deploy/dev-certs.js';
import { DevRegions, devRegionsDefaults } from '../deploy/processes/dev-regions.js';
import { linkTls, parseTopology, type Topology } from '../deploy/topology.js';
import { createLogger } from '../services/common/logger.js';
import { channelCredentials, sdkTls } from '../services/common/tls.js';
import { NamespaceReplicationServiceClient } from '../proto/gen/tandem/admin/v1/namespace_replication.js';
import { ReplicationServiceClient, type StreamShardResponse } from '../proto/gen/tandem/replication/v1/replication.js';
import * as activities from './activities.js';
import { eventually, freePort, workflowBundle } from './harness.js';
import { rogueRegion, servedSerial } from './tls-fixture.js';

const NUM_SHARDS = 4;
const REFRESH_MS = 200;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-tls-'));
let topology: Topology;
let dev: DevRegions;
let caPem: Buffer;

/** deploy/local/two-regions-tls.json with its certificates under dir and a short refresh for the rotation. */
function tlsTopology(): Topology {
  const doc = JSON.parse(fs.readFileSync(path.resolve('deploy/local/two-regions-tls.json'), 'utf8'));
  for (const r of doc.regions) r.tls.refreshMs = REFRESH_MS;
  doc.global.endpoint.tls.refreshMs = REFRESH_MS;
  return parseTopology(doc, dir);
}

/** Whether region b's store holds a run of workflowId (replicated from a). */
async function inB(workflowId: string): Promise<true | undefined> {
  const store = dev.clusters[1]!.store!;
  for (let shard = 0; shard < NUM_SHARDS; shard++) {
    if ((await store.executions.listExecutions(shard, null, 10_000)).some((e) => e.key.workflowId === workflowId)) return true;
  }
  return undefined;
}

before(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  topology = tlsTopology();
  writeDevCertificates(topology);
  caPem = fs.readFileSync(topology.global.endpoint.tls!.caFile);
  const defaults = devRegionsDefaults({ kind: 'sqlite', dir });
  dev = new DevRegions(
    {
      ...defaults,
      devPort: await freePort(),
      opsPagePort: 0,
      numShards: NUM_SHARDS,
      endpointTls: topology.global.endpoint.tls,
      regions: await Promise.all(defaults.regions.map(async (r, i) => ({ ...r, port: await freePort(), metricsPort: 0, tls: topology.regions[i]!.tls }))),
    },
    createLogger({ level: 'warn' }),
  );
  await dev.start();
});

after(async () => {
  await dev?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('TLS between the SDK, the global endpoint and two regions', () => {
  test('the official client and worker run a workflow over TLS through the global endpoint; it replicates to b over mutual TLS', async () => {
    const tlsOptions = sdkTls({ caFile: topology.global.endpoint.tls!.caFile })!;
    const connection = await Connection.connect({ address: dev.address, tls: tlsOptions });
    const native = await NativeConnection.connect({ address: dev.address, tls: tlsOptions });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const taskQueue = 'tls';
      const worker = await Worker.create({
        connection: native,
        namespace: 'default',
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities,
      });
      const workflowId = `tls-${Date.now()}`;
      const result = await worker.runUntil(client.workflow.execute('greeter', { workflowId, taskQueue, args: ['tls'] }));
      assert.match(result, /tls/);
      await eventually('the run replicated to b', () => inB(workflowId));
    } finally {
      await native.close();
      await connection.close();
    }
  });

  test("the failover controller's observers find both regions healthy over TLS", async () => {
    const probes = async (region: string) => {
      const values = (await dev.controllerRegistry.getSingleMetric('tandem_controller_probes_total')?.get())?.values ?? [];
      return values.filter((v) => v.labels.region === region && v.labels.outcome === 'healthy').reduce((s, v) => s + v.value, 0);
    };
    for (const region of ['a', 'b']) await eventually(`a healthy probe of ${region}`, async () => ((await probes(region)) > 0 ? true : undefined));
  });

  test('plaintext to the TLS global endpoint is refused', async () => {
    const connection = Connection.lazy({ address: dev.address });
    try {
      await assert.rejects(connection.withDeadline(Date.now() + 3_000, () => connection.workflowService.getSystemInfo({})));
    } finally {
      await connection.close();
    }
  });

  test("a region presenting a certificate from another CA is refused by a's replication services", async () => {
    const rogue = rogueRegion(dir, topology.regions[1]!.tls!.caFile);
    const a = dev.clusters[0]!.address;
    const code = async (credentials: grpc.ChannelCredentials) => {
      const streams = new ReplicationServiceClient(a, credentials);
      const namespaces = new NamespaceReplicationServiceClient(a, credentials);
      try {
        const stream = streams.streamShard();
        stream.write({ start: { shardId: 0, region: 'b' } });
        const streamCode = await new Promise<grpc.status>((resolve) => {
          stream.on('data', (_: StreamShardResponse) => resolve(grpc.status.OK));
          stream.on('error', (err: grpc.ServiceError) => resolve(err.code));
        });
        stream.cancel();
        const readCode = await new Promise<grpc.status>((resolve) => namespaces.readNamespaceReplication({ afterSequence: 0n, maxEntries: 1, readerRegion: 'b' }, (err) => resolve(err ? err.code : grpc.status.OK)));
        return { streamCode, readCode };
      } finally {
        streams.close();
        namespaces.close();
      }
    };
    assert.deepEqual(await code(channelCredentials(rogue)), { streamCode: grpc.status.UNAUTHENTICATED, readCode: grpc.status.UNAUTHENTICATED });
    assert.deepEqual(await code(channelCredentials({ caFile: rogue.caFile })), { streamCode: grpc.status.UNAUTHENTICATED, readCode: grpc.status.UNAUTHENTICATED });
    // b's own client certificate is taken: the same calls pass.
    assert.deepEqual(await code(channelCredentials(linkTls(topology.regions[1]!.tls))), { streamCode: grpc.status.OK, readCode: grpc.status.OK });
  });

  test('re-issued certificates (tandem certs dev again) are served to new connections without a restart', async () => {
    const endpoints = [dev.address, ...dev.clusters.map((c) => c.address)];
    const before = await Promise.all(endpoints.map((e) => servedSerial(e, caPem)));
    writeDevCertificates(topology);
    for (const [i, address] of endpoints.entries()) {
      await eventually(`${address} serves its re-issued certificate`, async () => ((await servedSerial(address, caPem)) !== before[i] ? true : undefined), 10_000);
    }
    // New connections after the rotation: the client through the global endpoint, and a to b.
    const connection = await Connection.connect({ address: dev.address, tls: sdkTls({ caFile: topology.global.endpoint.tls!.caFile }) });
    try {
      const workflowId = `tls-rotated-${Date.now()}`;
      await new Client({ connection, namespace: 'default' }).workflow.start('waitForSignals', { workflowId, taskQueue: 'tls-rotated' });
      await eventually('the run started after the rotation replicated to b', () => inB(workflowId));
    } finally {
      await connection.close();
    }
  });
});
