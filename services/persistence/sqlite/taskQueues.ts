import type Database from 'better-sqlite3';
import { ConditionFailedError } from '../errors.js';
import { checkSubqueue } from '../request-checks.js';
import type { TaskQueueStore } from '../store.js';
import { decodeAckLevels, encodeAckLevels } from '../task-levels.js';
import type { Int64, QueuedTask, TaskLevel, TaskQueueInfo, TaskQueueKey } from '../types.js';
import { num } from './codec.js';

interface QueueRow {
  range_id: bigint;
  ack_levels: string;
  updated_at_ms: bigint;
}

interface TaskRow {
  subqueue: bigint;
  pass: bigint;
  task_id: bigint;
  expiry_time_ms: bigint;
  data: string;
}

const KEY_WHERE = 'namespace_id = @namespaceId AND name = @name AND type = @type';

export class SqliteTaskQueueStore implements TaskQueueStore {
  private readonly selectQueue: Database.Statement;
  private readonly selectRangeId: Database.Statement;
  private readonly upsertLease: Database.Statement;
  private readonly updateAck: Database.Statement;
  private readonly insertTask: Database.Statement;
  private readonly selectTasks: Database.Statement;
  private readonly deleteUpTo: Database.Statement;
  private readonly leaseTx: Database.Transaction<(key: TaskQueueKey) => TaskQueueInfo>;
  private readonly createTasksTx: Database.Transaction<(key: TaskQueueKey, rangeId: Int64, tasks: QueuedTask[]) => void>;

  constructor(db: Database.Database) {
    this.selectQueue = db.prepare(`SELECT range_id, ack_levels, updated_at_ms FROM task_queues WHERE ${KEY_WHERE}`);
    this.selectRangeId = db.prepare(`SELECT range_id FROM task_queues WHERE ${KEY_WHERE}`).pluck();
    this.upsertLease = db.prepare(
      `INSERT INTO task_queues (namespace_id, name, type, range_id, ack_levels, updated_at_ms)
       VALUES (@namespaceId, @name, @type, 1, '{}', @nowMs)
       ON CONFLICT (namespace_id, name, type) DO UPDATE SET range_id = range_id + 1, updated_at_ms = excluded.updated_at_ms`,
    );
    this.updateAck = db.prepare(
      `UPDATE task_queues SET ack_levels = @ackLevels, updated_at_ms = @updatedAtMs WHERE ${KEY_WHERE} AND range_id = @rangeId`,
    );
    this.insertTask = db.prepare(
      `INSERT OR REPLACE INTO task_queue_tasks (namespace_id, name, type, subqueue, pass, task_id, expiry_time_ms, data)
       VALUES (@namespaceId, @name, @type, @subqueue, @pass, @taskId, @expiryTimeMs, @data)`,
    );
    this.selectTasks = db.prepare(
      `SELECT subqueue, pass, task_id, expiry_time_ms, data FROM task_queue_tasks
       WHERE ${KEY_WHERE} AND subqueue = @subqueue AND (pass, task_id) > (@pass, @taskId) ORDER BY pass, task_id LIMIT @limit`,
    );
    this.deleteUpTo = db.prepare(`DELETE FROM task_queue_tasks WHERE ${KEY_WHERE} AND subqueue = @subqueue AND (pass, task_id) <= (@pass, @taskId)`);

    this.leaseTx = db.transaction((key: TaskQueueKey) => {
      this.upsertLease.run({ ...key, nowMs: Date.now() });
      const row = this.selectQueue.get(key) as QueueRow;
      return { key: { ...key }, rangeId: row.range_id, ackLevels: decodeAckLevels(row.ack_levels), updatedAtMs: num(row.updated_at_ms) };
    });
    this.createTasksTx = db.transaction((key: TaskQueueKey, rangeId: Int64, tasks: QueuedTask[]) => {
      const actual = this.selectRangeId.get(key) as bigint | undefined;
      if (actual !== rangeId) {
        throw new ConditionFailedError(`task queue ${describe(key)}: rangeId is ${actual ?? 'none'}, writer holds ${rangeId}`);
      }
      for (const t of tasks) this.insertTask.run({ ...key, ...t });
    });
  }

  async leaseTaskQueue(key: TaskQueueKey): Promise<TaskQueueInfo> {
    return this.leaseTx.immediate(key);
  }

  async updateTaskQueue(info: TaskQueueInfo): Promise<void> {
    const { changes } = this.updateAck.run({ ...info.key, ackLevels: encodeAckLevels(info.ackLevels), updatedAtMs: info.updatedAtMs, rangeId: info.rangeId });
    if (changes === 0) {
      throw new ConditionFailedError(`task queue ${describe(info.key)}: rangeId is not ${info.rangeId} (or no such queue)`);
    }
  }

  async createTasks(key: TaskQueueKey, rangeId: Int64, tasks: QueuedTask[]): Promise<void> {
    for (const t of tasks) checkSubqueue(t.subqueue, 'createTasks');
    this.createTasksTx.immediate(key, rangeId, tasks);
  }

  async getTasks(key: TaskQueueKey, subqueue: number, after: TaskLevel, limit: number): Promise<QueuedTask[]> {
    const rows = this.selectTasks.all({ ...key, subqueue, ...after, limit }) as TaskRow[];
    return rows.map((r) => ({ subqueue: num(r.subqueue), pass: r.pass, taskId: r.task_id, expiryTimeMs: num(r.expiry_time_ms), data: r.data }));
  }

  async deleteTasks(key: TaskQueueKey, subqueue: number, upTo: TaskLevel): Promise<void> {
    this.deleteUpTo.run({ ...key, subqueue, ...upTo });
  }
}

function describe(key: TaskQueueKey): string {
  return `${key.namespaceId}/${key.name}/${key.type}`;
}
