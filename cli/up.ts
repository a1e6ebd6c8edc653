// tandem up --topology deploy/local/one-region.json [--region a] [--log-level info]
// Runs a topology on this machine (see deploy/processes/local-cluster.ts) until Ctrl-C/SIGTERM,
// with every process's output prefixed by its id. With every region (no --region) it runs the
// global control plane too (global Redis, router, links) and serves `tandem chaos`.
import type { Command } from 'commander';
import { LocalCluster, ROUTER_ID } from '../deploy/processes/local-cluster.js';
import { examples } from './help.js';
import { logLevelOption } from './options.js';
import { topologyOf, withTopologyOptions, type TopologyOptions } from './topology.js';

async function up(o: TopologyOptions & { logLevel: string }, command: Command): Promise<void> {
  const { topology } = topologyOf(o, command);
  const ids = [...topology.regions.flatMap((r) => [r.frontend, ...r.matching, ...r.history]).map((n) => n.id), ...topology.global.links.map((l) => l.id), ROUTER_ID];
  const width = Math.max(...ids.map((id) => id.length));
  const everyRegion = !o.region;
  const cluster = new LocalCluster({
    topologyFile: o.topology,
    topology,
    regions: o.region,
    global: everyRegion,
    control: true,
    logLevel: o.logLevel,
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
  const e = topology.global.endpoint;
  const fronts = [...cluster.regions.map((r) => `${r.name}: ${r.frontend.host}:${r.frontend.port}`), ...(everyRegion ? [`global endpoint: ${e.host}:${e.port}`] : [])].join(', ');
  process.stderr.write(`[up] serving (${fronts}); Ctrl-C stops everything\n`);
  await stopped;
  process.stderr.write('[up] stopped\n');
}

export function upCommand(program: Command): void {
  const command = program
    .command('up')
    .description(
      'run every service of every region of a topology as its own process (and its Cassandra and Redis), the links between regions and, with every region, the global endpoint and its Redis, until Ctrl-C',
    );
  withTopologyOptions(command, 'run only these regions').addOption(logLevelOption()).action(up);
  examples(command, [
    'tandem up --topology deploy/local/one-region.json  # Cassandra, Redis, 3 history, matching, frontend on :7301',
    'tandem up --topology deploy/local/two-regions.json  # two regions, the links between them, the global endpoint on :7233',
    'tandem up --topology deploy/local/two-regions.json --region a  # region a alone (no global endpoint)',
  ]);
}
