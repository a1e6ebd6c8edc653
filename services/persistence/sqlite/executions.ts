import type Database from 'better-sqlite3';
import { checkStoredRun, currentAllowsCreate, type StoredHead } from '../conditions.js';
import { ConditionFailedError, CurrentWorkflowConditionFailedError } from '../errors.js';
import { checkCreateRequest, checkUpdateRequest } from '../request-checks.js';
import type { ExecutionStore } from '../store.js';
import type {
  CreateExecutionRequest,
  CurrentExecution,
  ExecutionKey,
  ExecutionRecord,
  ExecutionState,
  HistoryEventRow,
  HistoryTask,
  Int64,
  ReadHistoryRequest,
  TaskCategory,
  TaskRangeRequest,
  TimerRangeRequest,
  UpdateExecutionRequest,
} from '../types.js';
import { blob, num } from './codec.js';
import { SqliteHistory } from './history.js';
import type { SqliteShardStore } from './shards.js';

interface ExecutionRow {
  namespace_id: string;
  workflow_id: string;
  run_id: string;
  branch_id: string;
  db_record_version: bigint;
  state: ExecutionState;
  status: bigint;
  next_event_id: bigint;
  start_version: bigint;
  last_write_version: bigint;
  create_request_id: string;
  data: Buffer;
}

interface CurrentRow {
  namespace_id: string;
  workflow_id: string;
  run_id: string;
  create_request_id: string;
  state: ExecutionState;
  status: bigint;
  start_version: bigint;
  last_write_version: bigint;
}

/** What an update's conditions compare. */
interface HeadRow {
  db_record_version: bigint;
  next_event_id: bigint;
  branch_id: string;
}

interface TaskRow {
  category: TaskCategory;
  task_id: bigint;
  visibility_time_ms: bigint;
  namespace_id: string;
  workflow_id: string;
  run_id: string;
  type: string;
  data: string;
}

const EXECUTION_COLUMNS = `namespace_id, workflow_id, run_id, branch_id, db_record_version, state, status, next_event_id,
  start_version, last_write_version, create_request_id, data`;
const TASK_COLUMNS = 'category, task_id, visibility_time_ms, namespace_id, workflow_id, run_id, type, data';
const KEY_WHERE = 'shard_id = @shardId AND namespace_id = @namespaceId AND workflow_id = @workflowId AND run_id = @runId';

export class SqliteExecutionStore implements ExecutionStore {
  private readonly stmt;
  private readonly history: SqliteHistory;
  private readonly createTx: (req: CreateExecutionRequest) => void;
  private readonly updateTx: (req: UpdateExecutionRequest) => void;
  private readonly deleteTx: (shardId: number, key: ExecutionKey) => void;
  private readonly tasksTx: (shardId: number, rangeId: Int64, tasks: HistoryTask[]) => void;

