// tandem status --topology FILE [--region a] [--json]  (exit code 3: a region is unhealthy)
// Every region's stores and processes (up when their /metrics answers), what each history node
// says it owns (tandem_history_shards_owned), and who the store says owns each shard (the shard
// row's owner: the last node that bumped its range_id, i.e. the only one whose writes land); the
// replication lag from the region to each other one (its history nodes' senders: the worst shard's
// seconds, the tasks not acknowledged); with several regions, the global endpoint's routes.
import type { Command } from 'commander';
import { cqlAnswers } from '../deploy/cassandra/launcher.js';
import { scrape } from '../deploy/processes/node-process.js';
import { parsePrometheusText, sumSamples } from '../deploy/processes/prom-text.js';
import { redisAnswers } from '../deploy/redis/launcher.js';
import { withGlobalRoutes, type RouteRecord } from '../deploy/processes/global-routes.js';
import { regionNodes, type RegionSpec, type Service, type Topology } from '../deploy/topology.js';
import { LAG_SECONDS, LAG_TASKS, lagFromSamples, type LagSample } from '../services/controller/replication-lag.js';
import { CassandraPersistence } from '../services/persistence/cassandra/index.js';
import { createClient } from '../services/persistence/cassandra/db.js';
import { examples } from './help.js';
import { topologyOf, withTopologyOptions, type TopologyOptions } from './topology.js';

/** `tandem status`'s exit code when a region it looked at is unhealthy (the report is still printed). */
export const UNHEALTHY = 3;

export interface NodeStatus {
  id: string;
  service: Service;
  address: string;
  up: boolean;
  /** History nodes: shards the node says it owns. */
  shardsOwned?: number;
  /** Matching nodes: tasks waiting in loaded queues. */
  backlog?: number;
  /** History nodes: their senders' lag gauges. */
  lag?: { seconds: LagSample[]; tasks: LagSample[] };
}

/** Replication from this region to `target`. */
export interface LagStatus {
  target: string;
  tasks: number;
  seconds: number;
}

export interface RegionStatus {
  region: string;
  cassandra: { address: string; up: boolean };
  redis: { address: string; up: boolean };
  nodes: NodeStatus[];
  /** shard id -> owner node id from the shard rows; null when the store could not be read. */
  shardOwners: Map<number, string> | null;
  replication: LagStatus[];
  healthy: boolean;
  problems: string[];
}

async function nodeStatus(service: Service, node: RegionSpec['history'][number]): Promise<NodeStatus> {
  const host = node.host === '0.0.0.0' ? '127.0.0.1' : node.host;
  const text = await scrape(`http://${host}:${node.metricsPort}/metrics`);
  const s: NodeStatus = { id: node.id, service, address: `${node.host}:${node.port}`, up: text !== null };
  if (text === null) return s;
  const metrics = parsePrometheusText(text);
  if (service === 'history') {
    s.shardsOwned = sumSamples(metrics, 'tandem_history_shards_owned');
    s.lag = { seconds: metrics.get(LAG_SECONDS)?.samples ?? [], tasks: metrics.get(LAG_TASKS)?.samples ?? [] };
  }
  if (service === 'matching') s.backlog = sumSamples(metrics, 'tandem_matching_backlog_tasks');
  return s;
}

/** Owner of every shard per the store; null when the keyspace cannot be read. */
export async function shardOwners(r: RegionSpec, numShards: number): Promise<Map<number, string> | null> {
  const client = createClient({ contactPoints: r.cassandra.contactPoints, localDataCenter: r.cassandra.dataCenter });
  try {
    await client.connect();
    const store = new CassandraPersistence(client, r.cassandra.keyspace);
    const owners = new Map<number, string>();
    const rows = await Promise.all(Array.from({ length: numShards }, (_, id) => store.shards.getShard(id)));
    for (const row of rows) if (row) owners.set(row.shardId, row.owner);
    return owners;
  } catch {
    return null;
  } finally {
    await client.shutdown().catch(() => {});
  }
}

