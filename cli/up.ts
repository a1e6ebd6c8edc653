// tandem up --topology deploy/local/one-region.json [--region a] [--log-level info]
// Runs a topology on this machine (see deploy/processes/local-cluster.ts) until Ctrl-C/SIGTERM,
// with every node's output prefixed by its id.
import path from 'node:path';
import { LocalCluster } from '../deploy/processes/local-cluster.js';
import { loadTopology } from '../deploy/topology.js';
import { flag, UsageError, type ParsedArgs } from './args.js';

export function topologyFlag(args: ParsedArgs): string {
  const file = args.flags.get('topology');
  if (typeof file !== 'string') throw new UsageError('--topology FILE is required (e.g. deploy/local/one-region.json)');
  return path.resolve(file);
}

export async function up(args: ParsedArgs): Promise<void> {
  const topologyFile = topologyFlag(args);
  const topology = loadTopology(topologyFile);
  const region = args.flags.get('region');
  const regions = typeof region === 'string' ? region.split(',') : undefined;
  for (const r of regions ?? []) if (!topology.regions.some((x) => x.name === r)) throw new UsageError(`no region ${r} in ${topologyFile}`);
  const width = Math.max(...topology.regions.flatMap((r) => [r.frontend, ...r.matching, ...r.history]).map((n) => n.id.length));
  const cluster = new LocalCluster({
    topologyFile,
    topology,
    regions,
    logLevel: flag(args, 'log-level', 'info'),
    log: (msg) => process.stderr.write(`${'[up]'.padEnd(width + 2)} ${msg}\n`),
    onLine: (id, line) => process.stdout.write(`${`[${id}]`.padEnd(width + 2)} ${line}\n`),
  });

  let stopping: Promise<void> | undefined;
  const stop = (sig: string) => {
    process.stderr.write(`[up] ${sig}: stopping services, then Redis and Cassandra\n`);
    stopping ??= cluster.stop();
    return stopping;
  };
  const stopped = new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stop(sig).then(resolve));
  });
  try {
    await cluster.start();
  } catch (err) {
    // Ctrl-C during the start: the start gives up and stop() finishes the job.
    if (!stopping) throw err;
    return stopped;
  }
  const fronts = cluster.regions.map((r) => `${r.name}: ${r.frontend.host}:${r.frontend.port}`).join(', ');
  process.stderr.write(`[up] serving (${fronts}); Ctrl-C stops everything\n`);
  await stopped;
  process.stderr.write('[up] stopped\n');
}
