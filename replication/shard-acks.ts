// A sending shard's acks, one per receiving region: kept in the shard row (ackLevels
// `replication:<region>`) so a new owner and a reconnecting receiver resume from them, and used
// to trim the shard's replication queue below the lowest one.
import { isTandemError } from '../services/common/errors.js';
import type { Logger } from '../services/common/logger.js';
import type { Shard } from '../services/history/shard.js';
import type { Persistence } from '../services/persistence/store.js';
import { replicationAckKey } from '../services/history/replication-progress.js';

export class ShardAcks {
  private readonly acked = new Map<string, bigint>();
  private persisted = new Map<string, bigint>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    readonly shard: Shard,
    private readonly store: Persistence,
    /** The regions every replicated namespace may ship to: the queue is trimmed only below all of them. */
    private readonly receivers: readonly string[],
    private readonly persistIntervalMs: number,
    private readonly log: Logger,
  ) {
    for (const r of receivers) {
      const stored = shard.ackLevels[replicationAckKey(r)];
      if (stored !== undefined) this.acked.set(r, BigInt(stored));
    }
    this.persisted = new Map(this.acked);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.persistIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }

  /** The last task id the region acknowledged (0: none yet). */
  get(region: string): bigint {
    return this.acked.get(region) ?? 0n;
  }

  /** Acks only move forward: a receiver restarting from an older one changes nothing. */
  advance(region: string, taskId: bigint): void {
    if (taskId > this.get(region)) this.acked.set(region, taskId);
  }

  flush(): Promise<void> {
    this.flushing ??= this.persist().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async persist(): Promise<void> {
    const moved = [...this.acked].filter(([r, id]) => this.persisted.get(r) !== id);
    if (moved.length === 0 || this.shard.isLost) return;
    try {
      await this.shard.updateAckLevels(Object.fromEntries(moved.map(([r, id]) => [replicationAckKey(r), id.toString()])));
      this.persisted = new Map(this.acked);
      // Only once every receiver's ack is stored: a crash in between leaves done rows, never a gap.
      const all = this.receivers.map((r) => this.persisted.get(r));
      if (all.every((id) => id !== undefined)) {
        const min = all.reduce((a, b) => (a! < b! ? a : b))!;
        await this.store.executions.rangeDeleteHistoryTasks(this.shard.shardId, 'replication', min + 1n);
      }
    } catch (err) {
      if (!isTandemError(err, 'SHARD_MOVED')) this.log.warn({ err }, 'persisting replication acks failed; the next flush retries');
    }
  }
}
