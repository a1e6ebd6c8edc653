// tandem dlq list|retry|purge [--shard N] [--task ID] [--limit 100] [--address 127.0.0.1:7233]
// The replication DLQ of the region whose frontend --address names (tandem.replication.v1
// ReplicationAdminService, served on the frontend's port).
import * as grpc from '@grpc/grpc-js';
import { ReplicationAdminServiceClient, type DlqEntry, type DlqSelector } from '../proto/gen/tandem/replication/v1/replication.js';
import { flag, intFlag, UsageError, type ParsedArgs } from './args.js';

type Admin = InstanceType<typeof ReplicationAdminServiceClient>;

function selectorOf(args: ParsedArgs): DlqSelector {
  const shard = args.flags.get('shard');
  const task = args.flags.get('task');
  if (task !== undefined && shard === undefined) throw new UsageError('--task needs --shard (DLQ task ids are per shard)');
  return {
    shardId: shard === undefined ? undefined : intFlag(args, 'shard', 0),
    dlqTaskId: typeof task === 'string' ? BigInt(task) : undefined,
  };
}

function unary<Res>(call: (cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => call((err, res) => (err ? reject(err) : resolve(res))));
}

function printEntry(e: DlqEntry): void {
  console.log(
    JSON.stringify({
      shard: e.shardId,
      task: e.dlqTaskId.toString(),
      source: e.sourceRegion,
      sourceTask: e.sourceTaskId.toString(),
      namespaceId: e.namespaceId,
      workflowId: e.workflowId,
      runId: e.runId,
      events: `[${e.firstEventId}, ${e.nextEventId})`,
      version: e.version,
      attempts: e.attempts,
      error: e.lastError,
      failedAt: new Date(Number(e.failedTimeMs)).toISOString(),
    }),
  );
}

export async function dlq(args: ParsedArgs): Promise<void> {
  const sub = args.positional[1];
  const selector = selectorOf(args);
  const admin: Admin = new ReplicationAdminServiceClient(flag(args, 'address', '127.0.0.1:7233'), grpc.credentials.createInsecure());
  try {
    switch (sub) {
      case 'list': {
        const res = await unary<{ entries: DlqEntry[] }>((cb) => admin.listDlq({ selector, limit: intFlag(args, 'limit', 100) }, cb));
        for (const e of res.entries) printEntry(e);
        return;
      }
      case 'retry': {
        const res = await unary<{ applied: number; failed: number }>((cb) => admin.retryDlq({ selector }, cb));
        console.log(JSON.stringify(res));
        return;
      }
      case 'purge': {
        const res = await unary<{ purged: number }>((cb) => admin.purgeDlq({ selector }, cb));
        console.log(JSON.stringify(res));
        return;
      }
      default:
        throw new UsageError(`unknown dlq command ${sub ?? ''}`);
    }
  } finally {
    admin.close();
  }
}
