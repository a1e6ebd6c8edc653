// Shards and executions share the `executions` table: one partition per shard holds the shard
// row, current pointers, executions and history tasks, so every workflow write is one conditional
// batch fenced on the shard's range_id. Events go to their branch's partition first (history.ts).
import { checkStoredRun, currentAllowsCreate, REPLACEABLE_STATE, type StoredHead } from '../conditions.js';
import { ConditionFailedError, CurrentWorkflowConditionFailedError, ShardOwnershipLostError } from '../errors.js';
import { startsAtStoredEnd } from '../history-tree.js';
import { checkCreateRequest, checkUpdateRequest } from '../request-checks.js';
import type { ExecutionStore, ShardStore } from '../store.js';
import type {
  CreateExecutionRequest,
  CurrentExecution,
  ExecutionKey,
  ExecutionRecord,
  ExecutionState,
  HistoryAppend,
  HistoryEventRow,
  HistoryTask,
  Int64,
  ReadHistoryRequest,
  ShardInfo,
  TaskCategory,
  TaskRangeRequest,
  TimerRangeRequest,
  UpdateExecutionRequest,
} from '../types.js';
import { Db, SERIAL, big, fromBlob, num, toBlob, type Row, type Stmt } from './db.js';
import { CassandraHistory, mayStartBranch } from './history.js';

const ROW = { shard: 0, current: 1, execution: 2 } as const;
const TASK_ROW: Record<TaskCategory, number> = { transfer: 4, timer: 5, replication: 6, visibility: 7, replicationDlq: 8 };
const CATEGORY_OF_ROW = new Map(Object.entries(TASK_ROW).map(([c, r]) => [r, c as TaskCategory]));
const MAX_INT64 = (1n << 63n) - 1n;

/** Clustering key columns, in order, after shard_id. */
const KEY = 'row_type = ? AND namespace_id = ? AND workflow_id = ? AND run_id = ? AND visibility_ts = ? AND id = ?';
const KEY_COLS = 'shard_id, row_type, namespace_id, workflow_id, run_id, visibility_ts, id';
type Key = [rowType: number, namespaceId: string, workflowId: string, runId: string, visibilityTs: bigint, id: bigint];
/** The clustering prefix of a task category's rows, so task reads and deletes are slices of it. */
const TASK_PREFIX = `row_type = ? AND namespace_id = '' AND workflow_id = '' AND run_id = ''`;

const shardKey = (): Key => [ROW.shard, '', '', '', 0n, 0n];
const currentKey = (namespaceId: string, workflowId: string): Key => [ROW.current, namespaceId, workflowId, '', 0n, 0n];
const executionKey = (k: ExecutionKey): Key => [ROW.execution, k.namespaceId, k.workflowId, k.runId, 0n, 0n];
const taskKey = (t: Pick<HistoryTask, 'category' | 'taskId' | 'visibilityTimeMs'>): Key => [
  TASK_ROW[t.category],
  '',
  '',
  '',
  t.category === 'timer' ? BigInt(t.visibilityTimeMs) : 0n,
  t.taskId,
];

export class CassandraShardStore implements ShardStore {
  constructor(private readonly db: Db) {}

  async getShard(shardId: number): Promise<ShardInfo | null> {
    // SERIAL: the shard row is only written by LWTs, and a new owner must see the latest.
    const row = await this.db.first(
      `SELECT shard_id, range_id, owner, ack_levels, updated_at FROM ${this.db.t('executions')} WHERE shard_id = ? AND ${KEY}`,
      [shardId, ...shardKey()],
      SERIAL,
    );
    return row ? toShard(row) : null;
  }

