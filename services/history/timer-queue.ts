// The timer queue: timers are read a window ahead (timerLookaheadMs) and fired by setTimeout.
// Timers committed inside the loaded window are armed as they are offered (ShardListener), so a
// read only needs what lies beyond the last window. The ack level never passes now minus
// timerAckMarginMs: the write path commits every timer no earlier than its commit time, so no
// timer can still appear below that.
import type { HistoryTask } from '../persistence/types.js';
import { QueueProcessor, READ_BATCH, type QueueDeps } from './queue-processor.js';
import { MAX_TASK_ID, compareKeys, keyId, minKey, successor, type TaskKey } from './task-key.js';

export class TimerQueueProcessor extends QueueProcessor {
  /** Every timer up to this key was read or offered; starts at the persisted ack level. */
  private readLevel: TaskKey;
  /** Offered timers firing at or before this are armed at once; later ones wait for a read. */
  private windowEndMs = 0;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Timers done above the read level: a read may still return them, and must not arm them again. */
  private readonly doneAhead = new Set<string>();

  constructor(deps: QueueDeps, ackLevel: TaskKey) {
    super(deps);
    this.readLevel = ackLevel;
  }

  protected keyOf(task: HistoryTask): TaskKey {
    return { visibilityTimeMs: task.visibilityTimeMs, taskId: task.taskId };
  }

  protected async read(after: TaskKey, upTo: TaskKey, limit: number): Promise<HistoryTask[]> {
    const tasks = await this.store.executions.getTimerTasks({
      shardId: this.shard.shardId,
      after,
      maxVisibilityTimeMs: upTo.visibilityTimeMs,
      limit,
    });
    return tasks.filter((t) => compareKeys(this.keyOf(t), upTo) <= 0);
  }

  protected async pump(): Promise<void> {
    const windowEnd = Date.now() + this.config.timerLookaheadMs;
    // From here on a timer committed inside the new window is armed as it is offered, so the
    // read below has to find only what was committed before it.
    this.windowEndMs = Math.max(this.windowEndMs, windowEnd);
    const upTo = { visibilityTimeMs: windowEnd, taskId: MAX_TASK_ID };
    for (;;) {
      const tasks = await this.read(this.readLevel, upTo, READ_BATCH);
      for (const t of tasks) if (!this.doneAhead.has(keyId(this.keyOf(t)))) this.arm(t);
      if (tasks.length < READ_BATCH) break;
      this.readLevel = this.keyOf(tasks[tasks.length - 1]!);
    }
    this.readLevel = upTo;
    this.doneAhead.clear();
  }

  protected readBound(): TaskKey {
    return minKey(successor(this.readLevel), { visibilityTimeMs: Date.now() - this.config.timerAckMarginMs, taskId: 0n });
  }

  protected override finished(key: TaskKey): void {
    super.finished(key);
    if (compareKeys(key, this.readLevel) > 0) this.doneAhead.add(keyId(key));
  }

  /** Timers a write just committed. */
  offer(tasks: HistoryTask[]): void {
    for (const t of tasks) if (t.visibilityTimeMs <= this.windowEndMs) this.arm(t);
  }

  private arm(task: HistoryTask): void {
    if (!this.track(task)) return;
    const id = keyId(this.keyOf(task));
    const handle = setTimeout(() => {
      this.timers.delete(id);
      void this.runTracked(task);
    }, Math.max(0, task.visibilityTimeMs - Date.now()));
    this.timers.set(id, handle);
  }

  override async stop(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await super.stop();
  }
}
