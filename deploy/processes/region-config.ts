// What every process main of a region shares: its command line, its part of the topology, its
// logger, metrics registry, store and membership, and the run loop (start in order, serve
// /metrics, stop gracefully on SIGTERM/SIGINT).
import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../../services/common/logger.js';
import { createRegistry, gauge, MetricsServer, type Registry } from '../../services/common/metrics.js';
import { ServiceGroup, type Service } from '../../services/common/lifecycle.js';
import type { RegionConfig } from '../../services/namespaces/failover.js';
import { NamespaceRegistry } from '../../services/namespaces/registry.js';
import type { Member, Role } from '../../services/membership/membership.js';
import { RedisMembership } from '../../services/membership/redis.js';
import { openCassandraPersistence } from '../../services/persistence/cassandra/index.js';
import { withPersistenceMetrics } from '../../services/persistence/metrics-decorator.js';
import { withOpenSearchVisibility } from '../../services/persistence/opensearch/visibility.js';
import type { Persistence } from '../../services/persistence/store.js';
import { findNode, findRegion, frontendAddressFor, loadTopology, redisUrl, TopologyError, type NodeSpec, type RegionSpec, type Service as ServiceName, type Topology } from '../topology.js';

export interface ProcessConfig {
  topologyFile: string;
  topology: Topology;
  region: RegionSpec;
  service: ServiceName;
  node: NodeSpec;
  /** Membership id and shard owner: the node id unless --instance-id overrides it (Deployment replicas). */
  instanceId: string;
  /** Address the servers bind to (0.0.0.0 in a container). */
  bindHost: string;
  /** host the other processes reach this one at (the pod IP in Kubernetes). */
  advertiseHost: string;
  logLevel: string;
}

export const PROCESS_USAGE =
  'usage: <process>.ts --topology FILE --region NAME --node ID [--instance-id ID] [--bind HOST] [--advertise HOST] [--log-level info]';

/**
 * Parses a process main's argv. Flags may come from the environment instead (TANDEM_TOPOLOGY,
 * TANDEM_REGION, TANDEM_NODE, TANDEM_INSTANCE_ID, TANDEM_BIND_HOST, TANDEM_ADVERTISE_HOST,
 * TANDEM_LOG_LEVEL), which is how the Kubernetes manifests pass the pod's name and IP.
 */
export function processConfig(service: ServiceName, argv: string[], env: NodeJS.ProcessEnv = process.env): ProcessConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      topology: { type: 'string' },
      region: { type: 'string' },
      node: { type: 'string' },
      'instance-id': { type: 'string' },
      bind: { type: 'string' },
      advertise: { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const need = (v: string | undefined, what: string) => {
    if (!v) throw new TopologyError(`--${what} is required\n${PROCESS_USAGE}`);
    return v;
  };
  const topologyFile = need(values.topology ?? env.TANDEM_TOPOLOGY, 'topology');
  const topology = loadTopology(topologyFile);
  const region = findRegion(topology, need(values.region ?? env.TANDEM_REGION, 'region'));
  const found = findNode(region, need(values.node ?? env.TANDEM_NODE, 'node'));
  if (found.service !== service) throw new TopologyError(`node ${found.node.id} is a ${found.service} node, not a ${service} node`);
  return {
    topologyFile,
    topology,
    region,
    service,
    node: found.node,
    instanceId: values['instance-id'] ?? env.TANDEM_INSTANCE_ID ?? found.node.id,
    bindHost: values.bind ?? env.TANDEM_BIND_HOST ?? found.node.host,
    advertiseHost: values.advertise ?? env.TANDEM_ADVERTISE_HOST ?? found.node.host,
    logLevel: values['log-level'] ?? env.TANDEM_LOG_LEVEL ?? 'info',
  };
}

/**
 * The failover-version view of every region of the cluster, for the namespace registry, as the
 * processes of region `from` see it: another region's frontend through the topology's link
 * between them, when there is one (chaos cuts it).
 */
export function regionConfigs(t: Topology, from?: string): RegionConfig[] {
  const increment = BigInt(t.cluster.failoverVersionIncrement);
  return t.regions.map((r) => ({
    name: r.name,
    initialFailoverVersion: BigInt(r.initialFailoverVersion),
    failoverVersionIncrement: increment,
    frontendAddress: from ? frontendAddressFor(t, from, r) : `${r.frontend.host}:${r.frontend.port}`,
  }));
}

/** The pieces every process of a region has; built once by the main, torn down by runProcess. */
export class ProcessContext {
  readonly log: Logger;
  readonly registry: Registry;
  private store?: Persistence;