  async createShard(info: ShardInfo): Promise<void> {
    const rs = await this.db.execute(
      `INSERT INTO ${this.db.t('executions')} (${KEY_COLS}, range_id, owner, ack_levels, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      [info.shardId, ...shardKey(), info.rangeId, info.owner, info.ackLevels, BigInt(info.updatedAtMs)],
    );
    if (!rs.wasApplied()) throw new ConditionFailedError(`shard ${info.shardId} exists already`);
  }

  async updateShard(info: ShardInfo, expectedRangeId: Int64): Promise<void> {
    const rs = await this.db.execute(
      `UPDATE ${this.db.t('executions')} SET range_id = ?, owner = ?, ack_levels = ?, updated_at = ? WHERE shard_id = ? AND ${KEY} IF range_id = ?`,
      [info.rangeId, info.owner, info.ackLevels, BigInt(info.updatedAtMs), info.shardId, ...shardKey(), expectedRangeId],
    );
    if (!rs.wasApplied()) {
      const actual = rs.first()?.get('range_id');
      throw new ShardOwnershipLostError(info.shardId, expectedRangeId, actual === null || actual === undefined ? null : big(actual));
    }
  }
}

function toShard(row: Row): ShardInfo {
  return {
    shardId: row.get('shard_id') as number,
    rangeId: big(row.get('range_id')),
    owner: (row.get('owner') as string | null) ?? '',
    ackLevels: (row.get('ack_levels') as Record<string, string> | null) ?? {},
    updatedAtMs: num(row.get('updated_at')),
  };
}

export class CassandraExecutionStore implements ExecutionStore {
  private readonly table: string;
  private readonly history: CassandraHistory;
  constructor(private readonly db: Db) {
    this.table = db.t('executions');
    this.history = new CassandraHistory(db);
  }

  async createWorkflowExecution(req: CreateExecutionRequest): Promise<void> {
    checkCreateRequest(req);
    const ex = req.execution;
    const { mode } = req;
    const stmts: Stmt[] = [this.fence(req.shardId, req.rangeId)];
    if (mode.kind === 'brandNew') stmts.push(this.insertCurrent(req.shardId, ex));
    if (mode.kind === 'replaceCurrent') {
      stmts.push(
        this.setCurrent(req.shardId, ex, 'IF current_run_id = ? AND last_write_version = ? AND state = ?', [
          mode.previousRunId,
          mode.previousLastWriteVersion,
          REPLACEABLE_STATE,
        ]),
      );
    }
    stmts.push(this.insertExecution(req.shardId, ex), ...this.insertTasks(req.shardId, req.tasks));

    await this.history.write(req.history, true);
    const rows = await this.fenced(stmts);
    if (!rows) return;
    // A run that does not exist now never will (this batch settled any earlier one on the
    // partition), so nothing would delete its listing either.
    await this.discard([req.history], !findExecution(rows, ex.key.runId));
    this.checkFence(req.shardId, req.rangeId, rows);
    const currentRow = findCurrent(rows);
    const current = currentRow ? toCurrent(currentRow) : null;
    if (!currentAllowsCreate(mode, current)) throw new CurrentWorkflowConditionFailedError(current);
    const what = `${ex.key.workflowId}/${ex.key.runId}`;
    if (findExecution(rows, ex.key.runId)) throw new ConditionFailedError(`workflow run ${what} exists already in namespace ${ex.key.namespaceId}`);
    throw new ConditionFailedError(`createWorkflowExecution of ${what} was not applied`);
  }

  async updateWorkflowExecution(req: UpdateExecutionRequest): Promise<void> {
    checkUpdateRequest(req);
    const ex = req.execution;
    // Only an append off the stored branch's end needs to know that branch: read it before
    // writing anything. A plain append (every active write) costs no extra round trip.
    if (req.history && !startsAtStoredEnd(req.history, req.expectedNextEventId)) {
      checkStoredRun(req, await this.head(req.shardId, ex.key));
    }
    const stmts: Stmt[] = [
      this.fence(req.shardId, req.rangeId),
      {
        query: `UPDATE ${this.table} SET branch_id = ?, db_record_version = ?, create_request_id = ?, state = ?, status = ?, next_event_id = ?, start_version = ?, last_write_version = ?, data = ? WHERE shard_id = ? AND ${KEY} IF db_record_version = ? AND next_event_id = ?`,
        params: [...executionValues(ex), req.shardId, ...executionKey(ex.key), BigInt(req.expectedDbRecordVersion), BigInt(req.expectedNextEventId)],
      },
    ];
    if (req.newRun) stmts.push(this.insertExecution(req.shardId, req.newRun));
    if (req.mode === 'updateCurrent') {
      stmts.push(this.setCurrent(req.shardId, req.newRun ?? ex, 'IF current_run_id = ?', [ex.key.runId]));
    }
    stmts.push(...this.insertTasks(req.shardId, req.tasks));

    const appends: HistoryAppend[] = [];
    const writes: Promise<void>[] = [];
    if (req.history) {
      appends.push(req.history);
      writes.push(this.history.write(req.history, mayStartBranch(req.history, req.expectedNextEventId)));
    }
    if (req.newRunHistory) {
      appends.push(req.newRunHistory);
      writes.push(this.history.write(req.newRunHistory, true));
    }
    await Promise.all(writes);
    const rows = await this.fenced(stmts);
    if (!rows) return;
    await this.discard(appends, false);
    this.checkFence(req.shardId, req.rangeId, rows);
    const stored = findExecution(rows, ex.key.runId);
    checkStoredRun(req, stored ? toHead(stored) : null);
    if (req.mode === 'updateCurrent') {
      const current = findCurrent(rows);
      if (current?.get('current_run_id') !== ex.key.runId) {
        throw new ConditionFailedError(`current run of ${ex.key.workflowId} is ${current?.get('current_run_id') ?? 'missing'}, not ${ex.key.runId}`);
      }
    }
    if (req.newRun && findExecution(rows, req.newRun.key.runId)) {
      throw new ConditionFailedError(`new run ${req.newRun.key.workflowId}/${req.newRun.key.runId} exists already`);
    }
    throw new ConditionFailedError(`updateWorkflowExecution of ${ex.key.workflowId}/${ex.key.runId} was not applied`);
  }

  async getWorkflowExecution(shardId: number, key: ExecutionKey): Promise<ExecutionRecord | null> {
    const row = await this.db.first(`SELECT * FROM ${this.table} WHERE shard_id = ? AND ${KEY}`, [shardId, ...executionKey(key)]);
    return row ? toExecution(row) : null;
  }

  async getCurrentExecution(shardId: number, namespaceId: string, workflowId: string): Promise<CurrentExecution | null> {
    const row = await this.db.first(`SELECT * FROM ${this.table} WHERE shard_id = ? AND ${KEY}`, [shardId, ...currentKey(namespaceId, workflowId)]);
    return row ? toCurrent(row) : null;
  }

  async listExecutions(shardId: number, after: ExecutionKey | null, limit: number): Promise<ExecutionRecord[]> {
    const rows = after
      ? await this.db.all(
          `SELECT * FROM ${this.table} WHERE shard_id = ? AND row_type = ? AND (namespace_id, workflow_id, run_id) > (?, ?, ?) LIMIT ?`,
          [shardId, ROW.execution, after.namespaceId, after.workflowId, after.runId, limit],
        )
      : await this.db.all(`SELECT * FROM ${this.table} WHERE shard_id = ? AND row_type = ? LIMIT ?`, [shardId, ROW.execution, limit]);
    return rows.map(toExecution);
  }

  async deleteWorkflowExecution(shardId: number, key: ExecutionKey): Promise<void> {
    // History first: while the record stays, a retried delete still finds the run.
    await this.history.deleteTree(key.runId);
    await this.db.execute(`DELETE FROM ${this.table} WHERE shard_id = ? AND ${KEY}`, [shardId, ...executionKey(key)]);
    // Conditional, and apart: another run may have become current since.
    await this.db.execute(`DELETE FROM ${this.table} WHERE shard_id = ? AND ${KEY} IF current_run_id = ?`, [
      shardId,
      ...currentKey(key.namespaceId, key.workflowId),
      key.runId,
    ]);
  }

  async readHistory(req: ReadHistoryRequest): Promise<HistoryEventRow[]> {
    return this.history.read(req);
  }

  async getHistoryTasks(req: TaskRangeRequest): Promise<HistoryTask[]> {
    const rows = await this.db.all(
      `SELECT * FROM ${this.table} WHERE shard_id = ? AND ${TASK_PREFIX} AND visibility_ts = 0 AND id > ? AND id <= ? LIMIT ?`,
      [req.shardId, TASK_ROW[req.category], req.afterTaskId, req.maxTaskId, req.limit],
    );
    return rows.map(toTask);
  }

  async getTimerTasks(req: TimerRangeRequest): Promise<HistoryTask[]> {
    const rows = await this.db.all(
      `SELECT * FROM ${this.table} WHERE shard_id = ? AND ${TASK_PREFIX} AND (visibility_ts, id) > (?, ?) AND (visibility_ts, id) <= (?, ?) LIMIT ?`,
      [req.shardId, TASK_ROW.timer, BigInt(req.after.visibilityTimeMs), req.after.taskId, BigInt(req.maxVisibilityTimeMs), MAX_INT64, req.limit],
    );
    return rows.map(toTask);
  }

  async rangeDeleteHistoryTasks(shardId: number, category: Exclude<TaskCategory, 'timer'>, beforeTaskId: Int64): Promise<void> {
    await this.db.execute(`DELETE FROM ${this.table} WHERE shard_id = ? AND ${TASK_PREFIX} AND visibility_ts = 0 AND id < ?`, [
      shardId,
      TASK_ROW[category],
      beforeTaskId,
    ]);
  }

  async rangeDeleteTimerTasks(shardId: number, before: { visibilityTimeMs: number; taskId: Int64 }): Promise<void> {
    await this.db.execute(`DELETE FROM ${this.table} WHERE shard_id = ? AND ${TASK_PREFIX} AND (visibility_ts, id) < (?, ?)`, [
      shardId,
      TASK_ROW.timer,
      BigInt(before.visibilityTimeMs),
      before.taskId,
    ]);
  }

  async createHistoryTasks(shardId: number, rangeId: Int64, tasks: HistoryTask[]): Promise<void> {
    const rows = await this.fenced([this.fence(shardId, rangeId), ...this.insertTasks(shardId, tasks)]);
    if (rows) this.checkFence(shardId, rangeId, rows);
  }

  async deleteHistoryTask(shardId: number, task: Pick<HistoryTask, 'category' | 'taskId' | 'visibilityTimeMs'>): Promise<void> {
    await this.db.execute(`DELETE FROM ${this.table} WHERE shard_id = ? AND ${KEY}`, [shardId, ...taskKey(task)]);
  }

  /** Runs the fenced batch: null when it applied, else the rows Cassandra answered with. */
  private async fenced(stmts: Stmt[]): Promise<Row[] | null> {
    const rs = await this.db.batch(stmts);
    return rs.wasApplied() ? null : (rs.rows ?? []);
  }

  /**
   * Removes what a refused batch's appends wrote (CassandraHistory.discard). If that fails too,
   * the refusal still stands and is what the caller hears: a writer that does not append from a
   * stale nextEventId (store.ts) leaves rows only past the committed one, where no read goes.
   */
  private async discard(appends: HistoryAppend[], unlist: boolean): Promise<void> {
    await Promise.all(appends.map((a) => this.history.discard(a, unlist))).catch(() => undefined);
  }

  private async head(shardId: number, key: ExecutionKey): Promise<StoredHead | null> {
    const row = await this.db.first(`SELECT branch_id, db_record_version, next_event_id FROM ${this.table} WHERE shard_id = ? AND ${KEY}`, [
      shardId,
      ...executionKey(key),
    ]);
    return row ? toHead(row) : null;
  }

  /** The shard fence: a no-op write of range_id that makes the whole batch conditional on it. */
  private fence(shardId: number, rangeId: Int64): Stmt {
    return {
      query: `UPDATE ${this.table} SET range_id = ? WHERE shard_id = ? AND ${KEY} IF range_id = ?`,
      params: [rangeId, shardId, ...shardKey(), rangeId],
    };
  }

  private checkFence(shardId: number, rangeId: Int64, rows: Row[]): void {
    const shard = rows.find((r) => r.get('row_type') === ROW.shard);
    const actual = shard ? big(shard.get('range_id')) : null;
    if (actual !== rangeId) throw new ShardOwnershipLostError(shardId, rangeId, actual);
  }

  private insertCurrent(shardId: number, ex: ExecutionRecord): Stmt {
    return {
      query: `INSERT INTO ${this.table} (${KEY_COLS}, current_run_id, create_request_id, state, status, start_version, last_write_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      params: [shardId, ...currentKey(ex.key.namespaceId, ex.key.workflowId), ...currentValues(ex)],
    };
  }

  private setCurrent(shardId: number, ex: ExecutionRecord, condition: string, conditionParams: unknown[]): Stmt {
    return {
      query: `UPDATE ${this.table} SET current_run_id = ?, create_request_id = ?, state = ?, status = ?, start_version = ?, last_write_version = ? WHERE shard_id = ? AND ${KEY} ${condition}`,
      params: [...currentValues(ex), shardId, ...currentKey(ex.key.namespaceId, ex.key.workflowId), ...conditionParams],
    };
  }

  private insertExecution(shardId: number, ex: ExecutionRecord): Stmt {
    return {
      query: `INSERT INTO ${this.table} (${KEY_COLS}, branch_id, db_record_version, create_request_id, state, status, next_event_id, start_version, last_write_version, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      params: [shardId, ...executionKey(ex.key), ...executionValues(ex)],
    };
  }

  private insertTasks(shardId: number, tasks: HistoryTask[]): Stmt[] {
    return tasks.map((t) => ({
      query: `INSERT INTO ${this.table} (${KEY_COLS}, task_namespace_id, task_workflow_id, task_run_id, task_type, task_time, task_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      params: [shardId, ...taskKey(t), t.namespaceId, t.workflowId, t.runId, t.type, BigInt(t.visibilityTimeMs), t.data],
    }));
  }
}

