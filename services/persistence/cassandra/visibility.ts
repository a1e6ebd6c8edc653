// Visibility: one partition per namespace clustered newest start first; visibility_runs says
// where a run's row is, since callers address records by run id. Queries are evaluated in
// process (../visibility-eval.ts) over the namespace's partition: the store for small
// deployments; at scale, visibility belongs in OpenSearch.
import type { VisibilityStore } from '../store.js';
import type { ListVisibilityRequest, VisibilityRecord } from '../types.js';
import {
  cursorOf,
  decodeCursor,
  encodeCursor,
  evaluateCount,
  isAfterCursor,
  matches,
  sortKeys,
  compareRecords,
} from '../visibility-eval.js';
import type { Condition, CountResult, FieldRef, TypedValue, VisibilityQuery } from '../visibility-query.js';
import { Db, num, type Row } from './db.js';

const COLS = `namespace_id, start_time, run_id, workflow_id, workflow_type, task_queue, status, execution_time, close_time,
  execution_duration, history_length, history_size_bytes, state_transition_count, parent_workflow_id, parent_run_id,
  root_workflow_id, root_run_id, search_attributes, data`;
/** Rows read per round trip while scanning a namespace's partition. */
const SCAN_PAGE = 500;

const optionalBigInt = (v: number | null) => (v === null ? null : BigInt(v));

export class CassandraVisibilityStore implements VisibilityStore {
  private readonly table: string;
  private readonly runs: string;
  constructor(private readonly db: Db) {
    this.table = db.t('visibility');
    this.runs = db.t('visibility_runs');
  }

  async upsertVisibility(rec: VisibilityRecord): Promise<void> {
    const previous = await this.startTimeOf(rec.namespaceId, rec.runId);
    if (previous !== null && previous !== rec.startTimeMs) await this.deleteRow(rec.namespaceId, previous, rec.runId);
    await this.db.execute(`INSERT INTO ${this.runs} (namespace_id, run_id, start_time) VALUES (?, ?, ?)`, [
      rec.namespaceId,
      rec.runId,
      BigInt(rec.startTimeMs),
    ]);
    await this.db.execute(`INSERT INTO ${this.table} (${COLS}) VALUES (${COLS.split(',').map(() => '?').join(', ')})`, [
      rec.namespaceId,
      BigInt(rec.startTimeMs),
      rec.runId,
      rec.workflowId,
      rec.workflowType,
      rec.taskQueue,
      rec.status,
      BigInt(rec.executionTimeMs),
      optionalBigInt(rec.closeTimeMs),
      optionalBigInt(rec.executionDurationMs),
      BigInt(rec.historyLength),
      BigInt(rec.historySizeBytes),
      BigInt(rec.stateTransitionCount),
      rec.parentWorkflowId,
      rec.parentRunId,
      rec.rootWorkflowId,
      rec.rootRunId,
      JSON.stringify(rec.searchAttributes),
      rec.data,
    ]);
  }

  async deleteVisibility(namespaceId: string, runId: string): Promise<void> {
    const startTimeMs = await this.startTimeOf(namespaceId, runId);
    if (startTimeMs !== null) await this.deleteRow(namespaceId, startTimeMs, runId);
    await this.db.execute(`DELETE FROM ${this.runs} WHERE namespace_id = ? AND run_id = ?`, [namespaceId, runId]);
  }

  async listVisibility(req: ListVisibilityRequest): Promise<{ records: VisibilityRecord[]; nextPageToken?: string }> {
    const pageSize = Math.max(1, req.pageSize);
    const keys = sortKeys(req.query.orderBy);
    const cursor = req.nextPageToken ? decodeCursor(req.nextPageToken, keys) : null;
    // Any order may be asked for, so every match is read and sorted; a page is a slice of that.
    const rest: VisibilityRecord[] = [];
    for await (const rec of this.scan(req.namespaceId, req.query.where)) {
      if (!cursor || isAfterCursor(keys, cursor, rec)) rest.push(rec);
    }
    rest.sort((a, b) => compareRecords(keys, a, b));
    if (rest.length <= pageSize) return { records: rest };
    const records = rest.slice(0, pageSize);
    return { records, nextPageToken: encodeCursor(cursorOf(keys, records[pageSize - 1]!)) };
  }

