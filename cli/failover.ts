// tandem failover <namespace> --to <region> [--force] [--address 127.0.0.1:7233]
// Graceful (a drill): Temporal's own UpdateNamespace with the new active cluster, so it may be sent
// to either region (the frontend forwards it to the active one, which drains and switches). Forced
// (an outage, the active region gone): tandem.admin.v1 FailoverService on the region asked, which
// switches at once. Prints one JSON line: from, to, versions, mode, how long it took.
import os from 'node:os';
import * as grpc from '@grpc/grpc-js';
import type { Connection } from '@temporalio/client';
import { FailoverServiceClient, type FailoverNamespaceResponse } from '../proto/gen/tandem/admin/v1/failover.js';
import { flag, UsageError, type ParsedArgs } from './args.js';

type WithConnection = <T>(args: ParsedArgs, fn: (c: Connection) => Promise<T>) => Promise<T>;

function forced(address: string, namespace: string, to: string): Promise<FailoverNamespaceResponse> {
  const client = new FailoverServiceClient(address, grpc.credentials.createInsecure());
  const identity = `${os.userInfo().username}@${os.hostname()} (tandem failover --force)`;
  return new Promise<FailoverNamespaceResponse>((resolve, reject) =>
    client.failoverNamespace({ namespace, targetRegion: to, force: true, timeoutMs: 0n, identity }, (err, res) => (err ? reject(err) : resolve(res))),
  ).finally(() => client.close());
}

export async function failover(args: ParsedArgs, withConnection: WithConnection): Promise<void> {
  const namespace = args.positional[1];
  const to = flag(args, 'to', '');
  if (!namespace) throw new UsageError('failover needs a namespace');
  if (!to) throw new UsageError('failover needs --to <region>');
  if (args.flags.get('force') === true) {
    const r = await forced(flag(args, 'address', '127.0.0.1:7233'), namespace, to);
    console.log(JSON.stringify({ ...r, fromVersion: r.fromVersion.toString(), toVersion: r.toVersion.toString(), durationMs: Number(r.durationMs) }));
    return;
  }
  await withConnection(args, async (c) => {
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