  constructor(
    db: Database.Database,
    private readonly shards: SqliteShardStore,
  ) {
    this.history = new SqliteHistory(db);
    this.stmt = {
      selectExecution: db.prepare(`SELECT ${EXECUTION_COLUMNS} FROM executions WHERE ${KEY_WHERE}`),
      selectHead: db.prepare(`SELECT db_record_version, next_event_id, branch_id FROM executions WHERE ${KEY_WHERE}`),
      insertExecution: db.prepare(
        `INSERT INTO executions (shard_id, ${EXECUTION_COLUMNS}) VALUES (@shardId, @namespaceId, @workflowId, @runId,
         @branchId, @dbRecordVersion, @state, @status, @nextEventId, @startVersion, @lastWriteVersion, @createRequestId, @data)
         ON CONFLICT DO NOTHING`,
      ),
      updateExecution: db.prepare(
        `UPDATE executions SET branch_id = @branchId, db_record_version = @dbRecordVersion, state = @state, status = @status,
         next_event_id = @nextEventId, start_version = @startVersion, last_write_version = @lastWriteVersion,
         create_request_id = @createRequestId, data = @data
         WHERE ${KEY_WHERE} AND db_record_version = @expectedDbRecordVersion AND next_event_id = @expectedNextEventId`,
      ),
      deleteExecution: db.prepare(`DELETE FROM executions WHERE ${KEY_WHERE}`),
      listFirst: db.prepare(
        `SELECT ${EXECUTION_COLUMNS} FROM executions WHERE shard_id = @shardId
         ORDER BY namespace_id, workflow_id, run_id LIMIT @limit`,
      ),
      listAfter: db.prepare(
        `SELECT ${EXECUTION_COLUMNS} FROM executions
         WHERE shard_id = @shardId AND (namespace_id, workflow_id, run_id) > (@namespaceId, @workflowId, @runId)
         ORDER BY namespace_id, workflow_id, run_id LIMIT @limit`,
      ),
      selectCurrent: db.prepare(
        `SELECT namespace_id, workflow_id, run_id, create_request_id, state, status, start_version, last_write_version
         FROM current_executions WHERE shard_id = @shardId AND namespace_id = @namespaceId AND workflow_id = @workflowId`,
      ),
      upsertCurrent: db.prepare(
        `INSERT INTO current_executions (shard_id, namespace_id, workflow_id, run_id, create_request_id, state, status,
         start_version, last_write_version)
         VALUES (@shardId, @namespaceId, @workflowId, @runId, @createRequestId, @state, @status, @startVersion, @lastWriteVersion)
         ON CONFLICT (shard_id, namespace_id, workflow_id) DO UPDATE SET run_id = excluded.run_id,
         create_request_id = excluded.create_request_id, state = excluded.state, status = excluded.status,
         start_version = excluded.start_version, last_write_version = excluded.last_write_version`,
      ),
      deleteCurrentOfRun: db.prepare(`DELETE FROM current_executions WHERE ${KEY_WHERE}`),
      // An upsert, like a Cassandra INSERT: re-writing a task is idempotent.
      upsertTask: db.prepare(
        `INSERT OR REPLACE INTO history_tasks (shard_id, fire_time_ms, ${TASK_COLUMNS})
         VALUES (@shardId, @fireTimeMs, @category, @taskId, @visibilityTimeMs, @namespaceId, @workflowId, @runId, @type, @data)`,
      ),
      readTasks: db.prepare(
        `SELECT ${TASK_COLUMNS} FROM history_tasks
         WHERE shard_id = @shardId AND category = @category AND fire_time_ms = 0 AND task_id > @afterTaskId AND task_id <= @maxTaskId
         ORDER BY task_id LIMIT @limit`,
      ),
      readTimers: db.prepare(
        `SELECT ${TASK_COLUMNS} FROM history_tasks
         WHERE shard_id = @shardId AND category = 'timer' AND (fire_time_ms, task_id) > (@afterTimeMs, @afterTaskId)
         AND fire_time_ms <= @maxTimeMs
         ORDER BY fire_time_ms, task_id LIMIT @limit`,
      ),
      rangeDeleteTasks: db.prepare(
        `DELETE FROM history_tasks WHERE shard_id = @shardId AND category = @category AND fire_time_ms = 0 AND task_id < @beforeTaskId`,
      ),
      rangeDeleteTimers: db.prepare(
        `DELETE FROM history_tasks WHERE shard_id = @shardId AND category = 'timer' AND (fire_time_ms, task_id) < (@beforeTimeMs, @beforeTaskId)`,
      ),
      deleteTask: db.prepare(
        `DELETE FROM history_tasks WHERE shard_id = @shardId AND category = @category AND fire_time_ms = @fireTimeMs AND task_id = @taskId`,
      ),
    } as const;

    const createTx = db.transaction((req: CreateExecutionRequest) => this.create(req));
    const updateTx = db.transaction((req: UpdateExecutionRequest) => this.update(req));
    const deleteTx = db.transaction((shardId: number, key: ExecutionKey) => this.delete(shardId, key));
    const tasksTx = db.transaction((shardId: number, rangeId: Int64, tasks: HistoryTask[]) => {
      this.shards.assertOwner(shardId, rangeId);
      this.appendTasks(shardId, tasks);
    });
    // IMMEDIATE takes the write lock before the condition reads, so no other connection can
    // change what the conditions saw before the writes land.
    this.createTx = (req) => createTx.immediate(req);
    this.updateTx = (req) => updateTx.immediate(req);
    this.deleteTx = (shardId, key) => deleteTx.immediate(shardId, key);
    this.tasksTx = (shardId, rangeId, tasks) => tasksTx.immediate(shardId, rangeId, tasks);
  }

  async createWorkflowExecution(req: CreateExecutionRequest): Promise<void> {
    checkCreateRequest(req);
    this.createTx(req);
  }

  async updateWorkflowExecution(req: UpdateExecutionRequest): Promise<void> {
    checkUpdateRequest(req);
    this.updateTx(req);
  }