  async countVisibility(namespaceId: string, query: VisibilityQuery, groupBy?: FieldRef[]): Promise<CountResult> {
    const matching: VisibilityRecord[] = [];
    for await (const rec of this.scan(namespaceId, query.where)) matching.push(rec);
    return evaluateCount(matching, {}, groupBy);
  }

  /** The namespace's records matching `where`, in no particular order. */
  private async *scan(namespaceId: string, where: Condition | undefined): AsyncGenerator<VisibilityRecord> {
    const runIds = pinnedRunIds(where);
    if (runIds) {
      for (const runId of runIds) {
        const startTimeMs = await this.startTimeOf(namespaceId, runId);
        if (startTimeMs === null) continue;
        const row = await this.db.first(`SELECT ${COLS} FROM ${this.table} WHERE namespace_id = ? AND start_time = ? AND run_id = ?`, [
          namespaceId,
          BigInt(startTimeMs),
          runId,
        ]);
        const rec = row && toRecord(row);
        if (rec && matches(rec, where)) yield rec;
      }
      return;
    }
    const select = `SELECT ${COLS} FROM ${this.table} WHERE namespace_id = ?`;
    let page = await this.db.execute(select, [namespaceId], { fetchSize: SCAN_PAGE });
    for (;;) {
      for (const row of page.rows) {
        const rec = toRecord(row);
        if (matches(rec, where)) yield rec;
      }
      if (!page.pageState) break;
      page = await this.db.execute(select, [namespaceId], { pageState: page.pageState, fetchSize: SCAN_PAGE });
    }
  }

  private async startTimeOf(namespaceId: string, runId: string): Promise<number | null> {
    const row = await this.db.first(`SELECT start_time FROM ${this.runs} WHERE namespace_id = ? AND run_id = ?`, [namespaceId, runId]);
    return row ? num(row.get('start_time')) : null;
  }

  private async deleteRow(namespaceId: string, startTimeMs: number, runId: string): Promise<void> {
    await this.db.execute(`DELETE FROM ${this.table} WHERE namespace_id = ? AND start_time = ? AND run_id = ?`, [namespaceId, BigInt(startTimeMs), runId]);
  }
}

/** The run ids a condition allows at most (RunId = / IN, alone or ANDed), or null when it does not pin them. */
function pinnedRunIds(c: Condition | undefined): string[] | null {
  if (!c) return null;
  if ('items' in c) {
    if (c.op === 'or') return null;
    for (const item of c.items) {
      const ids = pinnedRunIds(item);
      if (ids) return ids;
    }
    return null;
  }
  if (!c.field.builtin || c.field.name !== 'RunId') return null;
  if (c.op === '=') return [String(c.value)];
  if (c.op === 'in') return [...new Set(c.values.map(String))];
  return null;
}

function toRecord(row: Row): VisibilityRecord {
  const optional = (name: string) => {
    const v = row.get(name);
    return v === null || v === undefined ? null : num(v);
  };
  const runId = row.get('run_id') as string;
  const workflowId = row.get('workflow_id') as string;
  const searchAttributes = row.get('search_attributes') as string | null;
  return {
    namespaceId: row.get('namespace_id') as string,
    workflowId,
    runId,
    workflowType: row.get('workflow_type') as string,
    taskQueue: row.get('task_queue') as string,
    status: row.get('status') as number,
    startTimeMs: num(row.get('start_time')),
    executionTimeMs: num(row.get('execution_time')),
    closeTimeMs: optional('close_time'),
    executionDurationMs: optional('execution_duration'),
    historyLength: num(row.get('history_length')),
    historySizeBytes: optional('history_size_bytes') ?? 0,
    stateTransitionCount: optional('state_transition_count') ?? 0,
    parentWorkflowId: (row.get('parent_workflow_id') as string | null) ?? null,
    parentRunId: (row.get('parent_run_id') as string | null) ?? null,
    rootWorkflowId: (row.get('root_workflow_id') as string | null) ?? workflowId,
    rootRunId: (row.get('root_run_id') as string | null) ?? runId,
    searchAttributes: searchAttributes ? (JSON.parse(searchAttributes) as Record<string, TypedValue>) : {},
    data: (row.get('data') as string | null) ?? '',
  };
}
