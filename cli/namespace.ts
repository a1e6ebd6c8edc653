// tandem namespace create|describe|list: a running frontend's namespaces, through the official client.
// The replication mode rides in Temporal's namespace data map (key tandem.replication), so any
// Temporal tool sets and shows it too.
import { Option, type Command } from 'commander';
import { durationFromMs, msFromDuration } from '../services/common/proto-time.js';
import { examples } from './help.js';
import { addressOption, durationMs, tlsCaOption } from './options.js';
import { withConnection, type Target } from './rpc.js';

function printNamespace(ns: { namespaceInfo?: any; config?: any; replicationConfig?: any; isGlobalNamespace?: boolean | null }) {
  const info = ns.namespaceInfo ?? {};
  console.log(
    JSON.stringify(
      {
        name: info.name,
        id: info.id,
        state: info.state,
        description: info.description,
        ownerEmail: info.ownerEmail,
        retention: `${Math.round(msFromDuration(ns.config?.workflowExecutionRetentionTtl) / 3_600_000)}h`,
        activeRegion: ns.replicationConfig?.activeClusterName,
        regions: (ns.replicationConfig?.clusters ?? []).map((c: { clusterName: string }) => c.clusterName),
        isGlobal: ns.isGlobalNamespace ?? false,
        replication: info.data?.[REPLICATION_KEY] ?? 'async',
        data: info.data ?? {},
      },
      null,
      2,
    ),
  );
}

const REPLICATION_KEY = 'tandem.replication';

interface CreateOptions extends Target {
  retention: number;
  description: string;
  ownerEmail: string;
  regions?: string[];
  replication?: 'async' | 'sync';
}

export function namespaceCommand(program: Command): void {
  const namespace = program.command('namespace').description("create, describe and list a running cluster's namespaces");
  examples(namespace, ['tandem namespace create orders --retention 72h', 'tandem namespace describe orders', 'tandem namespace list --address 127.0.0.1:7302']);

  const create = namespace
    .command('create')
    .description('register a namespace, then print it as JSON')
    .argument('<name>', 'the namespace')
    .addOption(new Option('--retention <duration>', 'how long closed workflows are kept (30s, 15m, 72h, 3d)').default(72 * 3_600_000, '72h').argParser(durationMs))
    .option('--description <text>', 'what the namespace is for', '')
    .option('--owner-email <email>', 'who owns it', '')
    .addOption(new Option('--regions <list>', 'a global namespace replicated to these regions (comma-separated), active in the first').argParser((v) => v.split(',').map((r) => r.trim()).filter(Boolean)))
    .addOption(new Option('--replication <mode>', 'sync: a write is acknowledged only once every standby region applied it (global namespaces; default async)').choices(['async', 'sync']))
    .addOption(addressOption())
    .addOption(tlsCaOption())
    .action((name: string, o: CreateOptions) =>
      withConnection(o, async (c) => {
        await c.workflowService.registerNamespace({
          namespace: name,
          description: o.description,
          ownerEmail: o.ownerEmail,
          workflowExecutionRetentionPeriod: durationFromMs(o.retention),
          ...(o.regions ? { isGlobalNamespace: true, clusters: o.regions.map((clusterName) => ({ clusterName })), activeClusterName: o.regions[0] } : {}),
          ...(o.replication ? { data: { [REPLICATION_KEY]: o.replication } } : {}),
        });
        printNamespace(await c.workflowService.describeNamespace({ namespace: name }));
      }),
    );
  examples(create, [
    'tandem namespace create orders --retention 72h',
    'tandem namespace create payments --retention 3d --owner-email ops@example.com',
    'tandem namespace create ledger --regions a,b --replication sync  # a forced failover loses nothing acknowledged',
  ]);

  const describe = namespace
    .command('describe')
    .description('print a namespace as JSON: state, retention, active region, regions, replication mode, data')
    .argument('<name>', 'the namespace')
    .addOption(addressOption())
    .addOption(tlsCaOption())
    .action((name: string, o: Target) =>
      withConnection(o, async (c) => printNamespace(await c.workflowService.describeNamespace({ namespace: name }))),
    );
  examples(describe, ['tandem namespace describe orders', 'tandem namespace describe default --address 127.0.0.1:7302  # as region b sees it']);

  const list = namespace
    .command('list')
    .description("print every namespace's name, one a line")
    .addOption(addressOption())
    .addOption(tlsCaOption())
    .action((o: Target) =>
      withConnection(o, async (c) => {
        let token: Uint8Array | undefined;
        do {
          const page = await c.workflowService.listNamespaces({ pageSize: 100, nextPageToken: token });
          for (const ns of page.namespaces ?? []) console.log(ns.namespaceInfo?.name);
          token = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
        } while (token);
      }),
    );
  examples(list, ['tandem namespace list', 'tandem namespace list --address 127.0.0.1:7301']);
}
