// tandem routes --topology FILE [--region a] [--json]
// The route registry in the topology's global Redis (DESIGN invariant 9): per namespace the region
// and frontend the global endpoint sends its calls to, the epoch, the TTL and whether a failover
// is switching it. Exit 1 when the global Redis does not answer.
import type { Command } from 'commander';
import { withGlobalRoutes, type RouteRecord } from '../deploy/processes/global-routes.js';
import { examples } from './help.js';
import { topologyOf, withTopologyOptions, type TopologyOptions } from './topology.js';

function table(routes: RouteRecord[]): string {
  const rows = [
    ['NAMESPACE', 'REGION', 'ENDPOINT', 'EPOCH', 'TTL', 'SWITCHING'],
    ...routes.map((r) => [r.namespace, r.region, r.endpoint, String(r.epoch), `${r.ttlMs}ms`, r.switching ? 'yes' : 'no']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

async function routes(o: TopologyOptions & { json: boolean }, command: Command): Promise<void> {
  const { topology } = topologyOf(o, command);
  let list: RouteRecord[];
  try {
    list = await withGlobalRoutes(topology, (routes) => routes.list());
  } catch (err) {
    throw new Error(`the global Redis ${topology.global.redis.host}:${topology.global.redis.port} does not answer (is tandem up running?): ${(err as Error).message}`);
  }
  const shown = list.filter((r) => !o.region || o.region.includes(r.region));
  console.log(o.json ? JSON.stringify(shown) : table(shown));
}

export function routesCommand(program: Command): void {
  const command = program.command('routes').description("list the route registry (the global Redis): each namespace's region, endpoint, epoch, TTL, switching");
  withTopologyOptions(command, 'only the routes to these regions').option('--json', 'print the records as one JSON array', false).action(routes);
  examples(command, ['tandem routes --topology deploy/local/two-regions.json', 'tandem routes --topology deploy/local/two-regions.json --region b --json']);
}
