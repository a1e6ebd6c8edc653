import { apiError } from '../../common/errors.js';
import type Database from 'better-sqlite3';
import type { VisibilityStore } from '../store.js';
import type { ListVisibilityRequest, VisibilityFilter, VisibilityRecord } from '../types.js';
import { num } from './codec.js';

interface VisibilityRow {
  namespace_id: string;
  run_id: string;
  workflow_id: string;
  workflow_type: string;
  task_queue: string;
  status: bigint;
  start_time_ms: bigint;
  execution_time_ms: bigint;
  close_time_ms: bigint | null;
  history_length: bigint;
  data: string;
}

/** Where the previous page stopped, in the list order (start time desc, run id asc). */
interface Cursor {
  startTimeMs: number;
  runId: string;
}

type Bindings = Record<string, string | number>;

/** temporal.api.enums.v1.WorkflowExecutionStatus RUNNING: the only open status. */
const STATUS_RUNNING = 1;

const COLUMNS = `namespace_id, run_id, workflow_id, workflow_type, task_queue, status, start_time_ms, execution_time_ms,
  close_time_ms, history_length, data`;

export class SqliteVisibilityStore implements VisibilityStore {
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;
  /** One statement per filter shape; there are few shapes, so the cache stays small. */
  private readonly queries = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.upsert = db.prepare(
      `INSERT OR REPLACE INTO visibility (${COLUMNS}) VALUES (@namespaceId, @runId, @workflowId, @workflowType, @taskQueue,
       @status, @startTimeMs, @executionTimeMs, @closeTimeMs, @historyLength, @data)`,
    );
    this.remove = db.prepare('DELETE FROM visibility WHERE namespace_id = ? AND run_id = ?');
  }

  async upsertVisibility(rec: VisibilityRecord): Promise<void> {
    this.upsert.run({ ...rec });
  }

  async deleteVisibility(namespaceId: string, runId: string): Promise<void> {
    this.remove.run(namespaceId, runId);
  }

  async listVisibility(req: ListVisibilityRequest): Promise<{ records: VisibilityRecord[]; nextPageToken?: string }> {
    if (!Number.isInteger(req.pageSize) || req.pageSize < 1) {
      throw new RangeError(`listVisibility: pageSize must be a positive integer, got ${req.pageSize}`);
    }
    const { clauses, params } = where(req.namespaceId, req.filter);
    if (req.nextPageToken !== undefined) {
      const c = decodeToken(req.nextPageToken);
      clauses.push('(start_time_ms < @cursorStart OR (start_time_ms = @cursorStart AND run_id > @cursorRunId))');
      Object.assign(params, { cursorStart: c.startTimeMs, cursorRunId: c.runId });
    }
    // One row past the page tells whether another page exists, so the last page has no token.
    const sql = `SELECT ${COLUMNS} FROM visibility WHERE ${clauses.join(' AND ')}
      ORDER BY start_time_ms DESC, run_id ASC LIMIT @limit`;
    const rows = this.query(sql).all({ ...params, limit: req.pageSize + 1 }) as VisibilityRow[];
    const records = rows.slice(0, req.pageSize).map(toRecord);
    if (rows.length <= req.pageSize) return { records };
    const last = records[records.length - 1]!;
    return { records, nextPageToken: encodeToken({ startTimeMs: last.startTimeMs, runId: last.runId }) };
  }

  async countVisibility(namespaceId: string, filter: VisibilityFilter): Promise<number> {
    const { clauses, params } = where(namespaceId, filter);
    const count = this.query(`SELECT count(*) FROM visibility WHERE ${clauses.join(' AND ')}`).pluck().get(params) as bigint;
    return num(count);
  }

  private query(sql: string): Database.Statement {
    let stmt = this.queries.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.queries.set(sql, stmt);
    }
    return stmt;
  }
}

function where(namespaceId: string, filter: VisibilityFilter): { clauses: string[]; params: Bindings } {
  const clauses = ['namespace_id = @namespaceId'];
  const params: Bindings = { namespaceId };
  const equal = (column: string, name: string, value: string | number | undefined) => {
    if (value === undefined) return;
    clauses.push(`${column} = @${name}`);
    params[name] = value;
  };
  equal('workflow_id', 'workflowId', filter.workflowId);
  equal('run_id', 'runId', filter.runId);
  equal('workflow_type', 'workflowType', filter.workflowType);
  equal('status', 'status', filter.status);
  if (filter.open !== undefined) clauses.push(filter.open ? `status = ${STATUS_RUNNING}` : `status <> ${STATUS_RUNNING}`);
  return { clauses, params };
}

function encodeToken(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.startTimeMs, c.runId])).toString('base64url');
}

function decodeToken(token: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !Number.isSafeInteger(parsed[0]) || typeof parsed[1] !== 'string') {
    throw apiError('INVALID_ARGUMENT', 'Invalid NextPageToken.');
  }
  return { startTimeMs: parsed[0] as number, runId: parsed[1] };
}

function toRecord(r: VisibilityRow): VisibilityRecord {
  return {
    namespaceId: r.namespace_id,
    workflowId: r.workflow_id,
    runId: r.run_id,
    workflowType: r.workflow_type,
    taskQueue: r.task_queue,
    status: num(r.status),
    startTimeMs: num(r.start_time_ms),
    executionTimeMs: num(r.execution_time_ms),
    closeTimeMs: r.close_time_ms === null ? null : num(r.close_time_ms),
    historyLength: num(r.history_length),
    data: r.data,
  };
}