  async getWorkflowExecution(shardId: number, key: ExecutionKey): Promise<ExecutionRecord | null> {
    const row = this.stmt.selectExecution.get({ shardId, ...key }) as ExecutionRow | undefined;
    return row ? toExecution(row) : null;
  }

  async getCurrentExecution(shardId: number, namespaceId: string, workflowId: string): Promise<CurrentExecution | null> {
    return this.current(shardId, namespaceId, workflowId);
  }

  async listExecutions(shardId: number, after: ExecutionKey | null, limit: number): Promise<ExecutionRecord[]> {
    const rows = (after ? this.stmt.listAfter.all({ shardId, ...after, limit }) : this.stmt.listFirst.all({ shardId, limit })) as ExecutionRow[];
    return rows.map(toExecution);
  }

  async deleteWorkflowExecution(shardId: number, key: ExecutionKey): Promise<void> {
    this.deleteTx(shardId, key);
  }

  async readHistory(req: ReadHistoryRequest): Promise<HistoryEventRow[]> {
    return this.history.read(req);
  }

  async createHistoryTasks(shardId: number, rangeId: Int64, tasks: HistoryTask[]): Promise<void> {
    this.tasksTx(shardId, rangeId, tasks);
  }

  async getHistoryTasks(req: TaskRangeRequest): Promise<HistoryTask[]> {
    const rows = this.stmt.readTasks.all({
      shardId: req.shardId,
      category: req.category,
      afterTaskId: req.afterTaskId,
      maxTaskId: req.maxTaskId,
      limit: req.limit,
    }) as TaskRow[];
    return rows.map(toTask);
  }

  async getTimerTasks(req: TimerRangeRequest): Promise<HistoryTask[]> {
    const rows = this.stmt.readTimers.all({
      shardId: req.shardId,
      afterTimeMs: req.after.visibilityTimeMs,
      afterTaskId: req.after.taskId,
      maxTimeMs: req.maxVisibilityTimeMs,
      limit: req.limit,
    }) as TaskRow[];
    return rows.map(toTask);
  }

  async rangeDeleteHistoryTasks(shardId: number, category: Exclude<TaskCategory, 'timer'>, beforeTaskId: Int64): Promise<void> {
    this.stmt.rangeDeleteTasks.run({ shardId, category, beforeTaskId });
  }

  async rangeDeleteTimerTasks(shardId: number, before: { visibilityTimeMs: number; taskId: Int64 }): Promise<void> {
    this.stmt.rangeDeleteTimers.run({ shardId, beforeTimeMs: before.visibilityTimeMs, beforeTaskId: before.taskId });
  }

  async deleteHistoryTask(shardId: number, task: Pick<HistoryTask, 'category' | 'taskId' | 'visibilityTimeMs'>): Promise<void> {
    this.stmt.deleteTask.run({ shardId, category: task.category, fireTimeMs: fireTimeOf(task), taskId: task.taskId });
  }

  // The transaction bodies: every condition is read first, so a failed one throws before any write.

  private create(req: CreateExecutionRequest): void {
    const { shardId, execution, mode } = req;
    const { namespaceId, workflowId } = execution.key;
    this.shards.assertOwner(shardId, req.rangeId);
    if (mode.kind !== 'zombie') {
      const current = this.current(shardId, namespaceId, workflowId);
      if (!currentAllowsCreate(mode, current)) throw new CurrentWorkflowConditionFailedError(current);
    }
    this.insertExecution(shardId, execution);
    if (mode.kind !== 'zombie') this.stmt.upsertCurrent.run(currentParams(shardId, execution));
    this.history.append(req.history);
    this.appendTasks(shardId, req.tasks);
  }

  private update(req: UpdateExecutionRequest): void {
    const { shardId, execution, newRun } = req;
    const { namespaceId, workflowId, runId } = execution.key;
    this.shards.assertOwner(shardId, req.rangeId);
    checkStoredRun(req, this.head(shardId, execution.key));
    if (req.mode === 'updateCurrent') {
      const current = this.current(shardId, namespaceId, workflowId);
      if (current?.runId !== runId) {
        throw new ConditionFailedError(
          `workflow ${workflowId}: current run is ${current?.runId ?? 'none'}, not the updated run ${runId}`,
        );
      }
    }
    if (newRun && this.head(shardId, newRun.key)) {
      throw new ConditionFailedError(`new run ${workflowId}/${newRun.key.runId} exists already in shard ${shardId}`);
    }
    this.stmt.updateExecution.run({
      ...executionParams(shardId, execution),
      expectedDbRecordVersion: req.expectedDbRecordVersion,
      expectedNextEventId: req.expectedNextEventId,
    });
    if (req.history) this.history.append(req.history);
    if (newRun) {
      this.insertExecution(shardId, newRun);
      if (req.newRunHistory) this.history.append(req.newRunHistory);
    }
    if (req.mode === 'updateCurrent') this.stmt.upsertCurrent.run(currentParams(shardId, newRun ?? execution));
    this.appendTasks(shardId, req.tasks);
  }

