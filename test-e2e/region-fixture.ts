// A one-region topology of separate processes on the test Cassandra and test Redis, with free
// ports: what the region tests and bench/region.ts start through `tandem up`'s launcher.
import { randomUUID } from 'node:crypto';
import type { TestCassandra } from '../deploy/cassandra/test-instance.js';
import { parseTopology, type Topology } from '../deploy/topology.js';
import type { Member } from '../services/membership/membership.js';
import { shardOwner } from '../services/membership/rendezvous.js';
import { freePort } from './harness.js';

/** freePort() may hand out a port it just gave (the OS reuses a closed one); a topology needs them distinct. */
export function distinctPorts(): () => Promise<number> {
  const taken = new Set<number>();
  return async () => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
}

/**
 * A region name whose history ids each win at least `minShardsEach` shards under rendezvous
 * hashing, so tests about "each node owns some" and benchmarks comparing node counts are not at
 * the mercy of an unlucky split. Returns the name and each node's expected shard count.
 */
export function balancedRegionName(prefix: string, historyNodes: number, numShards: number, minShardsEach: number): { region: string; expected: Map<string, number> } {
  for (;;) {
    const region = `${prefix}${randomUUID().slice(0, 6)}`;
    const members = Array.from({ length: historyNodes }, (_, i) => ({ id: `${region}-history-${i + 1}` }) as Member);
    const expected = new Map(members.map((m) => [m.id, 0]));
    for (let s = 0; s < numShards; s++) {
      const id = shardOwner(s, members)!.id;
      expected.set(id, expected.get(id)! + 1);
    }
    if ([...expected.values()].every((n) => n >= minShardsEach)) return { region, expected };
  }
}

export interface RegionTopologyOptions {
  region: string;
  historyNodes: number;
  numShards: number;
  cassandra: TestCassandra;
  /** host:port of the membership Redis. */
  redis: string;
  membership?: { ttlMs: number; heartbeatMs: number; pollMs: number };
}

/** Frontend, one matching node and `historyNodes` history nodes on 127.0.0.1, external stores. */
export async function regionTopology(o: RegionTopologyOptions): Promise<Topology> {
  const port = distinctPorts();
  const node = async (id: string) => ({ id, host: '127.0.0.1', port: await port(), metricsPort: await port() });
  const [cHost, cPort] = o.cassandra.contactPoint.split(':');
  const [rHost, rPort] = o.redis.split(':');
  const history = [];
  for (let i = 1; i <= o.historyNodes; i++) history.push(await node(`${o.region}-history-${i}`));
  return parseTopology({
    cluster: { numShards: o.numShards, failoverVersionIncrement: 10, ...(o.membership ? { membership: o.membership } : {}) },
    regions: [
      {
        name: o.region,
        initialFailoverVersion: 1,
        cassandra: { managed: false, contactPoints: [o.cassandra.contactPoint], listen: cHost, cqlPort: Number(cPort), keyspace: o.cassandra.keyspace },
        redis: { managed: false, host: rHost, port: Number(rPort) },
        frontend: await node(`${o.region}-frontend`),
        matching: [await node(`${o.region}-matching-1`)],
        history,
      },
    ],
    global: { redis: { managed: false, port: await port() }, endpoint: { port: await port() } },
  });
}
