// tandem dev: the whole cluster in this process. Two regions by default (what `make dev` runs: a
// and b, replicating, the global endpoint on --port); `--regions 1` runs one region whose frontend
// is --port itself (tests and benchmarks that want one region). The options of the other mode are
// accepted and unused, so one command line can serve both.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { EmbeddedCluster, embeddedDefaults, type StoreConfig } from '../deploy/processes/embedded.js';
import { DevRegions, devRegionsDefaults, type DevRegionsConfig, type DevStore } from '../deploy/processes/dev-regions.js';
import { loadTopology, TopologyError, type RegionTlsSpec } from '../deploy/topology.js';
import { bootstrapKey } from '../services/auth/region-services.js';
import { examples } from './help.js';
import { logLevelOption, port, portList, positive } from './options.js';

interface DevOptions {
  regions: '1' | '2';
  host: string;
  port: number;
  shards: number;
  namespace: string;
  logLevel: string;
  ports: number[];
  metricsPorts: number[];
  opsPagePort: number;
  dbDir: string;
  metricsPort: number;
  db: string;
  cassandra?: string[];
  keyspace: string;
  datacenter: string;
  tls?: string;
  auth: boolean;
}

function cassandraOf(o: DevOptions): { contactPoints: string[]; localDataCenter: string; keyspace: string } | undefined {
  return o.cassandra && { contactPoints: o.cassandra, localDataCenter: o.datacenter, keyspace: o.keyspace };
}

function oneRegion(o: DevOptions): EmbeddedCluster {
  const cassandra = cassandraOf(o);
  const store: StoreConfig = cassandra ? { kind: 'cassandra', ...cassandra } : { kind: 'sqlite', path: path.resolve(o.db) };
  return new EmbeddedCluster({
    ...embeddedDefaults,
    store,
    host: o.host,
    port: o.port,
    metricsPort: o.metricsPort,
    numShards: o.shards,
    defaultNamespace: o.namespace,
    logLevel: o.logLevel,
    auth: o.auth,
  });
}

/** The tls sections of a topology: its regions a and b's, and its global endpoint's. */
function tlsOf(file: string | undefined): Pick<DevRegionsConfig, 'endpointTls'> & { regions: Map<string, RegionTlsSpec | undefined> } {
  if (!file) return { regions: new Map() };
  const t = loadTopology(file);
  if (!t.global.endpoint.tls) throw new TopologyError(`topology ${file} has no tls sections (see deploy/local/two-regions-tls.json)`);
  return { endpointTls: t.global.endpoint.tls, regions: new Map(t.regions.map((r) => [r.name, r.tls])) };
}

function twoRegions(o: DevOptions): DevRegions {
  const cassandra = cassandraOf(o);
  const store: DevStore = cassandra ? { kind: 'cassandra', ...cassandra } : { kind: 'sqlite', dir: o.dbDir };
  const defaults = devRegionsDefaults(store);
  const tls = tlsOf(o.tls);
  return new DevRegions({
    ...defaults,
    host: o.host,
    devPort: o.port,
    endpointTls: tls.endpointTls,
    regions: defaults.regions.map((r, i) => ({ ...r, port: o.ports[i]!, metricsPort: o.metricsPorts[i]!, tls: tls.regions.get(r.name) })),
    opsPagePort: o.opsPagePort,
    numShards: o.shards,
    defaultNamespace: o.namespace,
    logLevel: o.logLevel,
    auth: o.auth,
  });
}

/**
 * With --auth: a new key of the user `admin` (account role admin), usable in every region at once,
 * printed on a line of its own for scripts. The server keeps only its hash.
 */
async function printAdminKey(cluster: EmbeddedCluster | DevRegions): Promise<void> {
  const regions = cluster instanceof DevRegions ? cluster.clusters : [cluster];
  const key = await bootstrapKey(regions[0]!.identity!, 'admin', 'admin', false, 'tandem dev --auth bootstrap');
  for (const r of regions.slice(1)) await r.syncIdentities!();
  console.log(`admin api key: ${key}`);
}

