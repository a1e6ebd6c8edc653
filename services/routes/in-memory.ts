// Routes inside one process: `make dev` (one process, every region in it) and tests.
import { byNamespace, staleEpoch, validRoute, type RouteRecord, type RouteRegistry } from './route.js';

export class InMemoryRouteRegistry implements RouteRegistry {
  private readonly records = new Map<string, RouteRecord>();
  private readonly listeners = new Set<(record: RouteRecord) => void>();

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.listeners.clear();
  }

  async get(namespace: string): Promise<RouteRecord | undefined> {
    const r = this.records.get(namespace);
    return r && { ...r };
  }

  async list(): Promise<RouteRecord[]> {
    return [...this.records.values()].map((r) => ({ ...r })).sort(byNamespace);
  }

  async put(record: RouteRecord): Promise<void> {
    const next = validRoute(record);
    const stored = this.records.get(next.namespace);
    if (stored && next.epoch <= stored.epoch) throw staleEpoch(next, stored.epoch);
    this.records.set(next.namespace, next);
    // Listeners hear it after put returns, as they would from Redis pub/sub.
    queueMicrotask(() => {
      for (const l of [...this.listeners]) l({ ...next });
    });
  }

  watch(listener: (record: RouteRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
