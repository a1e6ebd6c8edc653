// Visibility on SQLite: the typed query compiles to one parameterized statement over the record's
// columns and its search_attributes JSON ({name: {type, value}}), with the rules of
// ../visibility-eval.ts (missing values match only IS NULL, KeywordList any/no element, Text
// phrase match through the tandem_text_match function, missing values sort last).
import type Database from 'better-sqlite3';
import type { VisibilityStore } from '../store.js';
import type { ListVisibilityRequest, VisibilityRecord } from '../types.js';
import { cursorOf, decodeCursor, encodeCursor, executionStatusNames, sortKeys, textMatches, type CursorValue, type SortKey } from '../visibility-eval.js';
import type { Condition, CountResult, FieldRef, ScalarValue, TypedValue, VisibilityColumn, VisibilityQuery } from '../visibility-query.js';
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
  execution_duration_ms: bigint | null;
  history_length: bigint;
  history_size_bytes: bigint;
  state_transition_count: bigint;
  parent_workflow_id: string | null;
  parent_run_id: string | null;
  root_workflow_id: string;
  root_run_id: string;
  search_attributes: string;
  data: string;
}

type Binding = string | number | null;

const COLUMNS = `namespace_id, run_id, workflow_id, workflow_type, task_queue, status, start_time_ms, execution_time_ms,
  close_time_ms, execution_duration_ms, history_length, history_size_bytes, state_transition_count, parent_workflow_id,
  parent_run_id, root_workflow_id, root_run_id, search_attributes, data`;

const statusName = `CASE status ${Object.entries(executionStatusNames)
  .map(([code, name]) => `WHEN ${Number(code)} THEN '${name}'`)
  .join(' ')} END`;

const columnSql: Record<VisibilityColumn, string> = {
  WorkflowId: 'workflow_id',
  RunId: 'run_id',
  WorkflowType: 'workflow_type',
  ExecutionStatus: statusName,
  StartTime: 'start_time_ms',
  ExecutionTime: 'execution_time_ms',
  CloseTime: 'close_time_ms',
  ExecutionDuration: 'execution_duration_ms',
  TaskQueue: 'task_queue',
  HistoryLength: 'history_length',
  HistorySizeBytes: 'history_size_bytes',
  StateTransitionCount: 'state_transition_count',
  ParentWorkflowId: 'parent_workflow_id',
  ParentRunId: 'parent_run_id',
  RootWorkflowId: 'root_workflow_id',
  RootRunId: 'root_run_id',
};

/** Prepared statements kept; queries vary, so the oldest shapes are let go. */
const STATEMENT_CACHE = 200;

const UPSERT = `INSERT OR REPLACE INTO visibility (${COLUMNS}) VALUES (@namespaceId, @runId, @workflowId, @workflowType, @taskQueue,
  @status, @startTimeMs, @executionTimeMs, @closeTimeMs, @executionDurationMs, @historyLength, @historySizeBytes,
  @stateTransitionCount, @parentWorkflowId, @parentRunId, @rootWorkflowId, @rootRunId, @searchAttributes, @data)`;

