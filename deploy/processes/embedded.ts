// The embedded process: every service of one region in one process (what `make dev` runs).
// Same code paths as a region; the store is SQLite by default, Cassandra when configured.
import path from 'node:path';
import { createLogger, type Logger } from '../../services/common/logger.js';
import { createRegistry, MetricsServer, type Registry } from '../../services/common/metrics.js';
import { ServiceGroup, type Service } from '../../services/common/lifecycle.js';
import type { Persistence } from '../../services/persistence/store.js';
import { channelCredentials } from '../../services/common/tls.js';
import { openSqlitePersistence } from '../../services/persistence/sqlite/index.js';
import { openCassandraPersistence } from '../../services/persistence/cassandra/index.js';
import { NamespaceRegistry } from '../../services/namespaces/registry.js';
import type { RegionConfig } from '../../services/namespaces/failover.js';
import { HistoryService } from '../../services/history/history-service.js';
import { ShardOwnership } from '../../services/history/shard-ownership.js';
import { InMemoryCluster, InMemoryMembership } from '../../services/membership/in-memory.js';
import { MatchingEngine } from '../../services/matching/engine.js';
import { FrontendService } from '../../services/frontend/server.js';
import { replicationWaiter } from '../../services/history/replication-progress.js';
import { globalNamespaceServices } from '../../services/namespaces/region-services.js';
import { identityServices } from '../../services/auth/region-services.js';
import type { IdentityDirectory } from '../../services/auth/directory.js';
import { routingSource } from '../../services/namespaces/worker-deployments.js';
import { Replication } from '../../replication/replication.js';
import type { ReplicationConfig } from '../../replication/config.js';
import { failoverLagOf } from '../../replication/receiver-lag.js';
import { frontendTls, linkTls, type RegionTlsSpec } from '../topology.js';

export type StoreConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'cassandra'; contactPoints: string[]; localDataCenter: string; keyspace: string };

export interface EmbeddedConfig {
  store: StoreConfig;
  host: string;
  port: number;
  /** 0 disables the metrics endpoint. */
  metricsPort: number;
  numShards: number;
  region: RegionConfig;
  /**
   * Every region of the cluster (this one included), with frontend addresses: replication streams
   * from each other region that has one. Empty: this region alone.
   */
  regions: RegionConfig[];
  replication: Partial<ReplicationConfig>;
  /** Registered at start when missing. */
  defaultNamespace: string;
  logLevel: string;
  /** API keys required on every call (services/auth); off keeps make dev open. */
  auth: boolean;
  /** The frontend's TLS and the client certificate for the other regions; plaintext when absent. */
  tls?: RegionTlsSpec;
}

export const embeddedDefaults: EmbeddedConfig = {
  store: { kind: 'sqlite', path: path.resolve('.tandem/dev.db') },
  host: '127.0.0.1',
  port: 7233,
  metricsPort: 9090,
  numShards: 16,
  region: { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n },
  regions: [],
  replication: {},
  defaultNamespace: 'default',
  logLevel: 'info',
  auth: false,
};

export async function openStore(store: StoreConfig, log: Logger): Promise<Persistence> {
  if (store.kind === 'sqlite') return openSqlitePersistence({ path: store.path, logger: log });
  return openCassandraPersistence({ contactPoints: store.contactPoints, localDataCenter: store.localDataCenter, keyspace: store.keyspace });
}

/** A running embedded cluster; stop() drains the frontend first, then the rest. */
export class EmbeddedCluster implements Service {
  readonly log: Logger;
  private group?: ServiceGroup;
  store?: Persistence;
  namespaces?: NamespaceRegistry;
  frontend?: FrontendService;
  history?: HistoryService;
  matching?: MatchingEngine;
  replication?: Replication;
  registry?: Registry;
  /** Users and API keys of this region (tandem dev --auth mints its bootstrap keys here). */
  identity?: IdentityDirectory;
  /** Reads the other regions' users and keys now (a bootstrap key is usable everywhere at once). */
  syncIdentities?: () => Promise<number>;