export async function regionStatus(r: RegionSpec, numShards: number): Promise<RegionStatus> {
  const [cassandraUp, redisUp, nodes, owners] = await Promise.all([
    (async () => {
      const [host, port] = r.cassandra.contactPoints[0]!.split(':');
      return cqlAnswers(host!, Number(port ?? 9042));
    })(),
    redisAnswers(r.redis.host, r.redis.port),
    Promise.all(regionNodes(r).map(({ service, node }) => nodeStatus(service, node))),
    shardOwners(r, numShards),
  ]);
  const problems: string[] = [];
  if (!cassandraUp) problems.push('cassandra does not answer');
  if (!redisUp) problems.push('redis does not answer');
  for (const n of nodes) if (!n.up) problems.push(`${n.id} is down`);
  const history = nodes.filter((n) => n.service === 'history' && n.up);
  const claimed = history.reduce((a, n) => a + (n.shardsOwned ?? 0), 0);
  if (history.length > 0 && claimed !== numShards) problems.push(`history nodes own ${claimed} of ${numShards} shards`);
  if (owners) {
    const live = new Set(history.map((n) => n.id));
    const orphaned = [...Array(numShards).keys()].filter((id) => !live.has(owners.get(id) ?? ''));
    if (orphaned.length > 0) problems.push(`shards whose last owner is not up: ${orphaned.join(' ')}`);
  } else problems.push('cannot read the shard rows');
  return {
    region: r.name,
    cassandra: { address: r.cassandra.contactPoints.join(','), up: cassandraUp },
    redis: { address: `${r.redis.host}:${r.redis.port}`, up: redisUp },
    nodes,
    shardOwners: owners,
    replication: lagFromSamples(
      history.flatMap((n) => n.lag?.seconds ?? []),
      history.flatMap((n) => n.lag?.tasks ?? []),
      r.name,
    ),
    healthy: problems.length === 0,
    problems,
  };
}

function render(s: RegionStatus): string {
  const mark = (up: boolean) => (up ? 'up  ' : 'DOWN');
  const lines = [`region ${s.region}: ${s.healthy ? 'healthy' : `UNHEALTHY (${s.problems.join('; ')})`}`];
  lines.push(`  ${mark(s.cassandra.up)} cassandra        ${s.cassandra.address}`);
  lines.push(`  ${mark(s.redis.up)} redis            ${s.redis.address}`);
  for (const n of s.nodes) {
    let extra = '';
    if (n.service === 'history') {
      const rows = s.shardOwners ? [...s.shardOwners].filter(([, o]) => o === n.id).map(([id]) => id) : [];
      extra = n.up ? `owns ${n.shardsOwned} shards` : '';
      if (s.shardOwners) extra += ` [store: ${rows.join(' ') || '-'}]`;
    }
    if (n.service === 'matching' && n.up) extra = `backlog ${n.backlog}`;
    lines.push(`  ${mark(n.up)} ${n.service.padEnd(8)} ${n.id.padEnd(16)} ${n.address.padEnd(22)} ${extra}`.trimEnd());
  }
  for (const l of s.replication) lines.push(`  replication to ${l.target}: lag ${l.seconds.toFixed(3)} s, ${l.tasks} tasks not acknowledged`);
  return lines.join('\n');
}

/** The global endpoint's routes, or why they could not be read; none with one region. */
async function globalRoutes(topology: Topology): Promise<RouteRecord[] | string | undefined> {
  if (topology.regions.length < 2) return undefined;
  return withGlobalRoutes(topology, (routes) => routes.list()).catch((err: unknown) => `the global Redis does not answer: ${(err as Error).message}`);
}

function renderRoutes(routes: RouteRecord[] | string): string {
  if (typeof routes === 'string') return `routes: ${routes}`;
  return ['routes (global endpoint):', ...routes.map((r) => `  ${r.namespace} -> ${r.region} (${r.endpoint}) epoch ${r.epoch}${r.switching ? ' SWITCHING' : ''}`)].join('\n');
}

async function status(o: TopologyOptions & { json: boolean }, command: Command): Promise<void> {
  const { topology, regions } = topologyOf(o, command);
  const [all, routes] = await Promise.all([Promise.all(regions.map((r) => regionStatus(r, topology.cluster.numShards))), globalRoutes(topology)]);
  if (o.json) {
    const json = all.map(({ nodes, ...s }) => ({ ...s, nodes: nodes.map(({ lag: _, ...n }) => n), shardOwners: s.shardOwners && Object.fromEntries(s.shardOwners) }));
    console.log(JSON.stringify(routes === undefined ? json : { regions: json, routes }, null, 2));
  } else {
    console.log([...all.map(render), ...(routes === undefined ? [] : [renderRoutes(routes)])].join('\n\n'));
  }
  if (all.some((s) => !s.healthy)) process.exitCode = UNHEALTHY;
}

export function statusCommand(program: Command): void {
  const command = program
    .command('status')
    .description(`every region's stores and processes, the shards each history node owns, replication lag, the global routes, and health (exit code ${UNHEALTHY} when a region is unhealthy)`);
  withTopologyOptions(command, 'look only at these regions').option('--json', 'print the report as JSON', false).action(status);
  examples(command, ['tandem status --topology deploy/local/one-region.json', 'tandem status --topology deploy/local/two-regions.json --region b --json']);
}
