// A topology's route registry (the global Redis), for `tandem up` and `tandem routes`, and the
// first routes `tandem up` writes (DESIGN invariant 9; the failover controller re-points them):
// one per namespace the regions hold, to the region where it is active (a global namespace's
// activeRegion; a local one's own region, the first region in topology order when several hold
// one of that name, like `default`), epoch = the namespace's failover version (a failover writes
// above the stored epoch, so its route always wins); plus `_default` to the first region for
// calls without a namespace. Namespaces registered later have no route of their own: the router
// sends them by `_default`, and that region's frontend forwards what is active elsewhere
// (invariant 8).
import { silentLogger } from '../../services/common/logger.js';
import { openCassandraPersistence } from '../../services/persistence/cassandra/index.js';
import { RedisRouteRegistry } from '../../services/routes/redis.js';
import { byNamespace, DEFAULT_ROUTE, RouteError, type RouteRecord, type RouteRegistry } from '../../services/routes/route.js';
import { frontendDialAddress, redisUrl, type Topology } from '../topology.js';

export type { RouteRecord };

/** How long a router may use a seeded route before reading it again. */
export const SEED_TTL_MS = 5_000;

/** The routes the regions' namespace tables call for, sorted by namespace. */
export async function routesFromNamespaces(t: Topology): Promise<RouteRecord[]> {
  const byName = new Map<string, RouteRecord>();
  const first = t.regions[0]!;
  byName.set(DEFAULT_ROUTE, { namespace: DEFAULT_ROUTE, region: first.name, endpoint: frontendDialAddress(first), epoch: 1, ttlMs: SEED_TTL_MS });
  for (const r of t.regions) {
    const c = r.cassandra;
    const store = await openCassandraPersistence({ contactPoints: c.contactPoints, localDataCenter: c.dataCenter, keyspace: c.keyspace });
    try {
      for (const ns of await store.namespaces.listNamespaces()) {
        if (ns.state === 'deleted' || byName.has(ns.name)) continue;
        const active = ns.isGlobal ? t.regions.find((x) => x.name === ns.activeRegion) : r;
        if (!active) continue;
        byName.set(ns.name, { namespace: ns.name, region: active.name, endpoint: frontendDialAddress(active), epoch: Number(ns.failoverVersion), ttlMs: SEED_TTL_MS });
      }
    } finally {
      await store.close();
    }
  }
  return [...byName.values()].sort(byNamespace);
}

/** Writes the routes no one has written yet; a stored route at the same or a higher epoch is left alone. Returns those written. */
export async function seedRoutes(t: Topology, routes: RouteRegistry): Promise<RouteRecord[]> {
  const written: RouteRecord[] = [];
  for (const record of await routesFromNamespaces(t)) {
    try {
      await routes.put(record);
      written.push(record);
    } catch (err) {
      if (!(err instanceof RouteError && err.code === 'STALE_EPOCH')) throw err;
    }
  }
  return written;
}

/** Runs fn with the topology's route registry, started; a Redis that does not answer makes its calls fail fast. */
export async function withGlobalRoutes<T>(t: Topology, fn: (routes: RouteRegistry) => Promise<T>): Promise<T> {
  const routes = new RedisRouteRegistry({ redisUrl: redisUrl(t.global.redis), keyPrefix: t.global.keyPrefix, connectWaitMs: 2000 }, silentLogger());
  await routes.start();
  try {
    return await fn(routes);
  } finally {
    await routes.stop();
  }
}
