// The transfer queue: tasks that run at once, read in task-id order. A shard allocates task ids
// in commit order under its write lock, so once a read returned id n, every task committed up to
// n was read: the read level alone bounds the ack level.
import type { HistoryTask } from '../persistence/types.js';
import { QueueProcessor, READ_BATCH, type QueueDeps } from './queue-processor.js';
import { MAX_TASK_ID, successor, type TaskKey } from './task-key.js';

export class TransferQueueProcessor extends QueueProcessor {
  /** The highest task id read; starts at the persisted ack level, so done tasks are never read again. */
  private readLevel: bigint;

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
    for (;;) {
      const tasks = await this.read({ visibilityTimeMs: 0, taskId: this.readLevel }, { visibilityTimeMs: 0, taskId: MAX_TASK_ID }, READ_BATCH);
      for (const t of tasks) {
        this.readLevel = t.taskId;
        if (this.track(t)) void this.runTracked(t);
      }
      if (tasks.length < READ_BATCH) return;
    }
  }

  protected readBound(): TaskKey {
    return successor({ visibilityTimeMs: 0, taskId: this.readLevel });
  }
}
