// tandem dlq list|retry|purge [--shard N] [--task ID] [--limit 100] [--address 127.0.0.1:7233]
// The replication DLQ of the region whose frontend --address names (tandem.replication.v1
// ReplicationAdminService, served on the frontend's port).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ReplicationAdminServiceClient, type DlqEntry, type DlqSelector } from '../proto/gen/tandem/replication/v1/replication.js';
import { examples } from './help.js';
import { addressOption, count, tlsCaOption, usageError } from './options.js';
import { atAddress, credentialsFor, unary, type Target } from './rpc.js';

type Admin = InstanceType<typeof ReplicationAdminServiceClient>;

const LIST_LIMIT = 100;

interface DlqOptions extends Target {
  shard?: number;
  task?: bigint;
  /** list only. */
  limit?: number;
}

function taskId(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a DLQ task id (a non-negative integer).');
  return BigInt(value);
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

/** A dlq sub-verb: the selector options, then `run` against the region's admin service. */
function dlqVerb(dlq: Command, name: string, description: string, run: (admin: Admin, selector: DlqSelector, o: DlqOptions) => Promise<void>): Command {
  return dlq
    .command(name)
    .description(description)
    .addOption(new Option('--shard <n>', 'only this shard').argParser(count))
    .addOption(new Option('--task <id>', 'only this DLQ task of --shard (task ids are per shard)').argParser(taskId))
    .addOption(addressOption('a frontend of the region whose DLQ to work on'))
    .addOption(tlsCaOption())
    .action(async (o: DlqOptions, command: Command) => {
      if (o.task !== undefined && o.shard === undefined) usageError(command, '--task needs --shard (DLQ task ids are per shard)');
      const admin: Admin = new ReplicationAdminServiceClient(o.address, credentialsFor(o));
      try {
        await atAddress(o.address, () => run(admin, { shardId: o.shard, dlqTaskId: o.task }, o));
      } finally {
        admin.close();
      }
    });
}

export function dlqCommand(program: Command): void {
  const dlq = program.command('dlq').description("a region's replication DLQ: the replication tasks that failed to apply, parked per shard");
  examples(dlq, ['tandem dlq list --address 127.0.0.1:7302', 'tandem dlq retry --shard 3 --address 127.0.0.1:7302', 'tandem dlq purge --shard 3 --task 17 --address 127.0.0.1:7302']);

  const list = dlqVerb(dlq, 'list', 'print the parked tasks, one JSON line each', async (admin, selector, o) => {
    const res = await unary<{ entries: DlqEntry[] }>((cb) => admin.listDlq({ selector, limit: o.limit ?? LIST_LIMIT }, cb));
    for (const e of res.entries) printEntry(e);
  }).addOption(new Option('--limit <n>', 'at most this many tasks').default(LIST_LIMIT).argParser(count));
  examples(list, ['tandem dlq list --address 127.0.0.1:7302', 'tandem dlq list --shard 3 --limit 10']);

  const retry = dlqVerb(dlq, 'retry', 'apply the parked tasks again; print how many applied and failed', async (admin, selector) => {
    console.log(JSON.stringify(await unary<{ applied: number; failed: number }>((cb) => admin.retryDlq({ selector }, cb))));
  });
  examples(retry, ['tandem dlq retry --address 127.0.0.1:7302', 'tandem dlq retry --shard 3 --task 17']);

  const purge = dlqVerb(dlq, 'purge', 'drop the parked tasks; print how many', async (admin, selector) => {
    console.log(JSON.stringify(await unary<{ purged: number }>((cb) => admin.purgeDlq({ selector }, cb))));
  });
  examples(purge, ['tandem dlq purge --shard 3 --address 127.0.0.1:7302', 'tandem dlq purge --shard 3 --task 17']);
}