interface PendingWrite {
  write: () => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class SqliteVisibilityStore implements VisibilityStore {
  /** Prepared on first use, so a file held at an older schema version (migration tests) still opens. */
  private readonly statements = new Map<string, Database.Statement>();
  /** Upserts and deletes of this turn of the event loop, committed together at its end. */
  private pending: PendingWrite[] = [];

  constructor(private readonly db: Database.Database) {
    // NULL on a missing value, like any SQL comparison, so that its negation fails too.
    db.function('tandem_text_match', { deterministic: true }, (text: unknown, phrase: unknown) =>
      typeof text !== 'string' ? null : typeof phrase === 'string' && textMatches(text, phrase) ? 1 : 0,
    );
  }

  upsertVisibility(rec: VisibilityRecord): Promise<void> {
    return this.enqueue(() => this.statement(UPSERT).run({ ...rec, searchAttributes: JSON.stringify(rec.searchAttributes) }));
  }

  deleteVisibility(namespaceId: string, runId: string): Promise<void> {
    return this.enqueue(() => this.statement('DELETE FROM visibility WHERE namespace_id = ? AND run_id = ?').run(namespaceId, runId));
  }

  /**
   * A write waits for the end of the event loop's turn and commits in one transaction with every
   * other visibility write of the turn: each autocommitted statement would be a commit (and, at
   * synchronous = FULL, an fsync) of its own, one or two per workflow. It resolves once committed.
   */
  private enqueue(write: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  /** Commits what is pending (also called before the database closes). */
  flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const p of batch) p.write();
      })();
      for (const p of batch) p.resolve();
    } catch {
      // The transaction rolled back as a whole: each write again on its own, for its own outcome.
      for (const p of batch) {
        try {
          p.write();
          p.resolve();
        } catch (err) {
          p.reject(err);
        }
      }
    }
  }

  async listVisibility(req: ListVisibilityRequest): Promise<{ records: VisibilityRecord[]; nextPageToken?: string }> {
    if (!Number.isInteger(req.pageSize) || req.pageSize < 1) {
      throw new RangeError(`listVisibility: pageSize must be a positive integer, got ${req.pageSize}`);
    }
    const keys = sortKeys(req.query.orderBy);
    const params: Binding[] = [req.namespaceId];
    const clauses = ['namespace_id = ?'];
    if (req.query.where) clauses.push(condition(req.query.where, params));
    if (req.nextPageToken !== undefined) clauses.push(after(keys, decodeCursor(req.nextPageToken, keys), params));
    const order = keys.map(
      (k) => `${expr(k.field, params)} IS NULL ${k.nullsFirst ? 'DESC' : 'ASC'}, ${expr(k.field, params)} ${k.desc ? 'DESC' : 'ASC'}`,
    );
    // One row past the page tells whether another page exists, so the last page has no token.
    params.push(req.pageSize + 1);
    const sql = `SELECT ${COLUMNS} FROM visibility WHERE ${clauses.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ?`;
    const rows = this.statement(sql).all(params) as VisibilityRow[];
    const records = rows.slice(0, req.pageSize).map(toRecord);
    if (rows.length <= req.pageSize) return { records };
    const last = records[records.length - 1]!;
    return { records, nextPageToken: encodeCursor(cursorOf(keys, last)) };
  }

  async countVisibility(namespaceId: string, query: VisibilityQuery, groupBy?: FieldRef[]): Promise<CountResult> {
    const params: Binding[] = [];
    const groups = (groupBy ?? []).map((f, i) => `${expr(f, params)} AS g${i}`);
    params.push(namespaceId);
    const where = query.where ? `namespace_id = ? AND ${condition(query.where, params)}` : 'namespace_id = ?';
    if (!groupBy?.length) {
      return { count: num(this.statement(`SELECT count(*) FROM visibility WHERE ${where}`).pluck().get(params) as bigint) };
    }
    const names = groupBy.map((_, i) => `g${i}`).join(', ');
    const rows = this.statement(`SELECT ${groups.join(', ')}, count(*) AS n FROM visibility WHERE ${where} GROUP BY ${names}`)
      .all(params) as Record<string, unknown>[];
    const result = rows.map((r) => ({
      values: groupBy.map((f, i) => fromSql(f, r[`g${i}`])),
      count: num(r.n as bigint),
    }));
    return { count: result.reduce((n, g) => n + g.count, 0), groups: result };
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}

/** JSON path of a search attribute's value; names are the registry's identifiers, no quotes in them. */
const jsonPath = (name: string) => `$."${name}".value`;

/** The SQL value of a scalar field; pushes its parameters. */
function expr(field: FieldRef, params: Binding[]): string {
  if (field.builtin) return columnSql[field.name as VisibilityColumn];
  params.push(jsonPath(field.name));
  return 'json_extract(search_attributes, ?)';
}

/** SQLite has no booleans: JSON true/false read back as 1/0, so bind them that way. */
function bind(v: ScalarValue): Binding {
  return typeof v === 'boolean' ? Number(v) : v;
}

function fromSql(field: FieldRef, v: unknown): ScalarValue | null {
  if (v === null || v === undefined) return null;
  if (field.type === 'Bool') return Boolean(v);
  return typeof v === 'bigint' ? num(v) : (v as ScalarValue);
}

