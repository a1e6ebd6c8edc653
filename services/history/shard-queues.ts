// One shard's task queues (transfer and timer) and their progress. Every ackPersistIntervalMs, and
// when the queues stop, the ack levels that moved are written to the shard row (a fenced write), then
// the tasks below them are deleted as one range per queue: neither the store nor the next owner,
// which starts reading at the persisted levels, walks done tasks again.
import { isTandemError } from '../common/errors.js';
import type { HistoryTask } from '../persistence/types.js';
import type { QueueDeps } from './queue-processor.js';
import { compareKeys, maxKey, predecessor, successor, type TaskKey } from './task-key.js';
import { TimerQueueProcessor } from './timer-queue.js';
import { TransferQueueProcessor } from './transfer-queue.js';

/** Per queue, the last key such that it and every key before it is done. */
export interface AckLevels {
  transfer: TaskKey;
  timer: TaskKey;
}

/** ShardInfo.ackLevels holds them as `transfer: "<taskId>"` and `timer: "<visibilityTimeMs>/<taskId>"`. */
export function parseAckLevels(stored: Record<string, string>): AckLevels {
  const [visibilityTimeMs, taskId, ...rest] = (stored.timer ?? '0/0').split('/');
  if (!Number.isSafeInteger(Number(visibilityTimeMs)) || taskId === undefined || rest.length > 0) {
    throw new Error(`shard ack level timer: bad value ${stored.timer}`);
  }
  return {
    transfer: { visibilityTimeMs: 0, taskId: BigInt(stored.transfer ?? 0) },
    timer: { visibilityTimeMs: Number(visibilityTimeMs), taskId: BigInt(taskId) },
  };
}

export function formatAckLevels(levels: AckLevels): Record<string, string> {
  return { transfer: levels.transfer.taskId.toString(), timer: `${levels.timer.visibilityTimeMs}/${levels.timer.taskId}` };
}

export class ShardQueues {
  readonly transfer: TransferQueueProcessor;
  readonly timer: TimerQueueProcessor;
  private acked: AckLevels;
  /**
   * The timer queue's doneCount when its level was last persisted; none at first, so a new owner
   * persists once and deletes what a previous owner left below the stored level.
   */
  private timerDoneAtPersist = -1;
  private flushTimer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(private readonly deps: QueueDeps) {
    this.acked = parseAckLevels(deps.shard.ackLevels);
    this.transfer = new TransferQueueProcessor(deps, this.acked.transfer);
    this.timer = new TimerQueueProcessor(deps, this.acked.timer);
  }

  start(): void {
    this.transfer.start();
    this.timer.start();
    this.flushTimer = setInterval(() => void this.flush(), this.deps.config.ackPersistIntervalMs);
    this.flushTimer.unref();
  }

  /** Stops both queues, then persists how far they got. */
  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    await Promise.all([this.transfer.stop(), this.timer.stop()]);
    await this.flushing;
    await this.flush();
  }

  /** Tasks a write of the shard just committed. */
  tasksCreated(tasks: HistoryTask[]): void {
    this.transfer.offer(tasks.filter((t) => t.category === 'transfer'));
    this.timer.offer(tasks.filter((t) => t.category === 'timer'));
  }

  namespaceChanged(namespaceId: string): void {
    this.transfer.namespaceChanged(namespaceId);
    this.timer.namespaceChanged(namespaceId);
  }

  /** Persists the levels that moved and deletes below them; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.persist().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async persist(): Promise<void> {
    const { shard, store, log } = this.deps;
    // Never back: a previous owner's clock may have put the timer level ahead of this one's.
    const next: AckLevels = {
      transfer: maxKey(this.acked.transfer, predecessor(this.transfer.doneBelow())),
      timer: maxKey(this.acked.timer, predecessor(this.timer.doneBelow())),
    };
    const transferMoved = compareKeys(next.transfer, this.acked.transfer) > 0;
    // The timer level trails the clock and so moves on every flush; an idle shard persists it only
    // once a timer ran (no row below it otherwise), not one fenced write per shard per second.
    const timerDone = this.timer.doneCount;
    const timerMoved = compareKeys(next.timer, this.acked.timer) > 0 && timerDone !== this.timerDoneAtPersist;
    if (!timerMoved) next.timer = this.acked.timer;
    if (!transferMoved && !timerMoved) return;
    try {
      await shard.updateAckLevels(formatAckLevels(next));
      this.acked = next;
      if (timerMoved) this.timerDoneAtPersist = timerDone;
      // Only after the levels are stored: a crash in between leaves done rows, never a gap.
      if (transferMoved) await store.executions.rangeDeleteHistoryTasks(shard.shardId, 'transfer', successor(next.transfer).taskId);
      if (timerMoved) await store.executions.rangeDeleteTimerTasks(shard.shardId, successor(next.timer));
    } catch (err) {
      // SHARD_MOVED: the shard has a new owner, which reads from the last persisted levels.
      if (!isTandemError(err, 'SHARD_MOVED')) log.warn({ err }, 'persisting queue ack levels failed; the next flush retries');
    }
  }
}
