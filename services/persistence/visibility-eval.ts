// The meaning of a VisibilityQuery on one record, evaluated in process: the Cassandra store
// answers with it and the conformance suite uses it as the oracle every store is compared to.
// Rules every store follows (the SQL and OpenSearch translations mirror them):
// - A missing value (absent attribute, null column, empty KeywordList) matches only IS NULL:
//   every other operator, negated ones included, is false on it, as in SQL.
// - KeywordList: =, IN, STARTS_WITH match when any element does; !=, NOT IN, NOT STARTS_WITH
//   when no element does.
// - Text: = is a phrase match on lower-cased alphanumeric tokens; != its negation.
// - Order: missing values last whatever the direction; run id ascending breaks ties last.
import { apiError } from '../common/errors.js';
import type { VisibilityRecord } from './types.js';
import type { Condition, CountResult, FieldRef, OrderBy, ScalarValue, VisibilityColumn, VisibilityQuery } from './visibility-query.js';

/** Status names as queries spell them, by temporal.api.enums.v1.WorkflowExecutionStatus value. */
export const executionStatusNames: Record<number, string> = {
  1: 'Running',
  2: 'Completed',
  3: 'Failed',
  4: 'Canceled',
  5: 'Terminated',
  6: 'ContinuedAsNew',
  7: 'TimedOut',
};

type FieldValue = ScalarValue | string[] | null;

const columnValue: Record<VisibilityColumn, (r: VisibilityRecord) => FieldValue> = {
  WorkflowId: (r) => r.workflowId,
  RunId: (r) => r.runId,
  WorkflowType: (r) => r.workflowType,
  ExecutionStatus: (r) => executionStatusNames[r.status] ?? null,
  StartTime: (r) => r.startTimeMs,
  ExecutionTime: (r) => r.executionTimeMs,
  CloseTime: (r) => r.closeTimeMs,
  ExecutionDuration: (r) => r.executionDurationMs,
  TaskQueue: (r) => r.taskQueue,
  HistoryLength: (r) => r.historyLength,
  HistorySizeBytes: (r) => r.historySizeBytes,
  StateTransitionCount: (r) => r.stateTransitionCount,
  ParentWorkflowId: (r) => r.parentWorkflowId,
  ParentRunId: (r) => r.parentRunId,
  RootWorkflowId: (r) => r.rootWorkflowId,
  RootRunId: (r) => r.rootRunId,
};

/** The record's value of a field as queries see it; null when missing. */
export function fieldValue(rec: VisibilityRecord, field: FieldRef): FieldValue {
  const v = field.builtin ? columnValue[field.name as VisibilityColumn]?.(rec) : rec.searchAttributes[field.name]?.value;
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return null;
  return v;
}

/** Lower-cased alphanumeric runs: the tokens a Text phrase match compares. */
export function textTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Whether the tokens of `phrase` occur, consecutive and in order, among those of `text`. */
export function textMatches(text: string, phrase: string): boolean {
  const want = textTokens(phrase);
  if (want.length === 0) return false;
  return ` ${textTokens(text).join(' ')} `.includes(` ${want.join(' ')} `);
}

function cmp(a: ScalarValue, b: ScalarValue): number | null {
  if (typeof a !== typeof b) return null;
  return a < b ? -1 : a > b ? 1 : 0;
}

function scalarMatches(c: Exclude<Condition, { op: 'and' | 'or' | 'isNull' | 'isNotNull' }>, v: ScalarValue, text: boolean): boolean {
  switch (c.op) {
    case 'in':
      return c.values.some((x) => cmp(v, x) === 0);
    case 'between': {
      const lo = cmp(v, c.low);
      const hi = cmp(v, c.high);
      return lo !== null && hi !== null && lo >= 0 && hi <= 0;
    }
    case 'startsWith':
      return typeof v === 'string' && v.startsWith(c.prefix);
    case '=':
      return text ? typeof v === 'string' && typeof c.value === 'string' && textMatches(v, c.value) : cmp(v, c.value) === 0;
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const d = cmp(v, c.value);
      if (d === null) return false;
      return c.op === '<' ? d < 0 : c.op === '<=' ? d <= 0 : c.op === '>' ? d > 0 : d >= 0;
    }
    default:
      throw new Error(`scalarMatches: ${c.op} is a negation`);
  }
}

/** The positive operator whose negation `op` is. */
const negationOf = { '!=': '=', notIn: 'in', notBetween: 'between', notStartsWith: 'startsWith' } as const;

export function matches(rec: VisibilityRecord, c: Condition | undefined): boolean {
  if (!c) return true;
  switch (c.op) {
    case 'and':
      return c.items.every((x) => matches(rec, x));
    case 'or':
      return c.items.some((x) => matches(rec, x));
  }
  const v = fieldValue(rec, c.field);
  if (c.op === 'isNull') return v === null;
  if (c.op === 'isNotNull' || v === null) return c.op === 'isNotNull' && v !== null;
  const values = Array.isArray(v) ? v : [v];
  const text = c.field.type === 'Text';
  if (c.op in negationOf) {
    const positive = { ...c, op: negationOf[c.op as keyof typeof negationOf] } as Parameters<typeof scalarMatches>[0];
    return !values.some((x) => scalarMatches(positive, x, text));
  }
  return values.some((x) => scalarMatches(c as Parameters<typeof scalarMatches>[0], x, text));
}