  constructor(readonly config: EmbeddedConfig, logger?: Logger) {
    this.log = (logger ?? createLogger({ level: config.logLevel })).child({ region: config.region.name });
  }

  get address(): string {
    return this.frontend?.address ?? `${this.config.host}:${this.config.port}`;
  }

  async start(): Promise<void> {
    const c = this.config;
    const registry = createRegistry({ region: c.region.name });
    const store = await openStore(c.store, this.log);
    this.store = store;
    try {
      const namespaces = new NamespaceRegistry(store.namespaces, { region: c.region, regions: c.regions }, this.log.child({ service: 'namespaces' }), store.clusterMetadata);
      const links = channelCredentials(linkTls(c.tls), this.log.child({ component: 'tls' }));
      const replication = c.regions.some((r) => r.name !== c.region.name)
        ? new Replication(c.replication, { store, namespaces, numShards: c.numShards, logger: this.log, registry, links })
        : undefined;
      // The region's code path with the in-memory membership: one history member owns every shard.
      const hostId = `embedded-${process.pid}`;
      const membership = new InMemoryMembership(new InMemoryCluster(), { id: hostId, role: 'history', address: 'in-process', startedAtMs: Date.now() });
      const history = new HistoryService({ numShards: c.numShards, hostId }, store, namespaces, this.log, registry, 'none', {
        shardListeners: replication ? [replication] : [],
      });
      replication?.attach(history.engine);
      const ownership = new ShardOwnership({ membership, controller: history.controller, numShards: c.numShards, logger: this.log });
      const matching = new MatchingEngine({ store: store.taskQueues, starter: history.engine, logger: this.log, registry, routing: routingSource(namespaces) });
      history.engine.setMatching(matching);
      const global = globalNamespaceServices({
        registry: namespaces,
        store,
        log: this.log,
        metrics: registry,
        waitForReplication: replicationWaiter(store, c.numShards, namespaces),
        publish: (namespaceId) => history.engine.refreshNamespace(namespaceId),
        measureLag: replication && failoverLagOf((ns, source) => replication.measureRegionLag(ns, source)),
        links,
      });
      const identity = identityServices({ store, clusters: namespaces.clusters, log: this.log, links });
      const extraServices = [...global.adminServices, ...identity.adminServices, ...(replication?.extraServices ?? [])];
      const frontend = new FrontendService(
        { host: c.host, port: c.port, region: c.region.name, historyShardCount: c.numShards, auth: { authEnabled: c.auth } },
        {
          persistence: store,
          namespaces,
          history: history.engine,
          matching,
          logger: this.log,
          registry,
          failover: global.coordinator,
          extraServices,
          identity: identity.directory,
          tls: frontendTls(c.tls),
          links,
        },
      );
      // Replication stops first: its streams end before the frontend drains the calls they ride on.
      const services: Service[] = [namespaces, membership, history, ownership, matching, frontend, global.replicator, identity.replicator, ...(replication ? [replication] : [])];
      if (c.metricsPort > 0) services.push(new MetricsServer(registry, c.host, c.metricsPort, this.log.child({ service: 'metrics' }), 'warn'));
      this.group = new ServiceGroup(services);
      await this.group.start();
      this.namespaces = namespaces;
      this.frontend = frontend;
      this.history = history;
      this.matching = matching;
      this.replication = replication;
      this.registry = registry;
      this.identity = identity.directory;
      this.syncIdentities = () => identity.replicator.syncOnce();
      if (c.defaultNamespace && !(await namespaces.getByName(c.defaultNamespace))) {
        await namespaces.register({ name: c.defaultNamespace, description: 'default namespace' }).catch((err: unknown) => {
          if (!(err instanceof Error && /already exists/.test(err.message))) throw err;
        });
      }
      this.log.info({ address: frontend.address, store: c.store.kind }, 'tandem is serving');
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.group?.stop();
    this.group = undefined;
    await this.store?.close();
    this.store = undefined;
  }
}
