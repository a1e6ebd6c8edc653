// The frontend's replication stream proxy against two stub history nodes (InternalGrpcServers whose
// StreamShard answers each request with the node's number): a stream reaches the shard's owner, it
// ends with UNAVAILABLE when the owner leaves the membership or its server stops, and a reconnect
// reaches the new owner.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { bindInsecure } from '../services/common/grpc-server.js';
import { silentLogger } from '../services/common/logger.js';
import { createRegistry } from '../services/common/metrics.js';
import { InMemoryCluster, InMemoryMembership } from '../services/membership/in-memory.js';
import type { Member } from '../services/membership/membership.js';
import { shardOwner } from '../services/membership/rendezvous.js';
import { InternalGrpcServer } from '../services/rpc/server.js';
import { ReplicationServiceClient, ReplicationServiceService, type StreamShardResponse } from '../proto/gen/tandem/replication/v1/replication.js';
import { StreamShardProxy } from './stream-proxy.js';

const NUM_SHARDS = 8;

describe('replication stream proxy', () => {
  const cluster = new InMemoryCluster();
  const log = silentLogger();
  const nodes = new Map<string, InternalGrpcServer<typeof ReplicationServiceService>>();
  let proxy: StreamShardProxy;
  let server: grpc.Server;
  let client: InstanceType<typeof ReplicationServiceClient>;

  /** A stub history node: every request it gets is answered with a batch whose highTaskId is `n`. */
  async function startNode(id: string, n: number): Promise<Member> {
    const node = new InternalGrpcServer(
      'tandem.replication.v1.ReplicationService',
      ReplicationServiceService,
      { streamShard: (call) => call.on('data', () => call.write({ tasks: [], highTaskId: BigInt(n), sentTimeMs: 0n, endOfQueue: false })) },
      { host: '127.0.0.1', port: 0, drainTimeoutMs: 1000 },
      log,
      createRegistry(),
    );
    await node.start();
    nodes.set(id, node);
    const member: Member = { id, role: 'history', address: node.address, startedAtMs: Date.now() };
    cluster.join(member);
    return member;
  }

  before(async () => {
    const membership = new InMemoryMembership(cluster, { id: 'frontend', role: 'frontend', address: 'in-process', startedAtMs: Date.now() });
    await membership.start();
    proxy = new StreamShardProxy({ membership, numShards: NUM_SHARDS, logger: log });
    await proxy.start();
    server = new grpc.Server();
    server.addService(proxy.extraService.definition, proxy.extraService.implementation);
    const port = await bindInsecure(server, '127.0.0.1', 0);
    client = new ReplicationServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await proxy?.stop();
    server?.forceShutdown();
    for (const n of nodes.values()) await n.stop();
  });

  /** Opens a stream for the shard and resolves with its first answer. */
  function open(shardId: number) {
    const call = client.streamShard();
    const ended = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    const first = new Promise<StreamShardResponse>((resolve) => call.once('data', resolve));
    call.write({ start: { shardId, region: 'b' } });
    return { call, first, ended };
  }

  test('a stream reaches the owner, ends UNAVAILABLE when the owner leaves, and reconnects to the new owner', async () => {
    const h1 = await startNode('h1', 1);
    const h2 = await startNode('h2', 2);
    const shardId = Array.from({ length: NUM_SHARDS }, (_, s) => s).find((s) => shardOwner(s, [h1, h2])!.id === 'h1')!;

    const s = open(shardId);
    assert.equal((await s.first).highTaskId, 1n, 'answered by h1, the owner');
    s.call.write({ ack: { ackTaskId: 5n } });
    assert.equal((await new Promise<StreamShardResponse>((r) => s.call.once('data', r))).highTaskId, 1n, 'later messages go the same way');

    cluster.leave('h1');
    const err = await s.ended;
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.match(err.details, new RegExp(`shard ${shardId} moved`));

    const again = open(shardId);
    assert.equal((await again.first).highTaskId, 2n, 'the reconnect reaches h2');
    // The owner's server stops: its open stream ends with UNAVAILABLE, relayed as it came.
    await nodes.get('h2')!.stop();
    assert.equal((await again.ended).code, grpc.status.UNAVAILABLE);
    cluster.leave('h2');
  });

  test('a first message that is not a start of a shard of the cluster is refused', async () => {
    const call = client.streamShard();
    const ended = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    call.write({ start: { shardId: NUM_SHARDS, region: 'b' } });
    assert.equal((await ended).code, grpc.status.INVALID_ARGUMENT);
  });

  test('no live history node: UNAVAILABLE, the receiver retries', async () => {
    const s = open(0);
    assert.equal((await s.ended).code, grpc.status.UNAVAILABLE);
  });
});
