// Task queues: the queue row and its tasks share one partition of task_queues_v2, so createTasks
// is a conditional batch fenced on the queue's range_id, like history's shard fence. A queue that
// still lives in the old task_queues table is adopted on its first lease here: the old row is
// fenced, its backlog copied into the legacy subqueue, and the old partition dropped.
import { ConditionFailedError } from '../errors.js';
import { checkSubqueue } from '../request-checks.js';
import type { TaskQueueStore } from '../store.js';
import { decodeAckLevels, encodeAckLevels, LEGACY_SUBQUEUE } from '../task-levels.js';
import type { Int64, QueuedTask, TaskLevel, TaskQueueInfo, TaskQueueKey } from '../types.js';
import { Db, SERIAL, big, num, type Stmt } from './db.js';

/** The subqueue of the queue row (pass 0, id 0): below every real subqueue. */
const QUEUE_ROW = -1;
/** Lease attempts before giving up when other owners keep bumping the queue at the same time. */
const LEASE_ATTEMPTS = 10;
/** Rows of an adopted backlog written per batch (one partition). */
const ADOPT_BATCH = 100;
const LEGACY_QUEUE_ROW = 0;
const LEGACY_TASK_ROW = 1;

const pk = (k: TaskQueueKey) => [k.namespaceId, k.name, k.type];
const PK = 'namespace_id = ? AND name = ? AND type = ?';
const QUEUE = `${PK} AND subqueue = ${QUEUE_ROW} AND pass = 0 AND id = 0`;

export class CassandraTaskQueueStore implements TaskQueueStore {
  private readonly table: string;
  private readonly legacy: string;
  constructor(private readonly db: Db) {
    this.table = db.t('task_queues_v2');
    this.legacy = db.t('task_queues');
  }

  async leaseTaskQueue(key: TaskQueueKey): Promise<TaskQueueInfo> {
    for (let attempt = 0; attempt < LEASE_ATTEMPTS; attempt++) {
      const now = Date.now();
      const row = await this.db.first(`SELECT range_id, ack_levels FROM ${this.table} WHERE ${QUEUE}`, pk(key), SERIAL);
      if (!row) {
        const adopted = await this.adoptLegacy(key);
        if (adopted === 'raced') continue;
        const info: TaskQueueInfo = { key, rangeId: adopted?.rangeId ?? 1n, ackLevels: adopted?.ackLevels ?? {}, updatedAtMs: now };
        const rs = await this.db.execute(
          `INSERT INTO ${this.table} (namespace_id, name, type, subqueue, pass, id, range_id, ack_levels, updated_at) VALUES (?, ?, ?, ${QUEUE_ROW}, 0, 0, ?, ?, ?) IF NOT EXISTS`,
          [...pk(key), info.rangeId, encodeAckLevels(info.ackLevels), BigInt(now)],
        );
        if (!rs.wasApplied()) continue;
        if (adopted) await this.db.execute(`DELETE FROM ${this.legacy} WHERE ${PK}`, pk(key));
        return info;
      }
      const rangeId = big(row.get('range_id'));
      const rs = await this.db.execute(
        `UPDATE ${this.table} SET range_id = ?, updated_at = ? WHERE ${QUEUE} IF range_id = ?`,
        [rangeId + 1n, BigInt(now), ...pk(key), rangeId],
      );
      if (rs.wasApplied()) return { key, rangeId: rangeId + 1n, ackLevels: decodeAckLevels(row.get('ack_levels') as string | null), updatedAtMs: now };
    }
    throw new ConditionFailedError(`task queue ${key.name}: lease lost to concurrent owners ${LEASE_ATTEMPTS} times`);
  }