/** One key of a total order: the query's ORDER BY, then the run id. */
export interface SortKey {
  field: FieldRef;
  desc: boolean;
  /** Missing values first instead of last: only the default order's CloseTime, which lists open runs first. */
  nullsFirst: boolean;
}

const column = (name: VisibilityColumn): FieldRef => ({ name, type: 'Keyword', builtin: true });
const RUN_ID: SortKey = { field: column('RunId'), desc: false, nullsFirst: false };
const DEFAULT_ORDER: SortKey[] = [
  { field: { ...column('CloseTime'), type: 'Datetime' }, desc: true, nullsFirst: true },
  { field: { ...column('StartTime'), type: 'Datetime' }, desc: true, nullsFirst: false },
];

/** The total order a query lists in: its ORDER BY (or the default), then run id ascending. */
export function sortKeys(orderBy: OrderBy[] | undefined): SortKey[] {
  const keys = orderBy?.length ? orderBy.map((o) => ({ field: o.field, desc: o.desc, nullsFirst: false })) : DEFAULT_ORDER;
  return [...keys, RUN_ID];
}

/** Compares two key values under one key: negative when `a` lists first. */
export function compareKeyValues(key: SortKey, a: FieldValue, b: FieldValue): number {
  if (a === null || b === null) {
    if (a === b) return 0;
    return (a === null) === key.nullsFirst ? -1 : 1;
  }
  const d = cmp(a as ScalarValue, b as ScalarValue) ?? String(typeof a).localeCompare(typeof b);
  return key.desc ? -d : d;
}

export function compareRecords(keys: SortKey[], a: VisibilityRecord, b: VisibilityRecord): number {
  for (const key of keys) {
    const d = compareKeyValues(key, fieldValue(a, key.field), fieldValue(b, key.field));
    if (d !== 0) return d;
  }
  return 0;
}

/** Where a page ended: the sort values of its last record (a keyset, valid for any order). */
export type CursorValue = ScalarValue | null;

export function cursorOf(keys: SortKey[], rec: VisibilityRecord): CursorValue[] {
  return keys.map((k) => {
    const v = fieldValue(rec, k.field);
    return Array.isArray(v) ? JSON.stringify(v) : v;
  });
}

/** Whether `rec` lists strictly after the cursor. */
export function isAfterCursor(keys: SortKey[], cursor: CursorValue[], rec: VisibilityRecord): boolean {
  for (let i = 0; i < keys.length; i++) {
    const d = compareKeyValues(keys[i]!, fieldValue(rec, keys[i]!.field), cursor[i]!);
    if (d !== 0) return d > 0;
  }
  return false;
}

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** The cursor of a page token; refused unless shaped for this order (one value per key, a run id last). */
export function decodeCursor(token: string, keys: SortKey[]): CursorValue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  if (!Array.isArray(parsed) || parsed.length !== keys.length || !parsed.every(scalar) || typeof parsed[keys.length - 1] !== 'string') {
    throw apiError('INVALID_ARGUMENT', 'Invalid NextPageToken.');
  }
  return parsed as CursorValue[];
}

/** The records a query lists, in its order. */
export function evaluateList(records: Iterable<VisibilityRecord>, query: VisibilityQuery): VisibilityRecord[] {
  const keys = sortKeys(query.orderBy);
  return [...records].filter((r) => matches(r, query.where)).sort((a, b) => compareRecords(keys, a, b));
}

/** The count a query answers, grouped by value tuple when groupBy is given (groups by count, largest first). */
export function evaluateCount(records: Iterable<VisibilityRecord>, query: VisibilityQuery, groupBy?: FieldRef[]): CountResult {
  const matching = [...records].filter((r) => matches(r, query.where));
  if (!groupBy?.length) return { count: matching.length };
  const groups = new Map<string, { values: (ScalarValue | null)[]; count: number }>();
  for (const r of matching) {
    const values = groupBy.map((f) => {
      const v = fieldValue(r, f);
      return Array.isArray(v) ? JSON.stringify(v) : v;
    });
    const key = JSON.stringify(values);
    const g = groups.get(key) ?? { values, count: 0 };
    g.count++;
    groups.set(key, g);
  }
  return { count: matching.length, groups: sortGroups([...groups.values()]) };
}

/** Largest group first, then by values: the order a Count response lists groups in. */
export function sortGroups<G extends { values: (ScalarValue | null)[]; count: number }>(groups: G[]): G[] {
  return groups.sort((a, b) => b.count - a.count || JSON.stringify(a.values).localeCompare(JSON.stringify(b.values)));
}
