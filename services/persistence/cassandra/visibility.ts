// Visibility: one partition per namespace clustered newest start first; visibility_runs says
// where a run's row is, since callers address records by run id.
import { apiError } from '../../common/errors.js';
import type { VisibilityStore } from '../store.js';
import type { ListVisibilityRequest, VisibilityFilter, VisibilityRecord } from '../types.js';
import { Db, num, type Row } from './db.js';

const RUNNING = 1;
const COLS = 'namespace_id, start_time, run_id, workflow_id, workflow_type, task_queue, status, execution_time, close_time, history_length, data';
/** Rows read per round trip while filtering a namespace's partition. */
const SCAN_PAGE = 500;

interface PageToken {
  startTimeMs: number;
  runId: string;
}

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
    await this.db.execute(`INSERT INTO ${this.table} (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      rec.namespaceId,
      BigInt(rec.startTimeMs),
      rec.runId,
      rec.workflowId,
      rec.workflowType,
      rec.taskQueue,
      rec.status,
      BigInt(rec.executionTimeMs),
      rec.closeTimeMs === null ? null : BigInt(rec.closeTimeMs),
      BigInt(rec.historyLength),
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
    const after = req.nextPageToken ? decodeToken(req.nextPageToken) : null;
    const records: VisibilityRecord[] = [];
    // One more than the page tells whether a next page exists.
    for await (const rec of this.scan(req.namespaceId, req.filter, after)) {
      records.push(rec);
      if (records.length > pageSize) break;
    }
    if (records.length <= pageSize) return { records };
    records.length = pageSize;
    const last = records[pageSize - 1]!;
    return { records, nextPageToken: encodeToken({ startTimeMs: last.startTimeMs, runId: last.runId }) };
  }

  async countVisibility(namespaceId: string, filter: VisibilityFilter): Promise<number> {
    let n = 0;
    for await (const _ of this.scan(namespaceId, filter, null)) n++;
    return n;
  }

  /** Matching records in list order after the token, read a page at a time. */
  private async *scan(namespaceId: string, filter: VisibilityFilter, after: PageToken | null): AsyncGenerator<VisibilityRecord> {
    if (filter.runId !== undefined) {
      const startTimeMs = await this.startTimeOf(namespaceId, filter.runId);
      if (startTimeMs === null) return;
      const row = await this.db.first(`SELECT ${COLS} FROM ${this.table} WHERE namespace_id = ? AND start_time = ? AND run_id = ?`, [
        namespaceId,
        BigInt(startTimeMs),
        filter.runId,
      ]);
      const rec = row && toRecord(row);
      if (rec && matches(rec, filter) && (!after || isAfter(rec, after))) yield rec;
      return;
    }
    // Rest of the token's start time (ties ordered by run id), then everything older.
    const queries: [string, unknown[]][] = after
      ? [
          [`WHERE namespace_id = ? AND start_time = ? AND run_id > ?`, [namespaceId, BigInt(after.startTimeMs), after.runId]],
          [`WHERE namespace_id = ? AND start_time < ?`, [namespaceId, BigInt(after.startTimeMs)]],
        ]
      : [[`WHERE namespace_id = ?`, [namespaceId]]];
    for (const [where, params] of queries) {
      let page = await this.db.execute(`SELECT ${COLS} FROM ${this.table} ${where}`, params, { fetchSize: SCAN_PAGE });
      for (;;) {
        for (const row of page.rows) {
          const rec = toRecord(row);
          if (matches(rec, filter)) yield rec;
        }
        if (!page.pageState) break;
        page = await this.db.execute(`SELECT ${COLS} FROM ${this.table} ${where}`, params, { pageState: page.pageState, fetchSize: SCAN_PAGE });
      }
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

function isAfter(rec: VisibilityRecord, t: PageToken): boolean {
  return rec.startTimeMs < t.startTimeMs || (rec.startTimeMs === t.startTimeMs && rec.runId > t.runId);
}

function matches(rec: VisibilityRecord, f: VisibilityFilter): boolean {
  return (
    (f.workflowId === undefined || rec.workflowId === f.workflowId) &&
    (f.runId === undefined || rec.runId === f.runId) &&
    (f.workflowType === undefined || rec.workflowType === f.workflowType) &&
    (f.status === undefined || rec.status === f.status) &&
    (f.open === undefined || (rec.status === RUNNING) === f.open)
  );
}

function toRecord(row: Row): VisibilityRecord {
  const close = row.get('close_time');
  return {
    namespaceId: row.get('namespace_id') as string,
    workflowId: row.get('workflow_id') as string,
    runId: row.get('run_id') as string,
    workflowType: row.get('workflow_type') as string,
    taskQueue: row.get('task_queue') as string,
    status: row.get('status') as number,
    startTimeMs: num(row.get('start_time')),
    executionTimeMs: num(row.get('execution_time')),
    closeTimeMs: close === null || close === undefined ? null : num(close),
    historyLength: num(row.get('history_length')),
    data: (row.get('data') as string | null) ?? '',
  };
}

function encodeToken(t: PageToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeToken(token: string): PageToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PageToken;
    if (typeof t.startTimeMs === 'number' && typeof t.runId === 'string') return t;
  } catch {
    // Falls through to the error below.
  }
  throw apiError('INVALID_ARGUMENT', 'Invalid NextPageToken.');
}