  private delete(shardId: number, key: ExecutionKey): void {
    const params = { shardId, ...key };
    this.history.deleteTree(key.runId);
    this.stmt.deleteExecution.run(params);
    this.stmt.deleteCurrentOfRun.run(params);
  }

  private head(shardId: number, key: ExecutionKey): StoredHead | null {
    const row = this.stmt.selectHead.get({ shardId, ...key }) as HeadRow | undefined;
    return row ? { dbRecordVersion: num(row.db_record_version), nextEventId: num(row.next_event_id), branchId: row.branch_id } : null;
  }

  private current(shardId: number, namespaceId: string, workflowId: string): CurrentExecution | null {
    const row = this.stmt.selectCurrent.get({ shardId, namespaceId, workflowId }) as CurrentRow | undefined;
    return row ? toCurrent(row) : null;
  }

  /** A taken run id aborts the batch; the transaction rolls back whatever it wrote before. */
  private insertExecution(shardId: number, rec: ExecutionRecord): void {
    if (this.stmt.insertExecution.run(executionParams(shardId, rec)).changes === 0) {
      throw new ConditionFailedError(`execution ${rec.key.workflowId}/${rec.key.runId} exists already in shard ${shardId}`);
    }
  }

  private appendTasks(shardId: number, tasks: HistoryTask[]): void {
    for (const t of tasks) {
      this.stmt.upsertTask.run({
        shardId,
        fireTimeMs: fireTimeOf(t),
        category: t.category,
        taskId: t.taskId,
        visibilityTimeMs: t.visibilityTimeMs,
        namespaceId: t.namespaceId,
        workflowId: t.workflowId,
        runId: t.runId,
        type: t.type,
        data: t.data,
      });
    }
  }
}

function fireTimeOf(task: Pick<HistoryTask, 'category' | 'visibilityTimeMs'>): number {
  return task.category === 'timer' ? task.visibilityTimeMs : 0;
}

function executionParams(shardId: number, rec: ExecutionRecord) {
  return {
    shardId,
    ...rec.key,
    branchId: rec.branchId,
    dbRecordVersion: rec.dbRecordVersion,
    state: rec.state,
    status: rec.status,
    nextEventId: rec.nextEventId,
    startVersion: rec.startVersion,
    lastWriteVersion: rec.lastWriteVersion,
    createRequestId: rec.createRequestId,
    data: blob(rec.data),
  };
}

function currentParams(shardId: number, rec: ExecutionRecord) {
  return {
    shardId,
    ...rec.key,
    createRequestId: rec.createRequestId,
    state: rec.state,
    status: rec.status,
    startVersion: rec.startVersion,
    lastWriteVersion: rec.lastWriteVersion,
  };
}

function toExecution(r: ExecutionRow): ExecutionRecord {
  return {
    key: { namespaceId: r.namespace_id, workflowId: r.workflow_id, runId: r.run_id },
    branchId: r.branch_id,
    dbRecordVersion: num(r.db_record_version),
    state: r.state,
    status: num(r.status),
    nextEventId: num(r.next_event_id),
    startVersion: r.start_version,
    lastWriteVersion: r.last_write_version,
    createRequestId: r.create_request_id,
    data: r.data,
  };
}

function toCurrent(r: CurrentRow): CurrentExecution {
  return {
    namespaceId: r.namespace_id,
    workflowId: r.workflow_id,
    runId: r.run_id,
    createRequestId: r.create_request_id,
    state: r.state,
    status: num(r.status),
    startVersion: r.start_version,
    lastWriteVersion: r.last_write_version,
  };
}

function toTask(r: TaskRow): HistoryTask {
  return {
    category: r.category,
    taskId: r.task_id,
    visibilityTimeMs: num(r.visibility_time_ms),
    namespaceId: r.namespace_id,
    workflowId: r.workflow_id,
    runId: r.run_id,
    type: r.type,
    data: r.data,
  };
}
