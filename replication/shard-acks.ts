// A sending shard's acks, one per receiving region: kept in the shard row (ackLevels
// `replication:<region>`) so a new owner and a reconnecting receiver resume from them, and used
// to trim the shard's replication queue below the lowest one.
import { isTandemError } from '../services/common/errors.js';
import type { Logger } from '../services/common/logger.js';
import type { Shard } from '../services/history/shard.js';
import type { Persistence } from '../services/persistence/store.js';
import { replicationAckKey } from '../services/history/replication-progress.js';

/** Told of each ack that moves forward (sync replication answers the writes waiting on it: sync-acks.ts). */
export type AckListener = (region: string, taskId: bigint) => void;

/** The acks of each shard this process sends from, by shard (a released shard's entry goes with it). */
const byShard = new WeakMap<Shard, ShardAcks>();

export class ShardAcks {
  private readonly acked = new Map<string, bigint>();
  private persisted = new Map<string, bigint>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private readonly listeners = new Set<AckListener>();

  /** The acks of a shard this process owns and sends from; undefined before its sender side started. */
  static of(shard: Shard): ShardAcks | undefined {
    return byShard.get(shard);
  }

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
    byShard.set(shard, this);
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
    if (taskId <= this.get(region)) return;
    this.acked.set(region, taskId);
    for (const l of this.listeners) l(region, taskId);
  }

  /** Calls listener after each ack that moves forward; returns the unsubscribe. */
  onAdvance(listener: AckListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