/** `x` compared by a positive (non-negated) operator, pushing its parameters. */
function positive(c: Exclude<Condition, { op: 'and' | 'or' | 'isNull' | 'isNotNull' }>, x: string, params: Binding[]): string {
  switch (c.op) {
    case 'in':
    case 'notIn':
      params.push(...c.values.map(bind));
      return `${x} IN (${c.values.map(() => '?').join(', ')})`;
    case 'between':
    case 'notBetween':
      params.push(bind(c.low), bind(c.high));
      return `${x} BETWEEN ? AND ?`;
    case 'startsWith':
    case 'notStartsWith':
      params.push(c.prefix, c.prefix);
      return `substr(${x}, 1, length(?)) = ?`;
    case '=':
    case '!=':
      params.push(bind(c.value));
      return c.field.type === 'Text' ? `tandem_text_match(${x}, ?)` : `${x} = ?`;
    default:
      params.push(bind(c.value));
      return `${x} ${c.op} ?`;
  }
}

const NEGATIONS = new Set(['!=', 'notIn', 'notBetween', 'notStartsWith']);

type NullTest = Extract<Condition, { op: 'isNull' | 'isNotNull' }>;
const isNullTest = (c: Condition): c is NullTest => c.op === 'isNull' || c.op === 'isNotNull';

function condition(c: Condition, params: Binding[]): string {
  if ('items' in c) return `(${c.items.map((x) => condition(x, params)).join(c.op === 'and' ? ' AND ' : ' OR ')})`;
  const negated = NEGATIONS.has(c.op);
  if (c.field.type === 'KeywordList') {
    params.push(jsonPath(c.field.name));
    const elements = 'SELECT 1 FROM json_each(search_attributes, ?)';
    if (isNullTest(c)) return `${c.op === 'isNull' ? 'NOT ' : ''}EXISTS (${elements})`;
    if (!negated) return `EXISTS (${elements} WHERE ${positive(c, 'value', params)})`;
    params.push(jsonPath(c.field.name));
    return `(EXISTS (${elements}) AND NOT EXISTS (${elements} WHERE ${positive(c, 'value', params)}))`;
  }
  const x = expr(c.field, params);
  if (isNullTest(c)) return `${x} IS ${c.op === 'isNull' ? '' : 'NOT '}NULL`;
  // SQL's NOT of an unknown (NULL) operand is unknown, so a missing value fails the negation too.
  return negated ? `NOT (${positive(c, x, params)})` : positive(c, x, params);
}

/** Rows strictly after the cursor in the order of `keys` (a keyset page start). */
function after(keys: SortKey[], cursor: CursorValue[], params: Binding[]): string {
  // Each use of a field pushes its parameters anew, in the order the SQL text names them.
  const compare = (k: SortKey, sql: string, v?: ScalarValue) => {
    const x = expr(k.field, params);
    if (v !== undefined) params.push(bind(v));
    return `${x} ${sql}`;
  };
  const alternatives = keys.map((key, i) => {
    const parts = keys.slice(0, i).map((k, j) => (cursor[j] === null ? compare(k, 'IS NULL') : compare(k, '= ?', cursor[j]!)));
    const v = cursor[i]!;
    if (v === null) {
      parts.push(key.nullsFirst ? compare(key, 'IS NOT NULL') : '0');
    } else {
      const beyond = compare(key, `${key.desc ? '<' : '>'} ?`, v);
      parts.push(key.nullsFirst ? beyond : `(${beyond} OR ${compare(key, 'IS NULL')})`);
    }
    return `(${parts.join(' AND ')})`;
  });
  return `(${alternatives.join(' OR ')})`;
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
    executionDurationMs: r.execution_duration_ms === null ? null : num(r.execution_duration_ms),
    historyLength: num(r.history_length),
    historySizeBytes: num(r.history_size_bytes),
    stateTransitionCount: num(r.state_transition_count),
    parentWorkflowId: r.parent_workflow_id,
    parentRunId: r.parent_run_id,
    rootWorkflowId: r.root_workflow_id,
    rootRunId: r.root_run_id,
    searchAttributes: JSON.parse(r.search_attributes) as Record<string, TypedValue>,
    data: r.data,
  };
}
