// tandem failover log [--regions a=host:port,b=host:port | --topology FILE] [--namespace NS] [--limit N] [--json]
// Every region's failover audit (tandem.admin.v1 FailoverAuditService, what each region's
// coordinator wrote: operators, drills, the failover controller), merged newest first. A region
// that does not answer is named on stderr; the others are still listed.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { frontendDialAddress, loadTopology, regionClientTls, topologyAdminKey } from '../deploy/topology.js';
import type { ClientTlsFiles } from '../services/common/tls.js';
import { auditView, describeError, RegionClient } from '../services/controller/region-client.js';
import { examples } from './help.js';
import { positive } from './options.js';
import { API_KEY_ENV } from './rpc.js';

/** make dev's regions (deploy/processes/dev-regions.ts). */
const DEV_REGIONS = 'a=127.0.0.1:7301,b=127.0.0.1:7302';
const CALL_TIMEOUT_MS = 5_000;

function regionList(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    const m = /^([^=]+)=(.+:\d+)$/.exec(part.trim());
    if (!m) throw new InvalidArgumentError('must be region=host:port pairs separated by commas, e.g. a=127.0.0.1:7301,b=127.0.0.1:7302.');
    out[m[1]!] = m[2]!;
  }
  return out;
}

export interface RegionsOptions {
  regions: Record<string, string>;
  topology?: string;
}

/** --regions a=host:port,... (default make dev's) or --topology FILE (its regions' frontends). */
export function withRegionsOptions(command: Command): Command {
  return command
    .addOption(new Option('--regions <list>', "each region's frontend, region=host:port separated by commas").default(regionList(DEV_REGIONS), DEV_REGIONS).argParser(regionList))
    .addOption(new Option('--topology <file>', "the topology file whose regions' frontends to use (instead of --regions)"));
}

/**
 * Each region's frontend (host:port), with TLS in the topology the CA they are checked against,
 * and the key to call with: $TANDEM_API_KEY, else the topology's admin key when it has auth.
 */
export function regionTargets(o: RegionsOptions): { endpoints: Record<string, string>; tls?: ClientTlsFiles; apiKey?: string } {
  const envKey = process.env[API_KEY_ENV] || undefined;
  if (!o.topology) return { endpoints: o.regions, apiKey: envKey };
  const topology = loadTopology(o.topology);
  return {
    endpoints: Object.fromEntries(topology.regions.map((r) => [r.name, frontendDialAddress(r)])),
    tls: regionClientTls(topology.global.endpoint.tls),
    apiKey: envKey ?? topologyAdminKey(topology),
  };
}

/** One client per region, from the options (regionTargets); the caller closes them. */
export function regionClients(o: RegionsOptions): Map<string, RegionClient> {
  const { endpoints, tls, apiKey } = regionTargets(o);
  return new Map(Object.entries(endpoints).map(([name, endpoint]) => [name, new RegionClient(name, endpoint, { tls, apiKey })]));
}

interface LogOptions extends RegionsOptions {
  namespace?: string;
  limit: number;
  json: boolean;
}

async function printLog(o: LogOptions): Promise<void> {
  const clients = regionClients(o);
  try {
    const lists = await Promise.all(
      [...clients.values()].map((c) =>
        c.audit(o.limit, CALL_TIMEOUT_MS, o.namespace ?? '').then(
          (entries) => entries.map((e) => ({ region: c.region, ...auditView(e) })),
          (err: unknown) => {
            console.error(`tandem: region ${c.region} (${c.endpoint}) not read: ${describeError(err)}`);
            return [];
          },
        ),
      ),
    );
    const entries = lists
      .flat()
      .sort((a, b) => b.startedAtMs - a.startedAtMs)
      .slice(0, o.limit);
    if (o.json) {
      console.log(JSON.stringify(entries, null, 2));
      return;
    }
    const rows = entries.map((e) => [
      new Date(e.startedAtMs).toISOString(),
      e.namespace,
      `${e.fromRegion} -> ${e.toRegion}`,
      e.mode,
      e.outcome,
      `${e.finishedAtMs - e.startedAtMs} ms`,
      e.lagSeconds === undefined ? '' : `${e.lagSeconds.toFixed(3)} s / ${e.lagTasks} tasks`,
      e.region,
      e.identity,
      e.message,
    ]);
    const header = ['STARTED', 'NAMESPACE', 'FROM -> TO', 'MODE', 'OUTCOME', 'TOOK', 'LAG (RPO)', 'AUDITED IN', 'IDENTITY', 'MESSAGE'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [header, ...rows]) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
  }
}

/** `log` under `tandem failover`. */
export function failoverLogCommand(failover: Command): void {
  const log = withRegionsOptions(
    failover
      .command('log')
      .description("every region's failover audit (who failed what over, when, how, and the lag a forced one lost), newest first"),
  )
    .option('--namespace <name>', "only this namespace's failovers")
    .addOption(new Option('--limit <n>', 'at most this many entries').default(50).argParser(positive))
    .option('--json', 'print JSON instead of a table', false)
    .action((o: LogOptions) => printLog(o));
  examples(log, [
    'tandem failover log  # make dev: regions a and b',
    'tandem failover log --topology deploy/local/two-regions.json --namespace default --json',
  ]);
}
