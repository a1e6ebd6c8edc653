// The transfer queue: tasks that run at once, in task-id order. A shard allocates task ids in commit
// order under its write lock, so once a read returned id n, every task committed up to n was read:
// the read level alone bounds the ack level. Between reads, the tasks a write just committed are
// taken as offered (no read back per write), as long as every commit since the last read was
// offered: a write of unknown outcome may have stored tasks nobody was told of, so until a read
// that started after it settled, offers only prompt a read.
import type { HistoryTask } from '../persistence/types.js';
import { QueueProcessor, READ_BATCH, type QueueDeps } from './queue-processor.js';
import { MAX_TASK_ID, successor, type TaskKey } from './task-key.js';

export class TransferQueueProcessor extends QueueProcessor {
  /** The highest task id read or taken; starts at the persisted ack level, so done tasks are never read again. */
  private readLevel: bigint;
  private reading = false;
  /** An offer was left to the read path: later offers wait for a read that started after it. */
  private readWanted = false;
  /** The shard's count of unknown write outcomes when the last whole read started; null: none yet. */
  private readCovers: number | null = null;

  constructor(deps: QueueDeps, ackLevel: TaskKey) {
    super(deps);
    this.readLevel = ackLevel.taskId;
  }

  protected keyOf(task: HistoryTask): TaskKey {
    return { visibilityTimeMs: 0, taskId: task.taskId };
  }

  protected read(after: TaskKey, upTo: TaskKey, limit: number): Promise<HistoryTask[]> {
    return this.store.executions.getHistoryTasks({
      shardId: this.shard.shardId,
      category: 'transfer',
      afterTaskId: after.taskId,
      maxTaskId: upTo.taskId,
      limit,
    });
  }

  protected async pump(): Promise<void> {
    const covers = this.shard.settledUnknownOutcomes;
    this.readWanted = false;
    this.reading = true;
    try {
      for (;;) {
        const tasks = await this.read({ visibilityTimeMs: 0, taskId: this.readLevel }, { visibilityTimeMs: 0, taskId: MAX_TASK_ID }, READ_BATCH);
        this.take(tasks);
        if (tasks.length < READ_BATCH) break;
      }
      this.readCovers = covers;
    } catch (err) {
      this.readWanted = true;
      throw err;
    } finally {
      this.reading = false;
    }
  }

  /** Transfer tasks a write just committed, in task-id order. */
  offer(tasks: HistoryTask[]): void {
    if (tasks.length === 0) return;
    const settled = this.shard.settledUnknownOutcomes;
    // A read in flight may or may not see them; an offer left to a read that has not run yet, or
    // an unsettled or unread unknown outcome, may leave tasks below them. Either way the read path
    // takes them, and everything before them.
    if (this.reading || this.readWanted || settled === null || settled !== this.readCovers) {
      this.readWanted = true;
      this.notify();
      return;
    }
    this.take(tasks);
  }

  /** Runs tasks above the read level; those at or below it a read already took. */
  private take(tasks: HistoryTask[]): void {
    for (const t of tasks) {
      if (t.taskId <= this.readLevel) continue;
      this.readLevel = t.taskId;
      if (this.track(t)) void this.runTracked(t);
    }
  }

  protected readBound(): TaskKey {
    return successor({ visibilityTimeMs: 0, taskId: this.readLevel });
  }
}
