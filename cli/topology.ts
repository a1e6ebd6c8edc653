// The topology file `tandem up` and `tandem status` work on: --topology FILE and --region a,b,
// checked against each other before anything starts.
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadTopology, TopologyError, type RegionSpec, type Topology } from '../deploy/topology.js';
import { usageError } from './options.js';

export interface TopologyOptions {
  topology: string;
  region?: string[];
}

function names(value: string): string[] {
  const list = value.split(',').map((s) => s.trim());
  if (list.some((s) => s === '')) throw new InvalidArgumentError('must be region names separated by commas.');
  return list;
}

/** --topology FILE (required) and --region a,b (`what` says what the regions are picked for). */
export function withTopologyOptions(command: Command, what: string): Command {
  return command
    .addOption(new Option('--topology <file>', 'the topology file, e.g. deploy/local/one-region.json').argParser((file) => path.resolve(file)).makeOptionMandatory())
    .addOption(new Option('--region <names>', `${what} (names separated by commas; default every region)`).argParser(names));
}

/** The parsed topology and the regions --region picks; a bad file or an unknown region is a usage error. */
export function topologyOf(o: TopologyOptions, command: Command): { topology: Topology; regions: RegionSpec[] } {
  let topology: Topology;
  try {
    topology = loadTopology(o.topology);
  } catch (err) {
    if (err instanceof TopologyError) usageError(command, err.message);
    throw err;
  }
  const known = topology.regions.map((r) => r.name);
  for (const r of o.region ?? []) if (!known.includes(r)) usageError(command, `no region ${r} in ${o.topology} (it has ${known.join(', ')})`);
  return { topology, regions: topology.regions.filter((r) => !o.region || o.region.includes(r.name)) };
}
