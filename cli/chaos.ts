// tandem chaos kill-region|revive-region|partition|heal|kill-node ... --topology FILE
// Failure drills against a topology `tandem up` runs (deploy/chaos/actions.ts): one line per thing
// done. A region or node the topology does not have fails the command (exit 1), like any refused
// operation; a bad or missing --topology is a usage error (exit 2).
import path from 'node:path';
import { Option, type Command } from 'commander';
import { heal, killNode, killRegion, partition, reviveRegion } from '../deploy/chaos/actions.js';
import { RunState } from '../deploy/chaos/run-state.js';
import type { Topology } from '../deploy/topology.js';
import { examples } from './help.js';
import { topologyOf } from './topology.js';

interface ChaosOptions {
  topology: string;
}

type Action = (t: Topology, state: RunState, ...args: string[]) => Promise<string[]>;

/** Runs an action against the topology of --topology. */
function run(action: Action) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params.at(-1) as Command;
    const args = params.slice(0, -2) as string[];
    const o = command.opts<ChaosOptions>();
    const { topology } = topologyOf({ topology: o.topology }, command);
    for (const line of await action(topology, new RunState(o.topology), ...args)) console.log(line);
  };
}

export function chaosCommand(program: Command): void {
  const chaos = program
    .command('chaos')
    .description('failure drills against a topology `tandem up` runs: kill and revive regions and nodes, partition regions');
  examples(chaos, [
    'tandem chaos kill-region b --topology deploy/local/two-regions.json  # SIGKILL every process of b, its Cassandra and Redis',
    'tandem chaos partition a b --topology deploy/local/two-regions.json  # cut the links between a and b',
  ]);
  const verb = (name: string, description: string, args: [string, string][], action: Action, example: string) => {
    const c = chaos.command(name).description(description);
    for (const [arg, what] of args) c.argument(arg, what);
    c.addOption(new Option('--topology <file>', 'the topology file `tandem up` runs').argParser((file) => path.resolve(file)).makeOptionMandatory());
    c.action(run(action));
    examples(c, [`tandem chaos ${example} --topology deploy/local/two-regions.json`]);
  };
  verb('kill-region', "SIGKILL every process of the region, its Cassandra and Redis included (when `tandem up` manages them)", [['<region>', 'region name']], (t, s, r) => killRegion(t, s, r!), 'kill-region b');
  verb('revive-region', 'start again what of the region is down: same ports, same data (asks the running `tandem up`)', [['<region>', 'region name']], (t, s, r) => reviveRegion(t, s, r!), 'revive-region b');
  verb(
    'partition',
    'cut the links between two regions (topology global.links): every connection dropped, new ones refused',
    [
      ['<region1>', 'region name'],
      ['<region2>', 'region name'],
    ],
    (t, _s, r1, r2) => partition(t, r1!, r2!),
    'partition a b',
  );
  verb('heal', 'heal every link of the topology', [], (t) => heal(t), 'heal');
  verb(
    'kill-node',
    'SIGKILL one process of a region (frontend, matching or history node)',
    [
      ['<region>', 'region name'],
      ['<node-id>', 'node id, e.g. b-history-2'],
    ],
    (t, s, r, id) => killNode(t, s, r!, id!),
    'kill-node b b-history-2',
  );
}
