// Task queues: the queue row and its tasks share one partition, so createTasks is a conditional
// batch fenced on the queue's range_id, like history's shard fence.
import { ConditionFailedError } from '../errors.js';
import type { TaskQueueStore } from '../store.js';
import type { Int64, QueuedTask, TaskQueueInfo, TaskQueueKey } from '../types.js';
import { Db, SERIAL, big, num, type Stmt } from './db.js';

const QUEUE_ROW = 0;
const TASK_ROW = 1;
/** Lease attempts before giving up when other owners keep bumping the queue at the same time. */
const LEASE_ATTEMPTS = 10;

const pk = (k: TaskQueueKey) => [k.namespaceId, k.name, k.type];
const PK = 'namespace_id = ? AND name = ? AND type = ?';

export class CassandraTaskQueueStore implements TaskQueueStore {
  private readonly table: string;
  constructor(private readonly db: Db) {
    this.table = db.t('task_queues');
  }

  async leaseTaskQueue(key: TaskQueueKey): Promise<TaskQueueInfo> {
    for (let attempt = 0; attempt < LEASE_ATTEMPTS; attempt++) {
      const now = Date.now();
      const row = await this.db.first(
        `SELECT range_id, ack_level FROM ${this.table} WHERE ${PK} AND row_type = ? AND id = 0`,
        [...pk(key), QUEUE_ROW],
        SERIAL,
      );
      if (!row) {
        const rs = await this.db.execute(
          `INSERT INTO ${this.table} (namespace_id, name, type, row_type, id, range_id, ack_level, updated_at) VALUES (?, ?, ?, ?, 0, 1, 0, ?) IF NOT EXISTS`,
          [...pk(key), QUEUE_ROW, BigInt(now)],
        );
        if (rs.wasApplied()) return { key, rangeId: 1n, ackLevel: 0n, updatedAtMs: now };
        continue;
      }
      const rangeId = big(row.get('range_id'));
      const rs = await this.db.execute(
        `UPDATE ${this.table} SET range_id = ?, updated_at = ? WHERE ${PK} AND row_type = ? AND id = 0 IF range_id = ?`,
        [rangeId + 1n, BigInt(now), ...pk(key), QUEUE_ROW, rangeId],
      );
      if (rs.wasApplied()) return { key, rangeId: rangeId + 1n, ackLevel: big(row.get('ack_level')), updatedAtMs: now };
    }
    throw new ConditionFailedError(`task queue ${key.name}: lease lost to concurrent owners ${LEASE_ATTEMPTS} times`);
  }

  async updateTaskQueue(info: TaskQueueInfo): Promise<void> {
    const rs = await this.db.execute(
      `UPDATE ${this.table} SET ack_level = ?, updated_at = ? WHERE ${PK} AND row_type = ? AND id = 0 IF range_id = ?`,
      [info.ackLevel, BigInt(info.updatedAtMs), ...pk(info.key), QUEUE_ROW, info.rangeId],
    );
    if (!rs.wasApplied()) throw new ConditionFailedError(rangeMessage(info.key, info.rangeId, rs.first()?.get('range_id')));
  }

  async createTasks(key: TaskQueueKey, rangeId: Int64, tasks: QueuedTask[]): Promise<void> {
    const stmts: Stmt[] = [
      {
        query: `UPDATE ${this.table} SET range_id = ? WHERE ${PK} AND row_type = ? AND id = 0 IF range_id = ?`,
        params: [rangeId, ...pk(key), QUEUE_ROW, rangeId],
      },
      ...tasks.map((t) => ({
        query: `INSERT INTO ${this.table} (namespace_id, name, type, row_type, id, expiry_time, data) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        params: [...pk(key), TASK_ROW, t.taskId, BigInt(t.expiryTimeMs), t.data],
      })),
    ];
    const rs = await this.db.batch(stmts);
    if (!rs.wasApplied()) {
      const queue = (rs.rows ?? []).find((r) => r.get('row_type') === QUEUE_ROW);
      throw new ConditionFailedError(rangeMessage(key, rangeId, queue?.get('range_id')));
    }
  }

  async getTasks(key: TaskQueueKey, afterTaskId: Int64, maxTaskId: Int64, limit: number): Promise<QueuedTask[]> {
    const rows = await this.db.all(
      `SELECT id, expiry_time, data FROM ${this.table} WHERE ${PK} AND row_type = ? AND id > ? AND id <= ? LIMIT ?`,
      [...pk(key), TASK_ROW, afterTaskId, maxTaskId, limit],
    );
    return rows.map((r) => ({ taskId: big(r.get('id')), expiryTimeMs: num(r.get('expiry_time')), data: (r.get('data') as string | null) ?? '' }));
  }

  async deleteTasks(key: TaskQueueKey, upToTaskId: Int64): Promise<void> {
    await this.db.execute(`DELETE FROM ${this.table} WHERE ${PK} AND row_type = ? AND id <= ?`, [...pk(key), TASK_ROW, upToTaskId]);
  }
}

function rangeMessage(key: TaskQueueKey, expected: Int64, actual: unknown): string {
  return actual === null || actual === undefined
    ? `task queue ${key.name} (type ${key.type}) does not exist`
    : `task queue ${key.name} (type ${key.type}) is at range_id ${big(actual)}, writer holds ${expected}`;
}
