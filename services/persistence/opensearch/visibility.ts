// Visibility in OpenSearch (Temporal's own store for advanced visibility): one index per
// cluster, spoken to over the REST API with Node's fetch. A query is one bool filter on the
// namespace and the translated condition, so no query scans a namespace. The translation keeps
// the rules of ../visibility-eval.ts (the oracle every store is compared with).
import { apiError } from '../../common/errors.js';
import { StoreUnavailableError } from '../errors.js';
import type { Persistence, VisibilityStore } from '../store.js';
import type { ListVisibilityRequest, VisibilityRecord } from '../types.js';
import { executionStatusNames, sortGroups, sortKeys, textTokens, type SortKey } from '../visibility-eval.js';
import type { Condition, CountResult, FieldRef, ScalarValue, SearchAttributeType, VisibilityQuery } from '../visibility-query.js';

export interface OpenSearchVisibilityConfig {
  /** The REST endpoint, http(s)://host:port. */
  url: string;
  /** One index per cluster, shared by its namespaces. */
  index: string;
  /** Primary shards of the index; fixed once the index exists. */
  shards?: number;
  /** Copies of each shard on other nodes: 0 for a single node (else it stays yellow). */
  replicas?: number;
  /** How stale a list may be: OpenSearch makes writes searchable at each refresh. */
  refreshIntervalMs?: number;
  requestTimeoutMs?: number;
}

type ResolvedConfig = Required<OpenSearchVisibilityConfig>;

const DEFAULTS = { shards: 1, replicas: 0, refreshIntervalMs: 1000, requestTimeoutMs: 10_000 };

