// The DLQ admin a region of separate processes serves on its frontend's port: each verb goes to
// the history nodes, each of which answers for the shards it owns (owned-dlq-admin.ts): one shard's
// owner when the selector names a shard, every live history node otherwise, the answers merged.
// A shard that is between owners at that moment is missed by a verb over every shard; ask again.
import type { Service } from '../services/common/lifecycle.js';
import type { Logger } from '../services/common/logger.js';
import type { Membership } from '../services/membership/membership.js';
import { shardOwner } from '../services/membership/rendezvous.js';
import { RemoteService, type Route } from '../services/rpc/remote-service.js';
import {
  ReplicationAdminServiceService,
  type DlqSelector,
  type ListDlqResponse,
  type PurgeDlqResponse,
  type RetryDlqResponse,
} from '../proto/gen/tandem/replication/v1/replication.js';
import type { DlqAdmin } from './grpc-services.js';

export class DlqFanout implements DlqAdmin, Service {
  private readonly remote: RemoteService<typeof ReplicationAdminServiceService>;

  constructor(membership: Membership, logger: Logger) {
    this.remote = new RemoteService('history', ReplicationAdminServiceService, membership, undefined, logger.child({ component: 'replication-dlq' }));
  }

  start(): Promise<void> {
    return this.remote.start();
  }

  stop(): Promise<void> {
    return this.remote.stop();
  }

  async listDlq(selector: DlqSelector | undefined, limit: number): Promise<ListDlqResponse> {
    const answers = await this.toOwners(selector, (route) => this.remote.call('listDlq', { selector, limit }, route));
    const entries = answers.flatMap((a) => a.entries);
    entries.sort((x, y) => x.shardId - y.shardId || (x.dlqTaskId < y.dlqTaskId ? -1 : x.dlqTaskId > y.dlqTaskId ? 1 : 0));
    return { entries: entries.slice(0, limit) };
  }

  async retryDlq(selector: DlqSelector | undefined): Promise<RetryDlqResponse> {
    const answers = await this.toOwners(selector, (route) => this.remote.call('retryDlq', { selector }, route));
    return { applied: sum(answers.map((a) => a.applied)), failed: sum(answers.map((a) => a.failed)) };
  }

  async purgeDlq(selector: DlqSelector | undefined): Promise<PurgeDlqResponse> {
    const answers = await this.toOwners(selector, (route) => this.remote.call('purgeDlq', { selector }, route));
    return { purged: sum(answers.map((a) => a.purged)) };
  }

  private toOwners<T>(selector: DlqSelector | undefined, call: (route: Route) => Promise<T>): Promise<T[]> {
    const shardId = selector?.shardId;
    if (shardId !== undefined) return Promise.all([call((members) => shardOwner(shardId, members))]);
    return Promise.all(this.remote.members().map((m) => call((live) => live.find((x) => x.id === m.id))));
  }
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
