// `make dev`: regions a and b in one process, each an embedded cluster on its own store (two SQLite
// files, or two keyspaces), replicating to each other; `default` is a global namespace active in
// a. The dev port (127.0.0.1:7233) is the global endpoint: a router that sends each call to the
// region where its namespace is active, with routes that follow every failover (the in-memory
// route registry and the route follower), so a client that knows one address never needs another.
// One failover controller replica runs here too, with in-memory lease and report stores and two
// in-process observers (two nominal failure domains, so its quorum of 2 is met when both see a
// region down): a region stopped for downAfterMs has its namespaces failed over to the other.
// With a topology's tls sections (`tandem dev --tls`), the global endpoint and the frontends serve
// TLS and the regions replicate and forward over mutual TLS, as `tandem up` runs them.
import path from 'node:path';
import { createLogger, type Logger } from '../../services/common/logger.js';
import type { Service } from '../../services/common/lifecycle.js';
import { controllerDefaults, observerConfig, type ControllerConfig, type ObserverConfig } from '../../services/controller/config.js';
import { OpsPageServer } from '../../services/ops-page/server.js';
import { DevOpsBackend } from './dev-ops-backend.js';
import { FailoverController } from '../../services/controller/controller.js';
import { InMemoryControllerStore } from '../../services/controller/controller-store.js';
import { InMemoryLeaseStore } from '../../services/controller/leader-lease.js';
import { Observer } from '../../services/controller/observer.js';
import { LAG_SECONDS, LAG_TASKS, lagFromSamples, type LagSample } from '../../services/controller/replication-lag.js';
import { RouteFollower } from '../../services/controller/route-follower.js';
import { createRegistry, type Registry } from '../../services/common/metrics.js';
import { RouterService } from '../../services/router/server.js';
import { InMemoryRouteRegistry } from '../../services/routes/in-memory.js';
import type { RegionConfig } from '../../services/namespaces/failover.js';
import { bootstrapKey } from '../../services/auth/region-services.js';
import { EmbeddedCluster, embeddedDefaults, type EmbeddedConfig, type StoreConfig } from './embedded.js';
import { channelCredentials } from '../../services/common/tls.js';
import { regionClientTls, type EndpointTlsSpec, type RegionTlsSpec } from '../topology.js';

export interface DevRegionConfig {
  name: string;
  initialFailoverVersion: bigint;
  port: number;
  /** 0 disables this region's metrics endpoint. */
  metricsPort: number;
  store: StoreConfig;
  tls?: RegionTlsSpec;
}

export interface DevRegionsConfig {
  host: string;
  /** The global endpoint's port. */
  devPort: number;
  /** How long the router may cache a route. */
  routeTtlMs: number;
  regions: DevRegionConfig[];
  failoverVersionIncrement: bigint;
  numShards: number;
  /** Registered at start as a global namespace of every region, active in the first. */
  defaultNamespace: string;
  logLevel: string;
  /** The failover controller's settings beyond its id and regions (tests shorten its clocks). */
  controller: Partial<Omit<ControllerConfig, 'id' | 'regions'>>;
  /** Its observers' settings beyond their ids and domains. */
  observers: Partial<Omit<ObserverConfig, 'id' | 'domain'>>;
  /** The operations page (services/ops-page); 0 picks a free port. */
  opsPagePort: number;
  /** API keys required on every call; the failover controller gets a service account's key. */
  auth: boolean;
  /** The global endpoint's TLS (and the CA of the regions' frontends); with it, every region has tls. */
  endpointTls?: EndpointTlsSpec;
}

/** The nominal failure domains of make dev's in-process observers: one per vote of the quorum. */
const DEV_DOMAINS = ['dev-1', 'dev-2'];

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
    routeTtlMs: 5000,
    regions: [
      { name: 'a', initialFailoverVersion: 1n, port: 7301, metricsPort: 9090, store: devRegionStore(store, 'a') },
      { name: 'b', initialFailoverVersion: 2n, port: 7302, metricsPort: 9091, store: devRegionStore(store, 'b') },
    ],
    failoverVersionIncrement: 10n,
    numShards: embeddedDefaults.numShards,
    defaultNamespace: embeddedDefaults.defaultNamespace,
    logLevel: embeddedDefaults.logLevel,
    controller: {},
    observers: {},
    opsPagePort: 7280,
    auth: false,
  };
}

/** A region's replication lag gauges from its registry (the sending side's). */
async function registryLag(registry: Registry | undefined, source: string) {
  const samples = async (name: string): Promise<LagSample[]> => ((await registry?.getSingleMetric(name)?.get())?.values ?? []) as LagSample[];
  if (!registry) return undefined;
  return lagFromSamples(await samples(LAG_SECONDS), await samples(LAG_TASKS), source);
}