export function resolveOpenSearchConfig(c: OpenSearchVisibilityConfig): ResolvedConfig {
  const r = { ...DEFAULTS, ...c };
  let url: URL;
  try {
    url = new URL(r.url);
  } catch {
    throw new Error(`opensearch visibility: url ${JSON.stringify(r.url)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`opensearch visibility: url ${r.url} is not http(s)`);
  // OpenSearch's own rules for index names, minus the ones a generated name never needs.
  if (!/^[a-z0-9][a-z0-9_-]{0,199}$/.test(r.index)) throw new Error(`opensearch visibility: index ${JSON.stringify(r.index)} must be lower-case letters, digits, _ and -`);
  const int = (v: number, what: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new Error(`opensearch visibility: ${what} must be an integer >= ${min}, got ${v}`);
  };
  int(r.shards, 'shards', 1);
  int(r.replicas, 'replicas', 0);
  int(r.refreshIntervalMs, 'refreshIntervalMs', 1);
  int(r.requestTimeoutMs, 'requestTimeoutMs', 1);
  return { ...r, url: r.url.replace(/\/+$/, '') };
}

/**
 * Custom search attributes live under sa.<type>.<name>: a name may have different types in
 * different namespaces of one index, and the type picks the mapping by path. Text is indexed
 * as the tokens the oracle compares (lower-cased alphanumeric runs) with the whitespace
 * analyzer, so phrase matches agree without the analysis-common module.
 */
const SA_MAPPINGS: Record<SearchAttributeType, object> = {
  Keyword: { type: 'keyword' },
  KeywordList: { type: 'keyword' },
  Text: { type: 'text', analyzer: 'whitespace' },
  Int: { type: 'long' },
  Double: { type: 'double' },
  Bool: { type: 'boolean' },
  Datetime: { type: 'date', format: 'epoch_millis' },
};

const KEYWORD = { type: 'keyword' };
const DATE = { type: 'date', format: 'epoch_millis' };
const LONG = { type: 'long' };

/** The record's columns by their query names; NamespaceId is the filter every query starts with. */
const MAPPING = {
  dynamic: 'strict',
  dynamic_templates: Object.entries(SA_MAPPINGS).map(([type, mapping]) => ({ [type]: { path_match: `sa.${type}.*`, mapping } })),
  properties: {
    NamespaceId: KEYWORD,
    WorkflowId: KEYWORD,
    RunId: KEYWORD,
    WorkflowType: KEYWORD,
    ExecutionStatus: KEYWORD,
    StartTime: DATE,
    ExecutionTime: DATE,
    CloseTime: DATE,
    ExecutionDuration: LONG,
    TaskQueue: KEYWORD,
    HistoryLength: LONG,
    HistorySizeBytes: LONG,
    StateTransitionCount: LONG,
    ParentWorkflowId: KEYWORD,
    ParentRunId: KEYWORD,
    RootWorkflowId: KEYWORD,
    RootRunId: KEYWORD,
    sa: { type: 'object', dynamic: true },
    // The record as written, returned as is; never searched.
    record: { type: 'object', enabled: false },
  },
};

interface Doc {
  record: VisibilityRecord;
}

interface SearchHit {
  _source: Doc;
  sort: unknown[];
}

function fieldPath(f: FieldRef): string {
  return f.builtin ? f.name : `sa.${f.type}.${f.name}`;
}

function document(rec: VisibilityRecord): Record<string, unknown> {
  const sa: Partial<Record<SearchAttributeType, Record<string, unknown>>> = {};
  for (const [name, { type, value }] of Object.entries(rec.searchAttributes)) {
    (sa[type] ??= {})[name] = type === 'Text' ? textTokens(String(value)).join(' ') : value;
  }
  return {
    NamespaceId: rec.namespaceId,
    WorkflowId: rec.workflowId,
    RunId: rec.runId,
    WorkflowType: rec.workflowType,
    ExecutionStatus: executionStatusNames[rec.status] ?? null,
    StartTime: rec.startTimeMs,
    ExecutionTime: rec.executionTimeMs,
    CloseTime: rec.closeTimeMs,
    ExecutionDuration: rec.executionDurationMs,
    TaskQueue: rec.taskQueue,
    HistoryLength: rec.historyLength,
    HistorySizeBytes: rec.historySizeBytes,
    StateTransitionCount: rec.stateTransitionCount,
    ParentWorkflowId: rec.parentWorkflowId,
    ParentRunId: rec.parentRunId,
    RootWorkflowId: rec.rootWorkflowId,
    RootRunId: rec.rootRunId,
    sa,
    record: rec,
  };
}

const MATCH_NONE = { match_none: {} };

/** The query clause of a condition that holds only where the field has a value. */
function positive(c: Exclude<Condition, { op: 'and' | 'or' | 'isNull' | 'isNotNull' }>): object {
  const path = fieldPath(c.field);
  switch (c.op) {
    case '=': {
      if (c.field.type !== 'Text') return { term: { [path]: c.value } };
      const phrase = textTokens(String(c.value)).join(' ');
      return phrase ? { match_phrase: { [path]: phrase } } : MATCH_NONE;
    }
    case '<':
      return { range: { [path]: { lt: c.value } } };
    case '<=':
      return { range: { [path]: { lte: c.value } } };
    case '>':
      return { range: { [path]: { gt: c.value } } };
    case '>=':
      return { range: { [path]: { gte: c.value } } };
    case 'in':
      return c.values.length ? { terms: { [path]: c.values } } : MATCH_NONE;
    case 'between':
      return { range: { [path]: { gte: c.low, lte: c.high } } };
    case 'startsWith':
      return { prefix: { [path]: { value: c.prefix } } };
    default:
      throw new Error(`positive: ${c.op} is a negation`);
  }
}

const negationOf = { '!=': '=', notIn: 'in', notBetween: 'between', notStartsWith: 'startsWith' } as const;

/** Condition → query DSL. A missing value matches only isNull, so a negation also needs the field. */
export function toQueryDsl(c: Condition): object {
  switch (c.op) {
    case 'and':
      return { bool: { filter: c.items.map(toQueryDsl) } };
    case 'or':
      return c.items.length ? { bool: { should: c.items.map(toQueryDsl), minimum_should_match: 1 } } : MATCH_NONE;
    case 'isNull':
      return { bool: { must_not: [{ exists: { field: fieldPath(c.field) } }] } };
    case 'isNotNull':
      return { exists: { field: fieldPath(c.field) } };
    case '!=':
    case 'notIn':
    case 'notBetween':
    case 'notStartsWith': {
      const pos = positive({ ...c, op: negationOf[c.op] } as Parameters<typeof positive>[0]);
      return { bool: { filter: [{ exists: { field: fieldPath(c.field) } }], must_not: [pos] } };
    }
    default:
      return positive(c);
  }
}

/**
 * Sort values of missing fields: OpenSearch's defaults for long and date (±2^63) do not survive
 * a JavaScript number in a page token, so those sort with a missing value of our own, beyond
 * any real one. Keyword (null), Bool (±2^31) and Double (±Infinity) defaults round-trip.
 */
const MISSING_BEYOND = Number.MAX_SAFE_INTEGER;

function sortClause(k: SortKey): object {
  const order = k.desc ? 'desc' : 'asc';
  const t = k.field.type;
  if (t === 'Text') throw apiError('INVALID_ARGUMENT', `cannot order by the Text field ${k.field.name}`);
  if (t !== 'Int' && t !== 'Datetime') return { [fieldPath(k.field)]: { order, missing: k.nullsFirst ? '_first' : '_last' } };
  // First in the order: the largest value when descending, the smallest when ascending.
  const first = k.desc ? MISSING_BEYOND : -MISSING_BEYOND;
  return { [fieldPath(k.field)]: { order, missing: k.nullsFirst ? first : -first } };
}

function encodeToken(sort: unknown[]): string {
  return Buffer.from(JSON.stringify(sort)).toString('base64url');
}

function decodeToken(token: string, keys: number): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  if (!Array.isArray(parsed) || parsed.length !== keys || !parsed.every(scalar)) throw apiError('INVALID_ARGUMENT', 'Invalid NextPageToken.');
  return parsed;
}

/** How many groups one composite aggregation page asks for. */
const GROUP_PAGE = 1000;

export class OpenSearchVisibilityStore implements VisibilityStore {
  private readonly config: ResolvedConfig;

  constructor(config: OpenSearchVisibilityConfig) {
    this.config = resolveOpenSearchConfig(config);
  }

  /** Creates the index with its mapping when missing; an existing one is kept as is. */
  async start(): Promise<void> {
    const c = this.config;
    const res = await this.request('PUT', `/${c.index}`, {
      settings: { number_of_shards: c.shards, number_of_replicas: c.replicas, refresh_interval: `${c.refreshIntervalMs}ms` },
      mappings: MAPPING,
    }, [400]);
    if (res.status === 400 && (res.body as { error?: { type?: string } }).error?.type !== 'resource_already_exists_exception') {
      throw new Error(`opensearch visibility: cannot create index ${c.index}: ${JSON.stringify(res.body)}`);
    }
  }

  /** Nothing to release: every request is its own fetch. */
  async stop(): Promise<void> {}

  /** Makes every acknowledged write searchable now, instead of at the next refresh. */
  async settle(): Promise<void> {
    await this.request('POST', `/${this.config.index}/_refresh`);
  }

  /** Deletes the index and everything in it (test clean-up). */
  async dropIndex(): Promise<void> {
    await this.request('DELETE', `/${this.config.index}`, undefined, [404]);
  }

  /**
   * Visibility tasks may be retried and applied out of order, so a write carries the record's
   * stateTransitionCount as an external version: an older record never replaces a newer one
   * (409, dropped), and the same one written again is accepted.
   */
  async upsertVisibility(rec: VisibilityRecord): Promise<void> {
    const q = `version=${rec.stateTransitionCount}&version_type=external_gte`;
    await this.request('PUT', `${this.docPath(rec.namespaceId, rec.runId)}?${q}`, document(rec), [409]);
  }

  /**
   * Many records in one _bulk request, each written as upsertVisibility writes it (an older
   * version than the stored one is dropped): for loaders and benches, not the visibility task.
   */
  async bulkUpsert(recs: VisibilityRecord[]): Promise<void> {
    if (!recs.length) return;
    const lines = recs.flatMap((rec) => [
      { index: { _index: this.config.index, _id: `${rec.namespaceId}:${rec.runId}`, version: rec.stateTransitionCount, version_type: 'external_gte' } },
      document(rec),
    ]);
    const res = await this.request('POST', '/_bulk', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const failed = (res.body as { items: { index: { status: number; error?: { reason?: string } } }[] }).items.filter((i) => i.index.status >= 300 && i.index.status !== 409);
    if (!failed.length) return;
    const reason = `opensearch _bulk: ${failed.length} of ${recs.length} failed, first: ${failed[0].index.status} ${failed[0].index.error?.reason ?? ''}`;
    if (failed.some((i) => i.index.status === 429 || i.index.status >= 500)) throw new StoreUnavailableError(reason);
    throw new Error(reason);
  }

  async deleteVisibility(namespaceId: string, runId: string): Promise<void> {
    await this.request('DELETE', this.docPath(namespaceId, runId), undefined, [404]);
  }

  async listVisibility(req: ListVisibilityRequest): Promise<{ records: VisibilityRecord[]; nextPageToken?: string }> {
    if (!Number.isInteger(req.pageSize) || req.pageSize <= 0) {
      throw new RangeError(`listVisibility: pageSize must be a positive integer, got ${req.pageSize}`);
    }
    const keys = sortKeys(req.query.orderBy);
    // One hit past the page tells whether another page exists, so the last page has no token.
    const body: Record<string, unknown> = {
      query: this.filter(req.namespaceId, req.query),
      sort: keys.map(sortClause),
      size: req.pageSize + 1,
      track_total_hits: false,
      _source: ['record'],
    };
    if (req.nextPageToken !== undefined) body.search_after = decodeToken(req.nextPageToken, keys.length);
    const res = await this.request('POST', `/${this.config.index}/_search`, body);
    const hits = (res.body as { hits: { hits: SearchHit[] } }).hits.hits;
    const page = hits.slice(0, req.pageSize);
    const records = page.map((h) => h._source.record);
    if (hits.length <= req.pageSize) return { records };
    return { records, nextPageToken: encodeToken(page[page.length - 1].sort) };
  }

  async countVisibility(namespaceId: string, query: VisibilityQuery, groupBy?: FieldRef[]): Promise<CountResult> {
    const filter = this.filter(namespaceId, query);
    if (!groupBy?.length) {
      const res = await this.request('POST', `/${this.config.index}/_count`, { query: filter });
      return { count: (res.body as { count: number }).count };
    }
    const sources = groupBy.map((f, i) => ({ [`g${i}`]: { terms: { field: fieldPath(f), missing_bucket: true } } }));
    const groups: { values: (ScalarValue | null)[]; count: number }[] = [];
    let after: Record<string, unknown> | undefined;
    let count = 0;
    do {
      const composite = { size: GROUP_PAGE, sources, ...(after ? { after } : {}) };
      const res = await this.request('POST', `/${this.config.index}/_search`, {
        query: filter,
        size: 0,
        track_total_hits: true,
        aggs: { groups: { composite } },
      });
      const body = res.body as {
        hits: { total: { value: number } };
        aggregations: { groups: { after_key?: Record<string, unknown>; buckets: { key: Record<string, ScalarValue | null>; doc_count: number }[] } };
      };
      count = body.hits.total.value;
      for (const b of body.aggregations.groups.buckets) groups.push({ values: groupBy.map((_, i) => b.key[`g${i}`] ?? null), count: b.doc_count });
      after = body.aggregations.groups.buckets.length === GROUP_PAGE ? body.aggregations.groups.after_key : undefined;
    } while (after);
    return { count, groups: sortGroups(groups) };
  }

  private filter(namespaceId: string, query: VisibilityQuery): object {
    const filter: object[] = [{ term: { NamespaceId: namespaceId } }];
    if (query.where) filter.push(toQueryDsl(query.where));
    return { bool: { filter } };
  }

  private docPath(namespaceId: string, runId: string): string {
    return `/${this.config.index}/_doc/${encodeURIComponent(`${namespaceId}:${runId}`)}`;
  }

  /** One REST call; a status outside 2xx and `accept` is an error, an unreachable cluster StoreUnavailableError. */
  private async request(method: string, path: string, body?: unknown, accept: number[] = []): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${this.config.url}${path}`, {
        method,
        // A string is a _bulk body, already newline-delimited JSON.
        headers: body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'application/x-ndjson' : 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(this.config.requestTimeoutMs),
      });
    } catch (err) {
      throw new StoreUnavailableError(`opensearch ${method} ${path}: ${(err as Error).message}`);
    }
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (!res.ok && !accept.includes(res.status)) {
      const reason = (parsed as { error?: { reason?: string } }).error?.reason ?? text.slice(0, 500);
      if (res.status === 429 || res.status >= 500) throw new StoreUnavailableError(`opensearch ${method} ${path}: ${res.status} ${reason}`);
      throw new Error(`opensearch ${method} ${path}: ${res.status} ${reason}`);
    }
    return { status: res.status, body: parsed };
  }
}

/**
 * `p` with its visibility in OpenSearch (the index created when missing): a region keeps its
 * executions in Cassandra and lists them from OpenSearch.
 */
export async function withOpenSearchVisibility(p: Persistence, config: OpenSearchVisibilityConfig): Promise<Persistence> {
  const visibility = new OpenSearchVisibilityStore(config);
  await visibility.start();
  return {
    kind: p.kind,
    shards: p.shards,
    executions: p.executions,
    namespaces: p.namespaces,
    visibility,
    taskQueues: p.taskQueues,
    clusterMetadata: p.clusterMetadata,
    identity: p.identity,
    close: async () => {
      await visibility.stop();
      await p.close();
    },
  };
}