async function dev(o: DevOptions): Promise<void> {
  const cluster = o.regions === '1' ? oneRegion(o) : twoRegions(o);
  await cluster.start();
  if (o.auth) await printAdminKey(cluster);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    cluster.log.info({ signal: sig }, 'stopping');
    cluster.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        cluster.log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export function devCommand(program: Command): void {
  const two = devRegionsDefaults().regions;
  const command = program
    .command('dev')
    .description('run the whole cluster in this process until Ctrl-C: regions a and b replicating behind the global endpoint (what make dev runs), or one region')
    .addOption(new Option('--regions <n>', '2: regions a and b behind the global endpoint on --port; 1: one region, its frontend on --port').choices(['2', '1']).default('2'))
    .option('--host <host>', 'the address every port binds to', embeddedDefaults.host)
    .addOption(new Option('--port <port>', 'the port clients use: the global endpoint (two regions) or the frontend (one region)').default(embeddedDefaults.port).argParser(port))
    .addOption(new Option('--shards <n>', 'history shards per region').default(embeddedDefaults.numShards).argParser(positive))
    .option('--namespace <name>', 'the namespace created at start (global, active in a, with two regions)', embeddedDefaults.defaultNamespace)
    .addOption(logLevelOption())
    .addOption(new Option('--cassandra <host:port,...>', 'keep state in Cassandra at these contact points instead of SQLite').argParser((v) => v.split(',')).conflicts(['db', 'dbDir']))
    .option('--keyspace <name>', 'with --cassandra: the keyspace (two regions: <name>_a and <name>_b)', 'tandem')
    .option('--datacenter <name>', "with --cassandra: the driver's local data center", 'datacenter1')
    .option('--auth', 'require an API key on every call (authorization: Bearer <key>) and print a new admin key once: admin api key: <key>', false);
  command.optionsGroup('Two regions (the default):');
  command
    .addOption(new Option('--ports <a,b>', "regions a and b's own frontend ports").default(two.map((r) => r.port), two.map((r) => r.port).join(',')).argParser(portList(2)))
    .addOption(new Option('--metrics-ports <a,b>', "regions a and b's /metrics ports (0: any free port)").default(two.map((r) => r.metricsPort), two.map((r) => r.metricsPort).join(',')).argParser(portList(2)))
    .addOption(new Option('--ops-page-port <port>', 'the operations page for SREs (0: any free port)').default(devRegionsDefaults().opsPagePort).argParser(port))
    .option('--db-dir <dir>', 'SQLite files of both regions in this directory', '.tandem')
    .option('--tls <topology>', "TLS with the certificates this topology's tls sections name (regions a and b, the global endpoint): tandem certs dev makes them");
  command.optionsGroup('One region (--regions 1):');
  command
    .addOption(new Option('--metrics-port <port>', 'the /metrics port (0: any free port)').default(embeddedDefaults.metricsPort).argParser(port))
    .option('--db <file>', 'the SQLite file', '.tandem/dev.db');
  command.action(dev);
  examples(command, [
    'tandem dev  # what make dev runs: a on :7301, b on :7302, the global endpoint on :7233',
    'tandem dev --port 7233 --ports 7301,7302 --db-dir .tandem --shards 16',
    'tandem dev --cassandra 127.0.0.1:9042 --keyspace tandem  # keyspaces tandem_a and tandem_b',
    'tandem certs dev && tandem dev --tls deploy/local/two-regions-tls.json  # TLS everywhere, mutual between regions',
    'tandem dev --regions 1 --port 7233 --db .tandem/dev.db  # one region, its frontend on --port',
    'tandem dev --auth  # prints "admin api key: tdm_..." once; tandem apikey create ... makes more',
  ]);
}
