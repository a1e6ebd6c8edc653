// `make dev`: regions a and b in one process, each an embedded cluster on its own store (two SQLite
// files, or two keyspaces), replicating to each other; `default` is a global namespace active in
// a. Region a's frontend also listens on the dev port (127.0.0.1:7233), so a client that knows one
// address reaches the active region; calls that land on b are forwarded to a.
import path from 'node:path';
import { createLogger, type Logger } from '../../services/common/logger.js';
import type { Service } from '../../services/common/lifecycle.js';
import type { RegionConfig } from '../../services/namespaces/failover.js';
import { EmbeddedCluster, embeddedDefaults, type EmbeddedConfig, type StoreConfig } from './embedded.js';

export interface DevRegionConfig {
  name: string;
  initialFailoverVersion: bigint;
  port: number;
  /** 0 disables this region's metrics endpoint. */
  metricsPort: number;
  store: StoreConfig;
}

export interface DevRegionsConfig {
  host: string;
  /** Also served by the first region's frontend. */
  devPort: number;
  regions: DevRegionConfig[];
  failoverVersionIncrement: bigint;
  numShards: number;
  /** Registered at start as a global namespace of every region, active in the first. */
  defaultNamespace: string;
  logLevel: string;
}

/** Where each region keeps its data: `<dir>/<region>.db`, or keyspace `<keyspace>_<region>`. */
export type DevStore = { kind: 'sqlite'; dir: string } | { kind: 'cassandra'; contactPoints: string[]; localDataCenter: string; keyspace: string };

export function devRegionStore(store: DevStore, region: string): StoreConfig {
  return store.kind === 'sqlite'
    ? { kind: 'sqlite', path: path.resolve(store.dir, `${region}.db`) }
    : { kind: 'cassandra', contactPoints: store.contactPoints, localDataCenter: store.localDataCenter, keyspace: `${store.keyspace}_${region}` };
}

/** Regions a and b as in deploy/local/two-regions.json: frontends on 7301 and 7302, metrics on 9090 and 9091. */
export function devRegionsDefaults(store: DevStore = { kind: 'sqlite', dir: '.tandem' }): DevRegionsConfig {
  return {
    host: embeddedDefaults.host,
    devPort: 7233,
    regions: [
      { name: 'a', initialFailoverVersion: 1n, port: 7301, metricsPort: 9090, store: devRegionStore(store, 'a') },
      { name: 'b', initialFailoverVersion: 2n, port: 7302, metricsPort: 9091, store: devRegionStore(store, 'b') },
    ],
    failoverVersionIncrement: 10n,
    numShards: embeddedDefaults.numShards,
    defaultNamespace: embeddedDefaults.defaultNamespace,
    logLevel: embeddedDefaults.logLevel,
  };
}

export class DevRegions implements Service {
  readonly log: Logger;
  readonly clusters: EmbeddedCluster[];

  constructor(readonly config: DevRegionsConfig, logger?: Logger) {
    if (config.regions.length < 2) throw new Error('dev regions: at least two regions');
    this.log = logger ?? createLogger({ level: config.logLevel });
    const regions: RegionConfig[] = config.regions.map((r) => ({
      name: r.name,
      initialFailoverVersion: r.initialFailoverVersion,
      failoverVersionIncrement: config.failoverVersionIncrement,
      frontendAddress: `${config.host}:${r.port}`,
    }));
    this.clusters = config.regions.map((r, i) => {
      const cluster: EmbeddedConfig = {
        ...embeddedDefaults,
        store: r.store,
        host: config.host,
        port: r.port,
        extraPorts: i === 0 ? [config.devPort] : [],
        metricsPort: r.metricsPort,
        numShards: config.numShards,
        region: regions[i]!,
        regions,
        // Registered once, as a global namespace, by start(); never as a local one per region.
        defaultNamespace: '',
        logLevel: config.logLevel,
      };
      return new EmbeddedCluster(cluster, this.log);
    });
  }

  /** The first region, where the default namespace is active and the dev port points. */
  get home(): EmbeddedCluster {
    return this.clusters[0]!;
  }

  async start(): Promise<void> {
    try {
      for (const c of this.clusters) await c.start();
      await this.registerDefaultNamespace();
      this.log.info({ regions: this.clusters.map((c) => `${c.config.region.name}@${c.address}`), devPort: this.config.devPort }, 'tandem regions are serving');
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    for (const c of [...this.clusters].reverse()) await c.stop();
  }

  private async registerDefaultNamespace(): Promise<void> {
    const name = this.config.defaultNamespace;
    const namespaces = this.home.namespaces!;
    if (!name || (await namespaces.getByName(name))) return;
    await namespaces.register({
      name,
      description: 'default namespace',
      isGlobal: true,
      activeRegion: this.home.config.region.name,
      regions: this.clusters.map((c) => c.config.region.name),
    });
  }
}