  /**
   * A queue still in the old table: its row is fenced first (an old writer's batch fails from
   * then), then its unacked tasks are copied at pass 0 of the legacy subqueue, ids unchanged. Null
   * when there is none; 'raced' when another lease bumped the old row meanwhile. Copying again
   * after a crash writes the same rows.
   */
  private async adoptLegacy(key: TaskQueueKey): Promise<Pick<TaskQueueInfo, 'rangeId' | 'ackLevels'> | null | 'raced'> {
    const old = await this.db.first(`SELECT range_id, ack_level FROM ${this.legacy} WHERE ${PK} AND row_type = ? AND id = 0`, [...pk(key), LEGACY_QUEUE_ROW], SERIAL);
    if (!old) return null;
    const rangeId = big(old.get('range_id')) + 1n;
    const ackLevel = big(old.get('ack_level'));
    const fenced = await this.db.execute(
      `UPDATE ${this.legacy} SET range_id = ? WHERE ${PK} AND row_type = ? AND id = 0 IF range_id = ?`,
      [rangeId, ...pk(key), LEGACY_QUEUE_ROW, rangeId - 1n],
    );
    if (!fenced.wasApplied()) return 'raced';
    let batch: Stmt[] = [];
    const flush = async () => {
      if (batch.length > 0) await this.db.batch(batch);
      batch = [];
    };
    const rows = this.db.rows(`SELECT id, expiry_time, data FROM ${this.legacy} WHERE ${PK} AND row_type = ? AND id > ?`, [...pk(key), LEGACY_TASK_ROW, ackLevel]);
    for await (const r of rows) {
      batch.push(this.insertTask(key, { subqueue: LEGACY_SUBQUEUE, pass: 0n, taskId: big(r.get('id')), expiryTimeMs: num(r.get('expiry_time')), data: (r.get('data') as string | null) ?? '' }));
      if (batch.length >= ADOPT_BATCH) await flush();
    }
    await flush();
    return { rangeId, ackLevels: ackLevel > 0n ? { [LEGACY_SUBQUEUE]: { pass: 0n, taskId: ackLevel } } : {} };
  }

  async updateTaskQueue(info: TaskQueueInfo): Promise<void> {
    const rs = await this.db.execute(
      `UPDATE ${this.table} SET ack_levels = ?, updated_at = ? WHERE ${QUEUE} IF range_id = ?`,
      [encodeAckLevels(info.ackLevels), BigInt(info.updatedAtMs), ...pk(info.key), info.rangeId],
    );
    if (!rs.wasApplied()) throw new ConditionFailedError(rangeMessage(info.key, info.rangeId, rs.first()?.get('range_id')));
  }

  async createTasks(key: TaskQueueKey, rangeId: Int64, tasks: QueuedTask[]): Promise<void> {
    for (const t of tasks) checkSubqueue(t.subqueue, 'createTasks');
    const stmts: Stmt[] = [
      { query: `UPDATE ${this.table} SET range_id = ? WHERE ${QUEUE} IF range_id = ?`, params: [rangeId, ...pk(key), rangeId] },
      ...tasks.map((t) => this.insertTask(key, t)),
    ];
    const rs = await this.db.batch(stmts);
    if (!rs.wasApplied()) {
      const queue = (rs.rows ?? []).find((r) => r.get('subqueue') === QUEUE_ROW);
      throw new ConditionFailedError(rangeMessage(key, rangeId, queue?.get('range_id')));
    }
  }

  async getTasks(key: TaskQueueKey, subqueue: number, after: TaskLevel, limit: number): Promise<QueuedTask[]> {
    const rows = await this.db.all(
      `SELECT pass, id, expiry_time, data FROM ${this.table} WHERE ${PK} AND subqueue = ? AND (pass, id) > (?, ?) LIMIT ?`,
      [...pk(key), subqueue, after.pass, after.taskId, limit],
    );
    return rows.map((r) => ({
      subqueue,
      pass: big(r.get('pass')),
      taskId: big(r.get('id')),
      expiryTimeMs: num(r.get('expiry_time')),
      data: (r.get('data') as string | null) ?? '',
    }));
  }

  async deleteTasks(key: TaskQueueKey, subqueue: number, upTo: TaskLevel): Promise<void> {
    await this.db.execute(`DELETE FROM ${this.table} WHERE ${PK} AND subqueue = ? AND (pass, id) <= (?, ?)`, [...pk(key), subqueue, upTo.pass, upTo.taskId]);
  }

  private insertTask(key: TaskQueueKey, t: QueuedTask): Stmt {
    return {
      query: `INSERT INTO ${this.table} (namespace_id, name, type, subqueue, pass, id, expiry_time, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      params: [...pk(key), t.subqueue, t.pass, t.taskId, BigInt(t.expiryTimeMs), t.data],
    };
  }
}

function rangeMessage(key: TaskQueueKey, expected: Int64, actual: unknown): string {
  return actual === null || actual === undefined
    ? `task queue ${key.name} (type ${key.type}) does not exist`
    : `task queue ${key.name} (type ${key.type}) is at range_id ${big(actual)}, writer holds ${expected}`;
}
