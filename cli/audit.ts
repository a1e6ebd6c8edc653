// tandem audit [--regions a=host:port,... | --topology FILE] [--limit N] [--json]
// Every region's auth audit log (tandem.admin.v1.IdentityService ListAuthAudit: management calls,
// namespace changes, failovers, terminations, with who asked and whether it was allowed), merged
// newest first. Each region keeps its own log (a call is audited where it was served); a region
// that does not answer is named on stderr and the others are still listed.
import { Option, type Command } from 'commander';
import type { AuthAuditEntry, ListAuthAuditResponse } from '../proto/gen/tandem/admin/v1/identity.js';
import { regionTargets, withRegionsOptions, type RegionsOptions } from './failover-log.js';
import { examples } from './help.js';
import { identityCall, printTable } from './identity-rpc.js';
import { API_KEY_ENV } from './rpc.js';
import { positive } from './options.js';

interface AuditOptions extends RegionsOptions {
  apiKey?: string;
  limit: number;
  json: boolean;
}

async function printAudit(o: AuditOptions): Promise<void> {
  const { endpoints, tls, apiKey } = regionTargets(o);
  const lists = await Promise.all(
    Object.entries(endpoints).map(([region, address]) =>
      identityCall<ListAuthAuditResponse>({ address, apiKey: o.apiKey ?? apiKey, tlsCa: tls?.caFile }, (c, m, cb) => c.listAuthAudit({ limit: o.limit }, m, cb)).then(
        (r) => r.entries.map((e: AuthAuditEntry) => ({ region, at: Number(e.atMs), identity: e.identity, action: e.action, target: e.target, outcome: e.outcome, message: e.message })),
        (err: unknown) => {
          console.error(`tandem: region ${region} (${address}) not read: ${err instanceof Error ? err.message : String(err)}`);
          return [];
        },
      ),
    ),
  );
  const entries = lists
    .flat()
    .sort((a, b) => b.at - a.at)
    .slice(0, o.limit);
  if (o.json) {
    console.log(JSON.stringify(entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })), null, 2));
    return;
  }
  printTable(
    ['AT', 'REGION', 'IDENTITY', 'ACTION', 'TARGET', 'OUTCOME', 'MESSAGE'],
    entries.map((e) => [new Date(e.at).toISOString(), e.region, e.identity, e.action, e.target, e.outcome, e.message]),
  );
}

export function auditCommand(program: Command): void {
  const audit = withRegionsOptions(program.command('audit').description("every region's audit log: who managed users and keys, changed or failed over namespaces, terminated workflows; newest first"))
    .addOption(new Option('--api-key <key>', "an account admin's API key (when the cluster runs with auth)").env(API_KEY_ENV))
    .addOption(new Option('--limit <n>', 'at most this many entries').default(50).argParser(positive))
    .option('--json', 'print JSON instead of a table', false)
    .action((o: AuditOptions) => printAudit(o));
  examples(audit, ['tandem audit --api-key $ADMIN_KEY  # make dev: regions a and b', 'tandem audit --topology deploy/local/two-regions.json --limit 200 --json']);
}