function currentValues(ex: ExecutionRecord): unknown[] {
  return [ex.key.runId, ex.createRequestId, ex.state, ex.status, ex.startVersion, ex.lastWriteVersion];
}

function executionValues(ex: ExecutionRecord): unknown[] {
  return [
    ex.branchId,
    BigInt(ex.dbRecordVersion),
    ex.createRequestId,
    ex.state,
    ex.status,
    BigInt(ex.nextEventId),
    ex.startVersion,
    ex.lastWriteVersion,
    toBlob(ex.data),
  ];
}

function findExecution(rows: Row[], runId: string): Row | undefined {
  return rows.find((r) => r.get('row_type') === ROW.execution && r.get('run_id') === runId);
}

function findCurrent(rows: Row[]): Row | undefined {
  return rows.find((r) => r.get('row_type') === ROW.current && r.get('current_run_id') !== null);
}

function toHead(row: Row): StoredHead {
  return { dbRecordVersion: num(row.get('db_record_version')), nextEventId: num(row.get('next_event_id')), branchId: (row.get('branch_id') as string | null) ?? '' };
}

function toCurrent(row: Row): CurrentExecution {
  return {
    namespaceId: row.get('namespace_id') as string,
    workflowId: row.get('workflow_id') as string,
    runId: row.get('current_run_id') as string,
    createRequestId: (row.get('create_request_id') as string | null) ?? '',
    state: row.get('state') as ExecutionState,
    status: row.get('status') as number,
    startVersion: big(row.get('start_version')),
    lastWriteVersion: big(row.get('last_write_version')),
  };
}

function toExecution(row: Row): ExecutionRecord {
  return {
    key: { namespaceId: row.get('namespace_id') as string, workflowId: row.get('workflow_id') as string, runId: row.get('run_id') as string },
    branchId: (row.get('branch_id') as string | null) ?? '',
    dbRecordVersion: num(row.get('db_record_version')),
    state: row.get('state') as ExecutionState,
    status: row.get('status') as number,
    nextEventId: num(row.get('next_event_id')),
    startVersion: big(row.get('start_version')),
    lastWriteVersion: big(row.get('last_write_version')),
    createRequestId: (row.get('create_request_id') as string | null) ?? '',
    data: fromBlob(row.get('data') as Buffer | null),
  };
}

function toTask(row: Row): HistoryTask {
  return {
    category: CATEGORY_OF_ROW.get(row.get('row_type') as number)!,
    taskId: big(row.get('id')),
    visibilityTimeMs: num(row.get('task_time')),
    namespaceId: row.get('task_namespace_id') as string,
    workflowId: row.get('task_workflow_id') as string,
    runId: row.get('task_run_id') as string,
    type: row.get('task_type') as string,
    data: (row.get('task_data') as string | null) ?? '',
  };
}
