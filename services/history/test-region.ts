// A region's history for tests: a real SQLite store, the namespace registry, matching and the
// history service with its own queues, in this process. Two of them make two regions.
import { silentLogger } from '../common/logger.js';
import { createRegistry } from '../common/metrics.js';
import { MatchingEngine } from '../matching/engine.js';
import type { RegionConfig } from '../namespaces/failover.js';
import { NamespaceRegistry } from '../namespaces/registry.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import type { Persistence } from '../persistence/store.js';
import type { HistoryConfig } from './config.js';
import { HistoryService } from './history-service.js';

export const regionA: RegionConfig = { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n };
export const regionB: RegionConfig = { name: 'b', initialFailoverVersion: 2n, failoverVersionIncrement: 10n };

export class TestRegion {
  private constructor(
    readonly store: Persistence,
    readonly namespaces: NamespaceRegistry,
    readonly matching: MatchingEngine,
    readonly history: HistoryService,
  ) {}

  /**
   * A region over `store` (default: a fresh in-memory SQLite), which stop() closes. `regions`: the
   * cluster as this region knows it (default a and b; give frontend addresses to test forwarding).
   */
  static async start(
    region: RegionConfig,
    opts: { numShards?: number; store?: Persistence; hostId?: string; regions?: RegionConfig[]; config?: Partial<HistoryConfig> } = {},
  ): Promise<TestRegion> {
    const store = opts.store ?? (await openSqlitePersistence({ path: ':memory:' }));
    const log = silentLogger();
    const registry = createRegistry();
    const namespaces = new NamespaceRegistry(store.namespaces, { region, regions: opts.regions ?? [regionA, regionB] }, log);
    const history = new HistoryService({ numShards: opts.numShards ?? 2, hostId: opts.hostId ?? `history-${region.name}`, ...opts.config }, store, namespaces, log, registry);
    const matching = new MatchingEngine({ store: store.taskQueues, starter: history.engine, logger: log, registry });
    history.engine.setMatching(matching);
    await namespaces.start();
    await matching.start();
    await history.start();
    return new TestRegion(store, namespaces, matching, history);
  }

  get engine() {
    return this.history.engine;
  }

  async stop(): Promise<void> {
    await this.history.stop();
    await this.matching.stop();
    await this.namespaces.stop();
    await this.store.close();
  }
}
