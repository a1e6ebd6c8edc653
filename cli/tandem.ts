// tandem: run the embedded cluster and manage namespaces.
import { Connection } from '@temporalio/client';
import { durationFromMs, msFromDuration } from '../services/common/proto-time.js';
import { durationFlagMs, flag, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { up } from './up.js';
import { status } from './status.js';
import { dlq } from './dlq.js';
import { failover } from './failover.js';
import { dev, devUsage } from './dev.js';

const usage = `usage:
  ${devUsage}
  tandem namespace create <name> [--retention 72h] [--description text] [--owner-email e] [--address 127.0.0.1:7233]
  tandem namespace describe <name> [--address 127.0.0.1:7233]
  tandem namespace list [--address 127.0.0.1:7233]
  tandem up --topology deploy/local/one-region.json      every service of every region as its own process
  tandem status --topology deploy/local/one-region.json  processes, shard ownership and health
  tandem failover <namespace> --to <region> [--force] [--address 127.0.0.1:7233]
                                                        graceful (UpdateNamespace, either region) or forced (the region asked)
  tandem dlq list|retry|purge [--shard N [--task ID]] [--limit 100] [--address 127.0.0.1:7233]
                                                         the region's replication DLQ`;

async function withConnection<T>(args: ParsedArgs, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: flag(args, 'address', '127.0.0.1:7233') });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

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

async function namespace(args: ParsedArgs): Promise<void> {
  const [, sub, name] = args.positional;
  switch (sub) {
    case 'create': {
      if (!name) throw new UsageError('namespace create needs a name');
      const retentionMs = durationFlagMs(args, 'retention') ?? 72 * 3_600_000;
      await withConnection(args, async (c) => {
        await c.workflowService.registerNamespace({
          namespace: name,
          description: flag(args, 'description', ''),
          ownerEmail: flag(args, 'owner-email', ''),
          workflowExecutionRetentionPeriod: durationFromMs(retentionMs),
        });
        printNamespace(await c.workflowService.describeNamespace({ namespace: name }));
      });
      return;
    }
    case 'describe':
      if (!name) throw new UsageError('namespace describe needs a name');
      await withConnection(args, async (c) => printNamespace(await c.workflowService.describeNamespace({ namespace: name })));
      return;
    case 'list':
      await withConnection(args, async (c) => {
        let token: Uint8Array | undefined;
        do {
          const page = await c.workflowService.listNamespaces({ pageSize: 100, nextPageToken: token });
          for (const ns of page.namespaces ?? []) console.log(ns.namespaceInfo?.name);
          token = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
        } while (token);
      });
      return;
    default:
      throw new UsageError(`unknown namespace command ${sub ?? ''}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  switch (args.positional[0]) {
    case 'dev':
      return dev(args);
    case 'namespace':
      return namespace(args);
    case 'up':
      return up(args);
    case 'status':
      return status(args);
    case 'dlq':
      return dlq(args);
    case 'failover':
      return failover(args, withConnection);
    default:
      throw new UsageError(args.positional[0] ? `unknown command ${args.positional[0]}` : 'no command');
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`tandem: ${err.message}\n${usage}`);
    process.exit(2);
  }
  const e = err as { details?: string; message?: string };
  console.error(`tandem: ${e.details ?? e.message ?? String(err)}`);
  process.exit(1);
});
