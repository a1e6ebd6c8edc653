// A router's view of the route registry: records kept for their TTL, refreshed at once by the
// registry's change notifications, re-read on demand (fresh) after a failure. Epochs only grow here
// too: a read that returns a lower epoch than the one held (a lagging read) is ignored. While the
// registry is unreachable the last records are served past their TTL: a control-plane outage
// must not stop traffic whose routes have not changed.
import type { Logger } from '../common/logger.js';
import { DEFAULT_ROUTE, defaultRoute, type RouteRecord, type RouteRegistry } from '../routes/route.js';

interface Entry {
  record?: RouteRecord;
  expiresAt: number;
}

/** Misses are cached too; beyond this many entries the expired ones are dropped. */
const PRUNE_ABOVE = 10_000;

export class RouteCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<RouteRecord | undefined>>();
  private readonly listeners = new Set<(record: RouteRecord) => void>();
  private unwatch?: () => void;
  private registryDownSince?: number;

  constructor(
    private readonly registry: RouteRegistry,
    private readonly missTtlMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unwatch ??= this.registry.watch((record) => this.heard(record));
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /**
   * The route of a namespace ('' = none), else the default route; undefined when the registry
   * has none. `fresh` bypasses the TTL (after UNAVAILABLE or NamespaceNotActive). Throws only when
   * the registry cannot be read and nothing is held.
   */
  async route(namespace: string, fresh = false): Promise<RouteRecord | undefined> {
    if (namespace !== '' && namespace !== DEFAULT_ROUTE) {
      const own = await this.lookup(namespace, fresh, () => this.registry.get(namespace));
      if (own) return own;
    }
    return this.lookup(DEFAULT_ROUTE, fresh, () => defaultRoute(this.registry));
  }

  /** Called with every route change heard from the registry. Returns an unsubscribe. */
  onChange(listener: (record: RouteRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves at the next route change, after ms, or when the signal aborts. */
  changed(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      const unsubscribe = this.onChange(done);
      if (signal.aborted) done();
      else signal.addEventListener('abort', done, { once: true });
    });
  }

  private lookup(key: string, fresh: boolean, load: () => Promise<RouteRecord | undefined>): Promise<RouteRecord | undefined> {
    const held = this.entries.get(key);
    if (!fresh && held && held.expiresAt > Date.now()) return Promise.resolve(held.record);
    // Concurrent lookups of one key share one read: a region's death fails many calls at once.
    let pending = this.loading.get(key);
    if (!pending) {
      pending = load()
        .then(
          (record) => {
            this.registryUp();
            return this.keep(key, record);
          },
          (err: unknown) => {
            this.registryDown(err);
            const last = this.entries.get(key);
            if (!last) throw err;
            return last.record;
          },
        )
        .finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  /** Stores what was read unless a higher epoch of the same namespace is already held; returns what is held. */
  private keep(key: string, record: RouteRecord | undefined): RouteRecord | undefined {
    const held = this.entries.get(key)?.record;
    const kept = held && record && held.namespace === record.namespace && held.epoch > record.epoch ? held : record;
    if (this.entries.size > PRUNE_ABOVE) this.prune();
    this.entries.set(key, { record: kept, expiresAt: Date.now() + (kept ? kept.ttlMs : this.missTtlMs) });
    return kept;
  }

  private heard(record: RouteRecord): void {
    this.keep(record.namespace, record);
    // The default route may be derived from any record (the first one): read it again when asked.
    if (record.namespace !== DEFAULT_ROUTE && this.entries.get(DEFAULT_ROUTE)?.record?.namespace !== DEFAULT_ROUTE) {
      this.entries.delete(DEFAULT_ROUTE);
    }
    for (const l of [...this.listeners]) l(record);
  }

  private prune(): void {
    const now = Date.now();
    for (const [key, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(key);
  }

  private registryDown(err: unknown): void {
    if (this.registryDownSince !== undefined) return;
    this.registryDownSince = Date.now();
    this.log.warn({ err: (err as Error).message }, 'route registry unreachable; serving the routes last read');
  }

  private registryUp(): void {
    if (this.registryDownSince === undefined) return;
    this.log.info({ outageMs: Date.now() - this.registryDownSince }, 'route registry reachable again');
    this.registryDownSince = undefined;
  }
}
