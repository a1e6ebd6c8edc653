// Per-shard task processing. Immediate tasks (transfer) are read in task-id order; timers are
// loaded a window ahead and fired by setTimeout. A task is deleted once it ran; a failing task
// is retried with backoff and never blocks the others.
import type { Logger } from '../common/logger.js';
import { isTandemError } from '../common/errors.js';
import { sleep } from '../common/lifecycle.js';
import type { Persistence } from '../persistence/store.js';
import type { HistoryTask } from '../persistence/types.js';
import type { Shard } from './shard.js';
import type { HistoryConfig } from './config.js';
import type { TaskExecutor } from './task-executor.js';

const READ_BATCH = 200;
const MAX_TASK_ID = (1n << 63n) - 1n;

abstract class QueueProcessor {
  protected stopped = false;
  protected readonly inFlight = new Set<string>();
  private wake: (() => void) | null = null;
  private notified = false;
  private loop?: Promise<void>;

  constructor(
    protected readonly shard: Shard,
    protected readonly store: Persistence,
    protected readonly executor: TaskExecutor,
    protected readonly config: HistoryConfig,
    protected readonly log: Logger,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.notify();
    await this.loop;
  }

  /** New tasks were committed: read again now (or right after the read in progress). */
  notify(): void {
    this.notified = true;
    this.wake?.();
  }

  protected abstract pump(): Promise<number>;

  private async run(): Promise<void> {
    while (!this.stopped && !this.shard.isLost) {
      this.notified = false;
      try {
        await this.pump();
      } catch (err) {
        this.log.warn({ err }, 'task queue read failed');
      }
      if (this.stopped) break;
      // A notification during the read may name tasks the read missed: read again at once.
      if (this.notified) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, this.config.queuePollIntervalMs);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.wake = done;
      });
      this.wake = null;
    }
  }

  /** Runs one task until it succeeds (or the shard is gone), then deletes it. */
  protected async process(task: HistoryTask): Promise<void> {
    const key = `${task.visibilityTimeMs}/${task.taskId}`;
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    try {
      for (let attempt = 1; !this.stopped && !this.shard.isLost; attempt++) {
        try {
          await this.executor.execute(task);
          await this.store.executions.deleteHistoryTask(this.shard.shardId, task);
          return;
        } catch (err) {
          if (isTandemError(err, 'SHARD_MOVED')) return;
          const level = attempt < 5 ? 'debug' : 'warn';
          this.log[level]({ err, task: task.type, taskId: task.taskId.toString(), attempt }, 'task failed; retrying');
          await sleep(Math.min(100 * 2 ** attempt, 10_000));
        }
      }
    } finally {
      this.inFlight.delete(key);
    }
  }
}

export class TransferQueueProcessor extends QueueProcessor {
  private cursor = 0n;

  protected async pump(): Promise<number> {
    let total = 0;
    for (;;) {
      const tasks = await this.store.executions.getHistoryTasks({
        shardId: this.shard.shardId,
        category: 'transfer',
        afterTaskId: this.cursor,
        maxTaskId: MAX_TASK_ID,
        limit: READ_BATCH,
      });
      for (const t of tasks) {
        this.cursor = t.taskId;
        void this.process(t);
      }
      total += tasks.length;
      if (tasks.length < READ_BATCH) return total;
    }
  }
}

export class TimerQueueProcessor extends QueueProcessor {
  private windowEndMs = 0;
  private readonly timers = new Map<string, NodeJS.Timeout>();

  protected async pump(): Promise<number> {
    const windowEnd = Date.now() + this.config.timerLookaheadMs;
    let after = { visibilityTimeMs: 0, taskId: 0n };
    let total = 0;
    for (;;) {
      const tasks = await this.store.executions.getTimerTasks({
        shardId: this.shard.shardId,
        after,
        maxVisibilityTimeMs: windowEnd,
        limit: READ_BATCH,
      });
      for (const t of tasks) this.arm(t);
      total += tasks.length;
      if (tasks.length < READ_BATCH) break;
      const last = tasks[tasks.length - 1]!;
      after = { visibilityTimeMs: last.visibilityTimeMs, taskId: last.taskId };
    }
    this.windowEndMs = windowEnd;
    return total;
  }

  /** Timers inside the loaded window are armed at once; later ones wait for the next read. */
  offer(tasks: HistoryTask[]): void {
    for (const t of tasks) if (t.visibilityTimeMs <= this.windowEndMs) this.arm(t);
  }

  private arm(task: HistoryTask): void {
    const key = `${task.visibilityTimeMs}/${task.taskId}`;
    if (this.timers.has(key) || this.inFlight.has(key)) return;
    const delay = Math.max(0, task.visibilityTimeMs - Date.now());
    const handle = setTimeout(() => {
      this.timers.delete(key);
      void this.process(task);
    }, delay);
    this.timers.set(key, handle);
  }

  override async stop(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await super.stop();
  }
}

