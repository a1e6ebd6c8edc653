// tandem failover <namespace> --to <region> [--force] [--address 127.0.0.1:7233]
// Graceful (a drill): Temporal's own UpdateNamespace with the new active cluster, so it may be sent
// to either region (the frontend forwards it to the active one, which drains and switches). Forced
// (an outage, the active region gone): tandem.admin.v1 FailoverService on the region asked, which
// switches at once. Prints one JSON line: from, to, versions, mode, how long it took, and for a
// forced one the replication lag it lost as the region taking over measured it (lagTasks,
// lagSeconds; lagShardsUnknown shards not covered).
import os from 'node:os';
import type { Command } from 'commander';
import { FailoverServiceClient, type FailoverNamespaceResponse } from '../proto/gen/tandem/admin/v1/failover.js';
import { failoverLogCommand } from './failover-log.js';
import { examples } from './help.js';
import { addressOption, tlsCaOption, usageError } from './options.js';
import { apiKeyMetadata, atAddress, credentialsFor, unary, withConnection, type Target } from './rpc.js';

interface FailoverOptions extends Target {
  to?: string;
  force: boolean;
}

async function forced(target: Target, namespace: string, to: string): Promise<void> {
  const { address } = target;
  const client = new FailoverServiceClient(address, credentialsFor(target));
  const identity = `${os.userInfo().username}@${os.hostname()} (tandem failover --force)`;
  try {
    const r = await atAddress(address, () =>
      unary<FailoverNamespaceResponse>((cb) => client.failoverNamespace({ namespace, targetRegion: to, force: true, timeoutMs: 0n, identity }, apiKeyMetadata(), cb)),
    );
    const lag = r.lagTasks === undefined ? {} : { lagTasks: Number(r.lagTasks), lagSeconds: r.lagSeconds, lagShardsUnknown: r.lagShardsUnknown };
    console.log(JSON.stringify({ ...r, fromVersion: r.fromVersion.toString(), toVersion: r.toVersion.toString(), durationMs: Number(r.durationMs), ...lag }));
  } finally {
    client.close();
  }
}

function graceful(target: Target, namespace: string, to: string): Promise<void> {
  return withConnection(target, async (c) => {
    const before = await c.workflowService.describeNamespace({ namespace });
    const started = Date.now();
    const after = await c.workflowService.updateNamespace({ namespace, replicationConfig: { activeClusterName: to } });
    console.log(
      JSON.stringify({
        namespace,
        fromRegion: before.replicationConfig?.activeClusterName,
        toRegion: after.replicationConfig?.activeClusterName,
        fromVersion: String(before.failoverVersion),
        toVersion: String(after.failoverVersion),
        mode: 'graceful',
        durationMs: Date.now() - started,
      }),
    );
  });
}

export function failoverCommand(program: Command): void {
  const failover = program
    .command('failover')
    .description("make <region> a global namespace's active region and print the switch as one JSON line")
    .argument('<namespace>', 'the global namespace')
    // Not requiredOption: commander would ask `failover log` for it too.
    .option('--to <region>', 'the region to make active')
    .option('--force', 'an outage: switch at once in the region --address names, without waiting for the active one (default: graceful)', false)
    .addOption(addressOption('a frontend of either region (with --force: of the region taking over)'))
    .addOption(tlsCaOption())
    .action((namespace: string, o: FailoverOptions) => {
      if (!o.to) usageError(failover, "required option '--to <region>' not specified");
      return o.force ? forced(o, namespace, o.to) : graceful(o, namespace, o.to);
    });
  failoverLogCommand(failover);
  examples(failover, [
    'tandem failover default --to b  # graceful: handover, wait for replication, switch',
    'tandem failover default --to a  # and back',
    'tandem failover default --to b --force --address 127.0.0.1:7302  # an outage: b takes over at once',
  ]);
}
