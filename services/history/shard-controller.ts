// Which shards this node owns, and the way from a workflow to its shard. Acquiring goes through
// the range_id bump (Shard.acquire); a shard whose write was fenced is dropped here.
import type { Logger } from '../common/logger.js';
import { apiError } from '../common/errors.js';
import type { Registry } from '../common/metrics.js';
import { counter, gauge } from '../common/metrics.js';
import type { Persistence } from '../persistence/store.js';
import type { HistoryConfig } from './config.js';
import { Shard, type ShardListener } from './shard.js';
import { shardIdFor } from './shard-id.js';

export interface ShardLifecycleListener {
  onShardAcquired(shard: Shard): void;
  onShardReleased(shard: Shard): void;
}

export class ShardController {
  private readonly owned = new Map<number, Shard>();
  private readonly acquisitions;
  private readonly losses;
  private readonly ownedGauge;

  constructor(
    private readonly config: HistoryConfig,
    private readonly store: Persistence,
    private readonly listener: ShardListener & ShardLifecycleListener,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.acquisitions = counter(registry, 'tandem_history_shard_acquisitions_total', 'Shards this node took over');
    this.losses = counter(registry, 'tandem_history_shard_losses_total', 'Shards this node lost or released', ['reason']);
    this.ownedGauge = gauge(registry, 'tandem_history_shards_owned', 'Shards this node owns now');
  }

  get ownedShardIds(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  shardFor(namespaceId: string, workflowId: string): Shard {
    const id = shardIdFor(namespaceId, workflowId, this.config.numShards);
    const shard = this.owned.get(id);
    if (!shard || shard.isLost) throw apiError('SHARD_MOVED', id);
    return shard;
  }

  getShard(shardId: number): Shard | undefined {
    return this.owned.get(shardId);
  }

  async acquire(shardId: number): Promise<Shard> {
    const existing = this.owned.get(shardId);
    if (existing && !existing.isLost) return existing;
    const shard = await Shard.acquire(shardId, this.config.hostId, this.store, this.listener, this.log, this.config.maxCachedExecutionsPerShard);
    shard.onLost(() => this.drop(shard, 'fenced'));
    this.owned.set(shardId, shard);
    this.acquisitions.inc();
    this.ownedGauge.set(this.owned.size);
    this.log.info({ shard: shardId, rangeId: shard.rangeId.toString() }, 'shard acquired');
    this.listener.onShardAcquired(shard);
    return shard;
  }

  /** Gives a shard up (membership moved it, or the node stops). */
  release(shardId: number): void {
    const shard = this.owned.get(shardId);
    if (shard) this.drop(shard, 'released');
  }

  private drop(shard: Shard, reason: string): void {
    if (this.owned.get(shard.shardId) !== shard) return;
    this.owned.delete(shard.shardId);
    this.losses.inc({ reason });
    this.ownedGauge.set(this.owned.size);
    this.listener.onShardReleased(shard);
  }

  releaseAll(): void {
    for (const id of [...this.owned.keys()]) this.release(id);
  }
}
