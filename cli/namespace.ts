// tandem namespace create|describe|list: a running frontend's namespaces, through the official client.
import { Option, type Command } from 'commander';
import { durationFromMs, msFromDuration } from '../services/common/proto-time.js';
import { examples } from './help.js';
import { addressOption, durationMs } from './options.js';
import { withConnection } from './rpc.js';

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
      },
      null,
      2,
    ),
  );
}

interface CreateOptions {
  retention: number;
  description: string;
  ownerEmail: string;
  address: string;
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
    .addOption(addressOption())
    .action((name: string, o: CreateOptions) =>
      withConnection(o.address, async (c) => {
        await c.workflowService.registerNamespace({
          namespace: name,
          description: o.description,
          ownerEmail: o.ownerEmail,
          workflowExecutionRetentionPeriod: durationFromMs(o.retention),
        });
        printNamespace(await c.workflowService.describeNamespace({ namespace: name }));
      }),
    );
  examples(create, ['tandem namespace create orders --retention 72h', 'tandem namespace create payments --retention 3d --owner-email ops@example.com']);

  const describe = namespace
    .command('describe')
    .description('print a namespace as JSON: state, retention, active region, regions')
    .argument('<name>', 'the namespace')
    .addOption(addressOption())
    .action((name: string, o: { address: string }) =>
      withConnection(o.address, async (c) => printNamespace(await c.workflowService.describeNamespace({ namespace: name }))),
    );
  examples(describe, ['tandem namespace describe orders', 'tandem namespace describe default --address 127.0.0.1:7302  # as region b sees it']);

  const list = namespace
    .command('list')
    .description("print every namespace's name, one a line")
    .addOption(addressOption())
    .action((o: { address: string }) =>
      withConnection(o.address, async (c) => {
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
