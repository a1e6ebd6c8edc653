// tandem dev: the whole cluster in this process. Two regions by default (what `make dev` runs: a
// and b, replicating, the global endpoint on --port); `--regions 1` runs one region whose frontend
// is --port itself (tests and benchmarks that want one region).
import path from 'node:path';
import type { Service } from '../services/common/lifecycle.js';
import type { Logger } from '../services/common/logger.js';
import { EmbeddedCluster, embeddedDefaults, type StoreConfig } from '../deploy/processes/embedded.js';
import { DevRegions, devRegionsDefaults, type DevStore } from '../deploy/processes/dev-regions.js';
import { flag, intFlag, UsageError, type ParsedArgs } from './args.js';

export const devUsage = `tandem dev [--regions 2|1] [--host 127.0.0.1] [--port 7233] [--shards 16] [--namespace default] [--log-level info]
             two regions: [--ports 7301,7302] [--metrics-ports 9090,9091]
                          [--db-dir .tandem | --cassandra host:port [--keyspace tandem] [--datacenter datacenter1]]
             one region:  [--metrics-port 9090] [--db .tandem/dev.db | --cassandra host:port [--keyspace tandem] ...]`;

function cassandraOf(args: ParsedArgs): { contactPoints: string[]; localDataCenter: string; keyspace: string } | undefined {
  const cassandra = args.flags.get('cassandra');
  if (typeof cassandra !== 'string') return undefined;
  return { contactPoints: cassandra.split(','), localDataCenter: flag(args, 'datacenter', 'datacenter1'), keyspace: flag(args, 'keyspace', 'tandem') };
}

function portList(args: ParsedArgs, name: string, fallback: number[]): number[] {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const ports = String(v).split(',').map(Number);
  if (ports.length !== fallback.length || ports.some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) {
    throw new UsageError(`--${name} must be ${fallback.length} ports separated by commas, got ${String(v)}`);
  }
  return ports;
}

function oneRegion(args: ParsedArgs): EmbeddedCluster {
  const cassandra = cassandraOf(args);
  const store: StoreConfig = cassandra ? { kind: 'cassandra', ...cassandra } : { kind: 'sqlite', path: path.resolve(flag(args, 'db', '.tandem/dev.db')) };
  return new EmbeddedCluster({
    ...embeddedDefaults,
    store,
    host: flag(args, 'host', embeddedDefaults.host),
    port: intFlag(args, 'port', embeddedDefaults.port),
    metricsPort: intFlag(args, 'metrics-port', embeddedDefaults.metricsPort),
    numShards: intFlag(args, 'shards', embeddedDefaults.numShards),
    defaultNamespace: flag(args, 'namespace', embeddedDefaults.defaultNamespace),
    logLevel: flag(args, 'log-level', embeddedDefaults.logLevel),
  });
}

function twoRegions(args: ParsedArgs): DevRegions {
  const cassandra = cassandraOf(args);
  const store: DevStore = cassandra ? { kind: 'cassandra', ...cassandra } : { kind: 'sqlite', dir: flag(args, 'db-dir', '.tandem') };
  const defaults = devRegionsDefaults(store);
  const ports = portList(args, 'ports', defaults.regions.map((r) => r.port));
  const metricsPorts = portList(args, 'metrics-ports', defaults.regions.map((r) => r.metricsPort));
  return new DevRegions({
    ...defaults,
    host: flag(args, 'host', defaults.host),
    devPort: intFlag(args, 'port', defaults.devPort),
    regions: defaults.regions.map((r, i) => ({ ...r, port: ports[i]!, metricsPort: metricsPorts[i]! })),
    numShards: intFlag(args, 'shards', defaults.numShards),
    defaultNamespace: flag(args, 'namespace', defaults.defaultNamespace),
    logLevel: flag(args, 'log-level', defaults.logLevel),
  });
}

export async function dev(args: ParsedArgs): Promise<void> {
  const regions = intFlag(args, 'regions', 2);
  if (regions !== 1 && regions !== 2) throw new UsageError(`--regions must be 1 or 2, got ${regions}`);
  const cluster: Service & { log: Logger } = regions === 1 ? oneRegion(args) : twoRegions(args);
  await cluster.start();
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
