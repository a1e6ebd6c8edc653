// Keeps each global namespace's route on its active region (DESIGN invariant 9): whenever a
// region's namespace registry holds a newer record (a failover, a handover starting or ending), the
// route is re-pointed with a higher epoch, `switching` while the namespace is in handover. The
// default route follows the default namespace. Several regions' registries may report the same
// change: a record older than the one already followed (the replication order) is ignored, and a
// route already saying the same thing is left alone, so the epoch moves once per change.
import type { Logger } from '../common/logger.js';
import type { Service } from '../common/lifecycle.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import { compareReplicationVersions, replicationVersion, type ReplicationVersion } from '../namespaces/replication-version.js';
import type { NamespaceRecord } from '../persistence/types.js';
import { DEFAULT_ROUTE, RouteError, type RouteRecord, type RouteRegistry } from '../routes/route.js';

export interface RouteFollowerConfig {
  /** host:port of each region's frontend, by region name. */
  endpoints: Record<string, string>;
  /** The namespace whose route calls without a namespace follow. */
  defaultNamespace: string;
  /** How long routers and resolvers may cache a route. */
  ttlMs: number;
}

export class RouteFollower implements Service {
  private readonly followed = new Map<string, ReplicationVersion>();
  private readonly unsubscribes: (() => void)[] = [];
  /** Writes in order: each decides from the route the previous one left. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly registries: NamespaceRegistry[],
    private readonly routes: RouteRegistry,
    private readonly config: RouteFollowerConfig,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    for (const registry of this.registries) {
      this.unsubscribes.push(registry.onChange((rec) => this.follow(rec)));
      for (const rec of (await registry.list(10_000)).namespaces) this.follow(rec);
    }
    await this.queue;
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribes.splice(0)) u();
    await this.queue;
  }

  /** Resolves once every change seen so far is reflected in the routes. */
  settled(): Promise<void> {
    return this.queue;
  }

  private follow(rec: NamespaceRecord): void {
    const version = replicationVersion(rec);
    const seen = this.followed.get(rec.id);
    if (seen && compareReplicationVersions(version, seen) < 0) return;
    this.followed.set(rec.id, version);
    this.queue = this.queue.then(() => this.point(rec)).catch((err: unknown) => this.log.warn({ err, namespace: rec.name }, 'route not updated'));
  }

  private async point(rec: NamespaceRecord): Promise<void> {
    const endpoint = this.config.endpoints[rec.activeRegion];
    if (!endpoint) return;
    const switching = rec.failoverState === 'handover';
    const names = rec.name === this.config.defaultNamespace ? [rec.name, DEFAULT_ROUTE] : [rec.name];
    for (const namespace of names) {
      if (await pointRoute(this.routes, { namespace, region: rec.activeRegion, endpoint, ttlMs: this.config.ttlMs, switching })) {
        this.log.info({ namespace, region: rec.activeRegion, switching }, 'route re-pointed');
      }
    }
  }
}

/**
 * Points one route at a region with the next epoch unless it says so already; true when it wrote.
 * Epochs only grow: a writer that lost the race decides again from what the winner wrote.
 */
export async function pointRoute(routes: RouteRegistry, want: Omit<RouteRecord, 'epoch'> & { switching: boolean }): Promise<boolean> {
  for (;;) {
    const current = await routes.get(want.namespace);
    if (current && current.region === want.region && current.endpoint === want.endpoint && Boolean(current.switching) === want.switching) return false;
    try {
      await routes.put({ ...want, epoch: (current?.epoch ?? 0) + 1 });
      return true;
    } catch (err) {
      if (!(err instanceof RouteError && err.code === 'STALE_EPOCH')) throw err;
    }
  }
}
