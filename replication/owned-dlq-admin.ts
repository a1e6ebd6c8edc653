// The DLQ admin of one history node of a region of separate processes: the node answers for the
// shards it owns only (the DLQ rows of every shard sit in the one store), so a frontend that fans
// a verb out to every node counts each entry once, and a retry reaches the node whose receiver
// can ask the sender again. A shard named that is not owned here answers SHARD_MOVED (retried on
// the owner by the caller).
import { apiError } from '../services/common/errors.js';
import type { DlqSelector, ListDlqResponse, PurgeDlqResponse, RetryDlqResponse } from '../proto/gen/tandem/replication/v1/replication.js';
import type { DlqAdmin } from './grpc-services.js';

export class OwnedShardsDlqAdmin implements DlqAdmin {
  constructor(
    private readonly inner: DlqAdmin,
    private readonly ownedShardIds: () => number[],
  ) {}

  async listDlq(selector: DlqSelector | undefined, limit: number): Promise<ListDlqResponse> {
    const entries = [];
    for (const shardId of this.shards(selector)) {
      if (entries.length >= limit) break;
      entries.push(...(await this.inner.listDlq({ ...selector, shardId }, limit - entries.length)).entries);
    }
    return { entries };
  }

  async retryDlq(selector: DlqSelector | undefined): Promise<RetryDlqResponse> {
    const total = { applied: 0, failed: 0 };
    for (const shardId of this.shards(selector)) {
      const r = await this.inner.retryDlq({ ...selector, shardId });
      total.applied += r.applied;
      total.failed += r.failed;
    }
    return total;
  }

  async purgeDlq(selector: DlqSelector | undefined): Promise<PurgeDlqResponse> {
    let purged = 0;
    for (const shardId of this.shards(selector)) purged += (await this.inner.purgeDlq({ ...selector, shardId })).purged;
    return { purged };
  }

  private shards(selector: DlqSelector | undefined): number[] {
    const owned = this.ownedShardIds().sort((x, y) => x - y);
    if (selector?.shardId === undefined) return owned;
    if (!owned.includes(selector.shardId)) throw apiError('SHARD_MOVED', selector.shardId);
    return [selector.shardId];
  }
}
