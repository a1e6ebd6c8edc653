// The replication admin a region of separate processes serves on its frontend's port: each verb
// goes to the history nodes, each of which answers for the shards it owns (owned-dlq-admin.ts,
// Replication.measureLag): one shard's owner when the selector names a shard, every live history
// node otherwise, the answers merged. A shard that is between owners at that moment is missed by
// a DLQ verb over every shard (ask again), and counted as unknown by the lag measure.
import { isTandemError } from '../services/common/errors.js';
import type { Service } from '../services/common/lifecycle.js';
import type { Logger } from '../services/common/logger.js';
import type { Membership } from '../services/membership/membership.js';
import { shardOwner } from '../services/membership/rendezvous.js';
import { RemoteService, type Route } from '../services/rpc/remote-service.js';
import {
  ReplicationAdminServiceService,
  type DlqSelector,
  type ListDlqResponse,
  type MeasureLagResponse,
  type PurgeDlqResponse,
  type RetryDlqResponse,
} from '../proto/gen/tandem/replication/v1/replication.js';
import type { DlqAdmin, LagAdmin } from './grpc-services.js';
import { combineLag, noLag } from './receiver-lag.js';

export class AdminFanout implements DlqAdmin, LagAdmin, Service {
  private readonly remote: RemoteService<typeof ReplicationAdminServiceService>;
  private readonly log: Logger;

  constructor(
    membership: Membership,
    private readonly numShards: number,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'replication-admin' });
    this.remote = new RemoteService('history', ReplicationAdminServiceService, membership, undefined, this.log);
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

  /**
   * Tasks summed, the worst window. A node that does not answer leaves its shards unknown rather
   * than failing the measure: a forced failover runs when things are broken.
   */
  async measureLag(namespaceId: string, sourceRegion: string): Promise<MeasureLagResponse> {
    const answers = await this.toOwners(undefined, (route) =>
      this.remote.call('measureLag', { namespaceId, sourceRegion }, route).catch((err: unknown) => {
        if (isTandemError(err, 'INVALID_ARGUMENT')) throw err;
        this.log.warn({ err }, 'a history node did not answer the lag measure; its shards count as unknown');
        return noLag;
      }),
    );
    return combineLag(answers, this.numShards);
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