  constructor(readonly config: ProcessConfig) {
    const c = config;
    this.log = createLogger({ level: c.logLevel }).child({ service: c.service, region: c.region.name, node: c.instanceId });
    this.registry = createRegistry({ region: c.region.name, service: c.service, node: c.instanceId });
    // What shard-ownership alerts compare the owned total against.
    gauge(this.registry, 'tandem_cluster_shards', 'numShards of the cluster (fixed, the same in every region)').set(c.topology.cluster.numShards);
  }

  get numShards(): number {
    return this.config.topology.cluster.numShards;
  }

  /**
   * The region's Cassandra keyspace (schema applied when missing), with visibility in OpenSearch
   * when the region says so (index created when missing), every call timed.
   */
  async openStore(): Promise<Persistence> {
    const { cassandra: cs, visibility } = this.config.region;
    const cassandra = await openCassandraPersistence({ contactPoints: cs.contactPoints, localDataCenter: cs.dataCenter, keyspace: cs.keyspace });
    const inner = visibility ? await withOpenSearchVisibility(cassandra, visibility) : cassandra;
    this.store = withPersistenceMetrics(inner, this.registry);
    return this.store;
  }

  namespaces(store: Persistence): NamespaceRegistry {
    const regions = regionConfigs(this.config.topology, this.config.region.name);
    const region = regions.find((r) => r.name === this.config.region.name)!;
    return new NamespaceRegistry(store.namespaces, { region, regions }, this.log.child({ component: 'namespaces' }), store.clusterMetadata);
  }

  /** This process in the region's membership, at its advertised internal address. */
  membership(role: Role): RedisMembership {
    const c = this.config;
    const self: Member = { id: c.instanceId, role, address: `${c.advertiseHost}:${c.node.port}`, startedAtMs: Date.now() };
    const m = c.topology.cluster.membership;
    return new RedisMembership(
      { redisUrl: redisUrl(c.region.redis), region: c.region.name, self, ttlMs: m.ttlMs, heartbeatMs: m.heartbeatMs, pollMs: m.pollMs },
      this.log.child({ component: 'membership' }),
    );
  }

  metricsServer(): MetricsServer {
    return new MetricsServer(this.registry, this.config.bindHost, this.config.node.metricsPort, this.log.child({ component: 'metrics' }));
  }

  async closeStore(): Promise<void> {
    await this.store?.close();
    this.store = undefined;
  }
}

/** How long a graceful stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 20_000;

/**
 * Runs one process: builds its services, starts them in order with /metrics last (so /healthz
 * answering means the process is ready), and on SIGTERM/SIGINT stops them in reverse.
 */
export async function runProcess(
  service: ServiceName,
  build: (ctx: ProcessContext) => Promise<{ services: Service[]; afterStart?: () => Promise<void> }>,
): Promise<void> {
  let ctx: ProcessContext;
  try {
    ctx = new ProcessContext(processConfig(service, process.argv.slice(2)));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const { node, topologyFile } = ctx.config;
  await runLoop(ctx.log, async () => {
    const built = await build(ctx);
    return { services: [...built.services, ctx.metricsServer()], afterStart: built.afterStart };
  }, () => ctx.closeStore(), { port: node.port, metricsPort: node.metricsPort, topology: topologyFile });
}

/**
 * The run loop of every process main (region and global): starts the built services in order,
 * stops them in reverse on SIGTERM/SIGINT (then `afterStop`), and exits: 0 after a signal, 1
 * after a failed start or a stop that failed or took longer than STOP_DEADLINE_MS.
 */
export async function runLoop(
  log: Logger,
  build: () => Promise<{ services: Service[]; afterStart?: () => Promise<void> }>,
  afterStop: () => Promise<void>,
  ready: Record<string, unknown>,
): Promise<void> {
  let group: ServiceGroup | undefined;
  let stopping = false;
  const stop = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'stopping');
    setTimeout(() => {
      log.error({ deadlineMs: STOP_DEADLINE_MS }, 'graceful stop took too long; exiting');
      process.exit(code || 1);
    }, STOP_DEADLINE_MS).unref();
    (group?.stop() ?? Promise.resolve())
      .then(afterStop)
      .then(
        () => {
          log.info('stopped');
          process.exit(code);
        },
        (err: unknown) => {
          log.error({ err }, 'stop failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => stop('SIGINT', 0));
  try {
    const built = await build();
    group = new ServiceGroup(built.services);
    await group.start();
    await built.afterStart?.();
    log.info(ready, 'process ready');
  } catch (err) {
    log.fatal({ err }, 'start failed');
    stop('start failed', 1);
  }
}
