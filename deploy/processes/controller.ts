// The failover controller (DESIGN "Failure domains", invariant 10), one replica per process:
//   node --import tsx deploy/processes/controller.ts --topology FILE --node controller-1 \
//        [--domain zone-1[,zone-2]] [--metrics-port 9401] [--ops-page-port 7280] [--bind 127.0.0.1] [--failback ns1,ns2] [--log-level info]
// (`controller.ts FILE controller-1` is the same with the defaults.) It reads the topology's
// regions (their frontends) and `global.redis`, where the replicas share the leader lease, the
// observers' reports and the routes. Each --domain is one observer run by this replica (default:
// one, named after the replica); the quorum needs two domains, so run at least two replicas in
// different domains (or, on one machine, one replica with two). /metrics and /healthz on
// --metrics-port (0: none): tandem_controller_*; the operations page (services/ops-page) on
// --ops-page-port (0: none).
import { parseArgs } from 'node:util';
import { createLogger } from '../../services/common/logger.js';
import { createRegistry, MetricsServer } from '../../services/common/metrics.js';
import type { Service } from '../../services/common/lifecycle.js';
import { controllerDefaults, observerConfig } from '../../services/controller/config.js';
import { OpsPageServer } from '../../services/ops-page/server.js';
import { FailoverController } from '../../services/controller/controller.js';
import { Observer } from '../../services/controller/observer.js';
import { RedisControllerStore } from '../../services/controller/redis-controller-store.js';
import { RedisLeaseStore } from '../../services/controller/redis-lease-store.js';
import { LAG_SECONDS, LAG_TASKS, lagFromSamples } from '../../services/controller/replication-lag.js';
import { RedisRouteRegistry } from '../../services/routes/redis.js';
import { frontendDialAddress, loadTopology, redisUrl, regionClientTls, topologyAdminKey, TopologyError, type RegionSpec, type Topology } from '../topology.js';
import { scrape } from './node-process.js';
import { parsePrometheusText } from './prom-text.js';
import { runLoop } from './region-config.js';

const USAGE = 'usage: controller.ts --topology FILE --node ID [--domain D1[,D2]] [--metrics-port 9401] [--ops-page-port 7280] [--bind HOST] [--failback NS1,NS2] [--log-level info]';

function commandLine(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      topology: { type: 'string' },
      node: { type: 'string' },
      domain: { type: 'string' },
      'metrics-port': { type: 'string' },
      'ops-page-port': { type: 'string' },
      bind: { type: 'string' },
      failback: { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const topologyFile = values.topology ?? positionals[0] ?? process.env.TANDEM_TOPOLOGY;
  const id = values.node ?? positionals[1] ?? process.env.TANDEM_NODE;
  if (!topologyFile || !id) throw new TopologyError(`--topology and --node are required\n${USAGE}`);
  const port = (flag: 'metrics-port' | 'ops-page-port') => {
    const n = Number(values[flag] ?? 0);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new TopologyError(`--${flag} must be a port, got ${values[flag]}\n${USAGE}`);
    return n;
  };
  const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);
  return {
    topology: loadTopology(topologyFile),
    topologyFile,
    id,
    domains: values.domain ? list(values.domain) : [id],
    metricsPort: port('metrics-port'),
    opsPagePort: port('ops-page-port'),
    bind: values.bind ?? '127.0.0.1',
    failback: list(values.failback),
    logLevel: values['log-level'] ?? process.env.TANDEM_LOG_LEVEL ?? 'info',
  };
}

/** The lag gauges live on the sending region's history nodes: the worst of them per target. */
function topologyLag(topology: Topology) {
  return async (source: string) => {
    const region: RegionSpec | undefined = topology.regions.find((r) => r.name === source);
    if (!region) return undefined;
    const texts = await Promise.all(region.history.map((h) => scrape(`http://${h.host === '0.0.0.0' ? '127.0.0.1' : h.host}:${h.metricsPort}/metrics`, 1000)));
    const samples = texts.filter((t): t is string => t !== null).map(parsePrometheusText);
    if (samples.length === 0) return undefined;
    const of = (name: string) => samples.flatMap((f) => f.get(name)?.samples ?? []);
    return lagFromSamples(of(LAG_SECONDS), of(LAG_TASKS), source);
  };
}

let cli: ReturnType<typeof commandLine>;
try {
  cli = commandLine(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
const { topology, id } = cli;
const log = createLogger({ level: cli.logLevel }).child({ service: 'controller', region: 'global', node: id });
const registry = createRegistry({ region: 'global', service: 'controller', node: id });
const url = redisUrl(topology.global.redis);
const keyPrefix = topology.global.keyPrefix;

await runLoop(
  log,
  async () => {
    const leases = new RedisLeaseStore(url, keyPrefix);
    const store = new RedisControllerStore(url, keyPrefix);
    await Promise.all([leases.connect(), store.connect()]);
    const routes = new RedisRouteRegistry({ redisUrl: url, keyPrefix }, log.child({ component: 'routes' }));
    const tls = regionClientTls(topology.global.endpoint.tls);
    const apiKey = topologyAdminKey(topology);
    const regions = topology.regions.map((r) => ({ name: r.name, endpoint: frontendDialAddress(r), tls, apiKey }));
    const controller = new FailoverController(
      { ...controllerDefaults, id, regions, failback: { ...controllerDefaults.failback, namespaces: cli.failback } },
      { leases, store, routes, logger: log, registry },
    );
    const lag = topologyLag(topology);
    const observers = cli.domains.map(
      (domain) => new Observer(observerConfig({ id: `${id}/${domain}`, domain }), regions, { store, logger: log, metrics: controller.metrics, lag }),
    );
    const closeStores: Service = { start: async () => {}, stop: async () => void (await Promise.all([leases.close(), store.close()])) };
    const metrics = cli.metricsPort > 0 ? [new MetricsServer(registry, cli.bind, cli.metricsPort, log.child({ component: 'metrics' }))] : [];
    const opsPage = cli.opsPagePort > 0 ? [new OpsPageServer({ host: cli.bind, port: cli.opsPagePort }, { backend: controller, logger: log, registry })] : [];
    return { services: [closeStores, routes, ...observers, controller, ...opsPage, ...metrics] };
  },
  async () => {},
  { node: id, topology: cli.topologyFile, domains: cli.domains },
);
