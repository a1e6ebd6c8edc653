// Topologies of separate processes on the test Cassandra and test Redis, with free ports: one
// region (the region tests, bench/region.ts) or several replicating to each other (a keyspace and
// a membership prefix each), started through `tandem up`'s launcher.
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
export function regionTopology(o: RegionTopologyOptions): Promise<Topology> {
  return regionsTopology({ ...o, regions: [{ name: o.region, historyNodes: o.historyNodes, cassandra: o.cassandra }] });
}

export interface RegionsTopologyOptions {
  /**
   * Each region's name (also its membership key prefix in the shared Redis, so unique per test
   * run), history node count and keyspace; initial failover versions 1, 2, ... in this order.
   * `visibility`: the region's visibility in that OpenSearch index (absent: in its keyspace).
   */
  regions: { name: string; historyNodes: number; cassandra: TestCassandra; visibility?: { url: string; index: string } }[];
  numShards: number;
  redis: string;
  membership?: { ttlMs: number; heartbeatMs: number; pollMs: number };
  /** A link (deploy/processes/link-proxy.ts) in each direction between every two regions. */
  links?: boolean;
  /** The routes' DNS face in the router process. */
  dns?: boolean;
}

/**
 * Regions as regionTopology makes one, each on its own keyspace, replicating to each other. The
 * global control plane keeps its keys in the shared Redis under the first region's name.
 */
export async function regionsTopology(o: RegionsTopologyOptions): Promise<Topology> {
  const port = distinctPorts();
  const node = async (id: string) => ({ id, host: '127.0.0.1', port: await port(), metricsPort: await port() });
  const [rHost, rPort] = o.redis.split(':');
  const regions = [];
  for (const [i, r] of o.regions.entries()) {
    const [cHost, cPort] = r.cassandra.contactPoint.split(':');
    const history = [];
    for (let n = 1; n <= r.historyNodes; n++) history.push(await node(`${r.name}-history-${n}`));
    regions.push({
      name: r.name,
      initialFailoverVersion: i + 1,
      cassandra: { managed: false, contactPoints: [r.cassandra.contactPoint], listen: cHost, cqlPort: Number(cPort), keyspace: r.cassandra.keyspace },
      ...(r.visibility ? { visibility: { store: 'opensearch', url: r.visibility.url, index: r.visibility.index, shards: 1, replicas: 0 } } : {}),
      redis: { managed: false, host: rHost, port: Number(rPort) },
      frontend: await node(`${r.name}-frontend`),
      matching: [await node(`${r.name}-matching-1`)],
      history,
    });
  }
  const links = [];
  for (const from of o.links ? o.regions : []) {
    for (const to of o.regions) if (from !== to) links.push({ from: from.name, to: to.name, port: await port(), controlPort: await port() });
  }
  return parseTopology({
    cluster: { numShards: o.numShards, failoverVersionIncrement: 10, ...(o.membership ? { membership: o.membership } : {}) },
    regions,
    global: {
      redis: { managed: false, host: rHost, port: Number(rPort) },
      keyPrefix: `tandem-${o.regions[0]!.name}`,
      endpoint: { port: await port(), metricsPort: await port() },
      ...(o.dns ? { dns: { port: await port() } } : {}),
      links,
      controllers: [
        { id: 'controller-1', domain: 'zone-1', metricsPort: await port(), opsPagePort: await port() },
        { id: 'controller-2', domain: 'zone-2', metricsPort: await port(), opsPagePort: await port() },
      ],
    },
  });
}