export class DevRegions implements Service {
  readonly log: Logger;
  readonly clusters: EmbeddedCluster[];
  readonly routes = new InMemoryRouteRegistry();
  private follower?: RouteFollower;
  private router?: RouterService;
  opsPage?: OpsPageServer;
  /** The controller's own metrics (the regions' registries are theirs). */
  readonly controllerRegistry = createRegistry({ service: 'controller' });
  readonly controllerStore = new InMemoryControllerStore();
  private readonly leases = new InMemoryLeaseStore();
  controller?: FailoverController;
  private observers: Observer[] = [];

  constructor(readonly config: DevRegionsConfig, logger?: Logger) {
    if (config.regions.length < 2) throw new Error('dev regions: at least two regions');
    if (config.regions.some((r) => (r.tls === undefined) !== (config.endpointTls === undefined))) {
      throw new Error('dev regions: TLS at the global endpoint and in every region, or nowhere');
    }
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
        metricsPort: r.metricsPort,
        numShards: config.numShards,
        region: regions[i]!,
        regions,
        // Registered once, as a global namespace, by start(); never as a local one per region.
        defaultNamespace: '',
        logLevel: config.logLevel,
        auth: config.auth,
        tls: r.tls,
      };
      return new EmbeddedCluster(cluster, this.log);
    });
  }

  /** The first region, where the default namespace is active and the dev port points. */
  get home(): EmbeddedCluster {
    return this.clusters[0]!;
  }

  /** The global endpoint's address. */
  get address(): string {
    return this.router?.address ?? `${this.config.host}:${this.config.devPort}`;
  }

  async start(): Promise<void> {
    try {
      for (const c of this.clusters) await c.start();
      await this.registerDefaultNamespace();
      const endpoints = Object.fromEntries(this.clusters.map((c) => [c.config.region.name, c.address]));
      await this.routes.start();
      this.follower = new RouteFollower(
        this.clusters.map((c) => c.namespaces!),
        this.routes,
        { endpoints, defaultNamespace: this.config.defaultNamespace, ttlMs: this.config.routeTtlMs },
        this.log.child({ service: 'routes' }),
      );
      await this.follower.start();
      this.router = new RouterService(
        { host: this.config.host, port: this.config.devPort },
        { routes: this.routes, registry: this.home.registry!, logger: this.log, tls: this.config.endpointTls, regionCredentials: channelCredentials(regionClientTls(this.config.endpointTls)) },
      );
      await this.router.start();
      await this.startController();
      const backend = new DevOpsBackend(this.clusters, this.routes, {}, channelCredentials(regionClientTls(this.config.endpointTls)));
      this.opsPage = new OpsPageServer({ host: this.config.host, port: this.config.opsPagePort }, { backend, logger: this.log, registry: this.home.registry });
      await this.opsPage.start();
      this.log.info({ regions: this.clusters.map((c) => `${c.config.region.name}@${c.address}`), globalEndpoint: this.address, operationsPage: this.opsPage.url }, 'tandem regions are serving');
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.opsPage?.stop();
    this.opsPage = undefined;
    for (const o of this.observers.splice(0)) await o.stop();
    await this.controller?.stop();
    this.controller = undefined;
    await this.router?.stop();
    await this.follower?.stop();
    await this.routes.stop();
    for (const c of [...this.clusters].reverse()) await c.stop();
  }

  /**
   * The key the controller and its observers call the regions with when auth is on: a service
   * account with the admin role (it fails namespaces over), a new key at every start, read by
   * every region before the controller's first probe.
   */
  private async controllerKey(): Promise<string | undefined> {
    if (!this.config.auth) return undefined;
    const key = await bootstrapKey(this.home.identity!, 'tandem-controller', 'admin', true, 'the failover controller of tandem dev');
    for (const c of this.clusters.slice(1)) await c.syncIdentities!();
    return key;
  }

  private async startController(): Promise<void> {
    const apiKey = await this.controllerKey();
    const tls = regionClientTls(this.config.endpointTls);
    const regions = this.clusters.map((c) => ({ name: c.config.region.name, endpoint: c.address, tls, apiKey }));
    const logger = this.log.child({ service: 'controller' });
    // The route follower re-points routes on every change at once; the controller only after its own failovers.
    const controller = new FailoverController(
      { ...controllerDefaults, defaultNamespace: this.config.defaultNamespace, routeTtlMs: this.config.routeTtlMs, reconcileRoutes: false, ...this.config.controller, id: 'dev', regions },
      { leases: this.leases, store: this.controllerStore, routes: this.routes, logger, registry: this.controllerRegistry },
    );
    const lag = (source: string) => registryLag(this.clusters.find((c) => c.config.region.name === source)?.registry, source);
    this.observers = DEV_DOMAINS.map(
      (domain) =>
        new Observer(observerConfig({ ...this.config.observers, id: `observer-${domain}`, domain }), regions, {
          store: this.controllerStore,
          logger,
          metrics: controller.metrics,
          lag,
        }),
    );
    for (const o of this.observers) await o.start();
    await controller.start();
    this.controller = controller;
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
