// Visibility on the production store (OpenSearch): list and count latency over a million
// workflows of one namespace, through the store and through a region's frontend
// (ListWorkflowExecutions / CountWorkflowExecutions), and what writing visibility to OpenSearch
// instead of Cassandra costs a region's starts. `npx tsx bench/visibility.ts --help`;
// bench/README.md explains the numbers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { dropTestKeyspace, ensureTestCassandra, type TestCassandra } from '../deploy/cassandra/test-instance.js';
import { startOpenSearch } from '../deploy/opensearch/launcher.js';
import { LocalCluster } from '../deploy/processes/local-cluster.js';
import { ensureTestRedis } from '../deploy/redis/test-instance.js';
import type { Topology } from '../deploy/topology.js';
import { parseVisibilityQuery } from '../services/persistence/visibility-parser.js';
import { OpenSearchVisibilityStore } from '../services/persistence/opensearch/visibility.js';
import type { VisibilityRecord } from '../services/persistence/types.js';
import type { SearchAttributeType } from '../services/persistence/visibility-query.js';
import { regionTopology } from '../test-e2e/region-fixture.js';
import { alignTable, count, parseFlags, positiveNumber, runIfMain, writeResultFile } from './cli.js';
import { measureCpu, msPer, otherCores, round, type CpuProbe, type CpuWindow } from './cpu.js';
import { CASSANDRA_PARTY } from './dev-server.js';
import { loadDefaults, machine, runLoad, type LoadResult } from './load.js';
import { summarize, type LatencySummary } from './percentiles.js';
import { localListenerPid } from './procfs.js';
import { regionProbe, ROLES } from './region.js';
import { shardsSettled } from './shards-owned.js';

export interface VisibilityBenchOptions {
  /** Records loaded into the one namespace. */
  workflows: number;
  /** Records per _bulk request. */
  batch: number;
  /** _bulk requests in flight. */
  loadConcurrency: number;
  /** Cap on loading; what was loaded by then is measured, marked partial. */
  loadSeconds: number;
  /** Skip loading when the index already holds `workflows` records of the namespace. */
  reuse: boolean;
  /** Measured calls per query and path (store, frontend). */
  iterations: number;
  /** Measured starts per visibility store in the starts phase; 0 skips it. */
  starts: number;
  /** Unmeasured starts before them, on each region. */
  warmup: number;
  concurrency: number;
  /** Rounds of the starts phase: Cassandra then OpenSearch visibility, each a fresh region. */
  rounds: number;
  numShards: number;
  /** An OpenSearch of your own; default the launcher's instance `bench` on 127.0.0.1:29220. */
  opensearchUrl?: string;
  log: (msg: string) => void;
}

export const visibilityDefaults = {
  workflows: 1_000_000,
  batch: 5000,
  loadConcurrency: 2,
  loadSeconds: 3600,
  iterations: 200,
  starts: 2000,
  warmup: 200,
  concurrency: loadDefaults.concurrency,
  rounds: 1,
  numShards: 16,
} as const;

/** The launcher instance the bench starts when no --opensearch is given (left running: `cli.ts stop --name bench`). */
export const BENCH_OPENSEARCH = { name: 'bench', httpPort: 29220, transportPort: 29320, heapMb: 1024 } as const;
/** Kept between runs so the namespace keeps its id and --reuse finds its records (not a t_… test keyspace: never dropped as stale). */
const QUERY_KEYSPACE = 'bench_visibility';
const QUERY_REGION = 'bvis';
const NAMESPACE = 'default';
const OPENSEARCH_PARTY = 'opensearch';
const SETTLE_MS = 60_000;

// ---------------------------------------------------------------- the data set

/** The custom search attributes every record carries. */
export const CUSTOM_ATTRIBUTES: Record<string, SearchAttributeType> = { CustomerId: 'Keyword', Amount: 'Int', DueAt: 'Datetime' };
/** The newest start time: fixed, so the "last day" query selects the same records whenever it runs. */
export const DATA_END_MS = Date.UTC(2026, 10, 30);
const DAY_MS = 86_400_000;
const DAYS = 30;
export const WORKFLOW_TYPES = 50;
const TASK_QUEUES = 10;
export const CUSTOMERS = 10_000;
/** Every FAMILY-th workflow is a root with FAMILY-1 descendants after it: children, and one grandchild. */
const FAMILY = 20;
const CHILDREN = 3;
/** Cumulative shares of the statuses (temporal.api.enums.v1.WorkflowExecutionStatus). */
const STATUS_SHARES: [status: number, upTo: number][] = [
  [1, 0.1], // Running
  [2, 0.85], // Completed
  [3, 0.93], // Failed
  [4, 0.95], // Canceled
  [5, 0.98], // Terminated
  [6, 0.99], // ContinuedAsNew
  [7, 1], // TimedOut
];

/** A small seeded generator (mulberry32): the same record for the same index on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pad = (n: number, width: number) => String(n).padStart(width, '0');
/** Digits of the largest index, so every id of a data set has the same length (prefix queries). */
export const idWidth = (workflows: number) => String(Math.max(1, workflows - 1)).length;
export const workflowIdOf = (i: number, width: number) => `order-${pad(i, width)}`;
export const workflowTypeName = (k: number) => `Workflow${pad(k, 2)}`;
export const customerName = (k: number) => `cust-${pad(k, 5)}`;
const runIdOf = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

/** The search attributes as history stores them in `data` (protobufjs JSON: bytes as base64). */
function payload(value: unknown, type: string): object {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return { metadata: { encoding: b64('json/plain'), type: b64(type) }, data: b64(JSON.stringify(value)) };
}

/** Record `i` of a data set of `workflows`: statuses, types, queues, times, families and attributes spread as the brief of the bench says. */
export function benchRecord(namespaceId: string, i: number, workflows: number): VisibilityRecord {
  const r = rng(i * 2654435761);
  const width = idWidth(workflows);
  const u = r();
  const status = STATUS_SHARES.find(([, upTo]) => u < upTo)![0];
  // Skewed: a few types run most workflows, as in real namespaces.
  const type = Math.floor(WORKFLOW_TYPES * r() ** 2);
  const startTimeMs = DATA_END_MS - Math.floor(r() * DAYS * DAY_MS);
  const running = status === 1;
  const durationMs = Math.floor(1000 + -Math.log(1 - r()) * 600_000);
  const closeTimeMs = running ? null : startTimeMs + durationMs;
  const historyLength = 5 + Math.floor(r() * 200);
  const family = i - (i % FAMILY);
  const member = i % FAMILY;
  const parent = member === 0 || member > CHILDREN + 1 ? null : member === CHILDREN + 1 ? family + 1 : family;
  const root = parent === null ? i : family;
  const customer = customerName(Math.floor(r() * CUSTOMERS));
  const amount = 1 + Math.floor(r() * 100_000);
  const dueAt = startTimeMs + Math.floor(r() * 14 * DAY_MS);
  return {
    namespaceId,
    workflowId: workflowIdOf(i, width),
    runId: runIdOf(i),
    workflowType: workflowTypeName(type),
    taskQueue: `queue-${Math.floor(r() * TASK_QUEUES)}`,
    status,
    startTimeMs,
    executionTimeMs: startTimeMs,
    closeTimeMs,
    executionDurationMs: closeTimeMs === null ? null : durationMs,
    historyLength,
    historySizeBytes: historyLength * 380,
    stateTransitionCount: Math.ceil(historyLength / 2),
    parentWorkflowId: parent === null ? null : workflowIdOf(parent, width),
    parentRunId: parent === null ? null : runIdOf(parent),
    rootWorkflowId: workflowIdOf(root, width),
    rootRunId: runIdOf(root),
    searchAttributes: { CustomerId: { type: 'Keyword', value: customer }, Amount: { type: 'Int', value: amount }, DueAt: { type: 'Datetime', value: dueAt } },
    data: JSON.stringify({
      searchAttributes: {
        indexedFields: {
          CustomerId: payload(customer, 'Keyword'),
          Amount: payload(amount, 'Int'),
          DueAt: payload(new Date(dueAt).toISOString(), 'Datetime'),
        },
      },
    }),
  };
}

// ---------------------------------------------------------------- regions

interface Region {
  name: string;
  cluster: LocalCluster;
  cassandra: TestCassandra;
  redis: string;
  address: string;
  dir: string;
}

/** One region (frontend, matching, one history node) as `tandem up` runs it, visibility in OpenSearch when `index` is given. */
async function startRegion(name: string, cassandra: TestCassandra, numShards: number, log: (msg: string) => void, opensearch?: { url: string; index: string }): Promise<Region> {
  const redis = await ensureTestRedis();
  const topology: Topology = await regionTopology({ region: name, historyNodes: 1, numShards, cassandra, redis });
  if (opensearch) topology.regions[0]!.visibility = { store: 'opensearch', url: opensearch.url, index: opensearch.index, shards: 1, replicas: 0 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-visibility-'));
  const topologyFile = path.join(dir, 'topology.json');
  fs.writeFileSync(topologyFile, JSON.stringify(topology, null, 2));
  const logFile = path.join(dir, 'nodes.log');
  const write = (line: string) => fs.appendFileSync(logFile, `${line}\n`);
  const cluster = new LocalCluster({ topologyFile, topology, logLevel: 'warn', log: (msg) => write(`[up] ${msg}`), onLine: (id, line) => write(`[${id}] ${line}`) });
  log(`region ${name}: starting (keyspace ${cassandra.keyspace}, visibility in ${opensearch ? `OpenSearch ${opensearch.index}` : 'Cassandra'}), output in ${logFile}`);
  try {
    await cluster.start();
    const historyId = `${name}-history-1`;
    await shardsSettled(new Map([[historyId, { metricsUrl: cluster.node(historyId).metricsUrl, shards: numShards }]]), SETTLE_MS);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return { name, cluster, cassandra, redis, address: `127.0.0.1:${topology.regions[0]!.frontend.port}`, dir };
}

async function stopRegion(r: Region, dropKeyspace: boolean, keepOutput: boolean): Promise<void> {
  await r.cluster.stop();
  if (dropKeyspace) await dropTestKeyspace(r.cassandra);
  if (!keepOutput) fs.rmSync(r.dir, { recursive: true, force: true });
}

/** Registers the custom attributes in the namespace (a no-op when present) and waits until the frontend parses them. */
async function addAttributes(connection: Connection): Promise<void> {
  // temporal.api.enums.v1.IndexedValueType
  const indexed: Record<SearchAttributeType, number> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };
  const searchAttributes = Object.fromEntries(Object.entries(CUSTOM_ATTRIBUTES).map(([n, t]) => [n, indexed[t]]));
  await connection.operatorService.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: searchAttributes as never });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await connection.workflowService.countWorkflowExecutions({ namespace: NAMESPACE, query: `CustomerId = "x" AND Amount > 0 AND DueAt > "2000-01-01T00:00:00Z"` });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

// ---------------------------------------------------------------- load

export interface LoadReport {
  index: string;
  namespaceId: string;
  workflows: number;
  /** Records in the namespace when measuring began. */
  present: number;
  reused: boolean;
  loaded: number;
  partial: boolean;
  seconds: number;
  docsPerSecond: number;
  /** Primary store size of the index after loading (all namespaces in it). */
  indexBytes: number;
  /** Loading's CPU: OpenSearch, this process (generating and sending), the machine. */
  cpu: CpuWindow;
  cpuMsPerThousandDocs: Record<string, number>;
}

async function indexBytes(url: string, index: string): Promise<number> {
  const res = await fetch(`${url}/${index}/_stats/store`);
  const body = (await res.json()) as { _all?: { primaries?: { store?: { size_in_bytes?: number } } } };
  return body._all?.primaries?.store?.size_in_bytes ?? NaN;
}

async function loadRecords(store: OpenSearchVisibilityStore, namespaceId: string, opts: VisibilityBenchOptions, probe: CpuProbe): Promise<{ loaded: number; partial: boolean; cpu: CpuWindow }> {
  const deadline = Date.now() + opts.loadSeconds * 1000;
  let next = 0;
  let loaded = 0;
  let lastLog = Date.now();
  const t0 = Date.now();
  const worker = async () => {
    while (next < opts.workflows && Date.now() < deadline) {
      const from = next;
      next = Math.min(opts.workflows, from + opts.batch);
      const batch: VisibilityRecord[] = [];
      for (let i = from; i < next; i++) batch.push(benchRecord(namespaceId, i, opts.workflows));
      // OpenSearch pushes back with 429 when its write queue is full: wait and send again.
      for (let attempt = 0; ; attempt++) {
        try {
          await store.bulkUpsert(batch);
          break;
        } catch (err) {
          if ((err as Error).name !== 'StoreUnavailableError' || attempt >= 10) throw err;
          await new Promise((r) => setTimeout(r, 1000 * (attempt + 1)));
        }
      }
      loaded += batch.length;
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        opts.log(`load: ${loaded} of ${opts.workflows} in ${Math.round((Date.now() - t0) / 1000)} s`);
      }
    }
  };
  const { cpu } = await measureCpu(probe, async () => {
    await Promise.all(Array.from({ length: opts.loadConcurrency }, worker));
    await store.settle();
  });
  return { loaded, partial: loaded < opts.workflows, cpu };
}

// ---------------------------------------------------------------- queries

export interface QueryCase {
  name: string;
  kind: 'list' | 'count';
  /** The query of iteration `it` (some vary their value per iteration, so caches see many). */
  query: (it: number) => string;
  pageSize: number;
  /** The page measured: 1, or 10 to walk nine pages by their tokens first (unmeasured). */
  page: number;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The queries measured: the Web UI's default view and its common filters, an order, a deep page, counts. */
export function queryCases(workflows: number, loaded = workflows): QueryCase[] {
  const width = idWidth(workflows);
  const type = (it: number) => workflowTypeName(it % 10);
  // Values of records that were loaded (all of them unless the load was cut).
  const families = Math.max(1, Math.floor(loaded / FAMILY));
  const prefixes = Math.max(1, Math.floor(loaded / 100));
  return [
    { name: 'default list', kind: 'list', query: () => '', pageSize: 20, page: 1 },
    { name: 'running', kind: 'list', query: () => 'ExecutionStatus = "Running"', pageSize: 20, page: 1 },
    { name: 'started last day', kind: 'list', query: () => `StartTime >= "${rfc3339(DATA_END_MS - DAY_MS)}"`, pageSize: 20, page: 1 },
    { name: 'type and completed', kind: 'list', query: (it) => `WorkflowType = "${type(it)}" AND ExecutionStatus = "Completed"`, pageSize: 20, page: 1 },
    { name: 'customer', kind: 'list', query: (it) => `CustomerId = "${customerName((it * 7919) % CUSTOMERS)}"`, pageSize: 20, page: 1 },
    { name: 'root workflow', kind: 'list', query: (it) => `RootWorkflowId = "${workflowIdOf(((it * 7919) % families) * FAMILY, width)}"`, pageSize: 20, page: 1 },
    { name: 'id prefix', kind: 'list', query: (it) => `WorkflowId STARTS_WITH "${workflowIdOf((it * 7919) % prefixes, width - 2)}"`, pageSize: 20, page: 1 },
    { name: 'order by amount', kind: 'list', query: (it) => `WorkflowType = "${type(it)}" ORDER BY Amount DESC`, pageSize: 20, page: 1 },
    { name: 'default list, page 10', kind: 'list', query: () => '', pageSize: 20, page: 10 },
    { name: 'count', kind: 'count', query: () => '', pageSize: 0, page: 1 },
    { name: 'count by status', kind: 'count', query: () => 'GROUP BY ExecutionStatus', pageSize: 0, page: 1 },
    { name: 'count failed last week', kind: 'count', query: () => `ExecutionStatus = "Failed" AND StartTime >= "${rfc3339(DATA_END_MS - 7 * DAY_MS)}"`, pageSize: 0, page: 1 },
  ];
}

export type QueryPath = 'store' | 'frontend';

export interface QueryResult {
  name: string;
  /** The query of iteration 0. */
  query: string;
  /** Records of the namespace the query of iteration 0 matches (list), or its count. */
  matching: number;
  /** Rows on the measured page of iteration 0 (list), or groups (count by). */
  rows: number;
  latencyMs: Record<QueryPath, LatencySummary>;
}

interface Caller {
  list(query: string, pageSize: number, token?: string): Promise<{ rows: number; token?: string }>;
  count(query: string): Promise<{ count: number; groups: number }>;
}

function storeCaller(store: OpenSearchVisibilityStore, namespaceId: string): Caller {
  const attrs = CUSTOM_ATTRIBUTES;
  return {
    async list(query, pageSize, token) {
      const page = await store.listVisibility({ namespaceId, query: parseVisibilityQuery(query, attrs, { count: false }).query, pageSize, nextPageToken: token });
      return { rows: page.records.length, token: page.nextPageToken };
    },
    async count(query) {
      const parsed = parseVisibilityQuery(query, attrs, { count: true });
      const r = await store.countVisibility(namespaceId, parsed.query, parsed.groupBy);
      return { count: r.count, groups: r.groups?.length ?? 0 };
    },
  };
}

function frontendCaller(connection: Connection): Caller {
  const ws = connection.workflowService;
  return {
    async list(query, pageSize, token) {
      const res = await ws.listWorkflowExecutions({ namespace: NAMESPACE, query, pageSize, nextPageToken: token ? Buffer.from(token, 'base64') : undefined });
      return { rows: res.executions.length, token: res.nextPageToken?.length ? Buffer.from(res.nextPageToken).toString('base64') : undefined };
    },
    async count(query) {
      const res = await ws.countWorkflowExecutions({ namespace: NAMESPACE, query });
      return { count: Number(res.count), groups: res.groups.length };
    },
  };
}

/** One sample: the measured call of iteration `it` (after walking to its page), and what it returned. */
async function sample(c: Caller, q: QueryCase, it: number): Promise<{ ms: number; rows: number }> {
  const query = q.query(it);
  if (q.kind === 'count') {
    const t0 = performance.now();
    const r = await c.count(query);
    return { ms: performance.now() - t0, rows: r.groups };
  }
  let token: string | undefined;
  for (let p = 1; p < q.page; p++) {
    token = (await c.list(query, q.pageSize, token)).token;
    if (!token) throw new Error(`${q.name}: no page ${p + 1}`);
  }
  const t0 = performance.now();
  const r = await c.list(query, q.pageSize, token);
  return { ms: performance.now() - t0, rows: r.rows };
}

const WARMUP_CALLS = 10;

async function measureQueries(callers: Record<QueryPath, Caller>, store: Caller, cases: QueryCase[], iterations: number, log: (msg: string) => void): Promise<QueryResult[]> {
  const results: QueryResult[] = [];
  for (const q of cases) {
    const query = q.query(0);
    const matching = q.kind === 'count' ? (await store.count(query)).count : (await store.count(query.replace(/ORDER BY.*$/, '').trim())).count;
    const latencyMs = {} as Record<QueryPath, LatencySummary>;
    let rows = 0;
    for (const [pathName, caller] of Object.entries(callers) as [QueryPath, Caller][]) {
      for (let it = 0; it < WARMUP_CALLS; it++) await sample(caller, q, iterations + it);
      const ms: number[] = [];
      for (let it = 0; it < iterations; it++) {
        const s = await sample(caller, q, it);
        ms.push(s.ms);
        if (it === 0) rows = s.rows;
      }
      latencyMs[pathName] = summarize(ms);
    }
    log(`query ${q.name}: store p50 ${latencyMs.store.p50} ms, frontend p50 ${latencyMs.frontend.p50} ms`);
    results.push({ name: q.name, query, matching, rows, latencyMs });
  }
  return results;
}

// ---------------------------------------------------------------- starts

export type VisibilityKind = 'cassandra' | 'opensearch';

export interface StartsRun {
  visibility: VisibilityKind;
  round: number;
  result: LoadResult;
  /** From the last start's answer until Count saw every start of the region (warm-up included). */
  visibleAfterSeconds: number;
  /** The loop and that drain together: CPU ms per measured start, per party. */
  cpuMsPerStartWithDrain: Record<string, number>;
}

async function visibleCount(connection: Connection): Promise<number> {
  return Number((await connection.workflowService.countWorkflowExecutions({ namespace: NAMESPACE, query: '' })).count);
}

async function runStarts(kind: VisibilityKind, round_: number, opts: VisibilityBenchOptions, opensearchUrl: string): Promise<StartsRun> {
  const cassandra = await ensureTestCassandra();
  const index = `tandem_bench_starts_${randomBytes(4).toString('hex')}`;
  const region = await startRegion(`bs${randomBytes(3).toString('hex')}`, cassandra, opts.numShards, opts.log, kind === 'opensearch' ? { url: opensearchUrl, index } : undefined);
  let clean = false;
  try {
    const probe = regionProbe(region.cluster, cassandra.contactPoint, region.redis, { [OPENSEARCH_PARTY]: new URL(opensearchUrl).host });
    const base = { ...loadDefaults, store: 'cassandra' as const, mode: 'start' as const, address: region.address, probe, concurrency: opts.concurrency, maxSeconds: 120 };
    if (opts.warmup > 0) await runLoad({ ...base, workflows: opts.warmup });
    opts.log(`starts, visibility in ${kind}: ${opts.starts} at concurrency ${opts.concurrency}`);
    const result = await runLoad({ ...base, workflows: opts.starts });
    const expected = opts.warmup + result.completed;
    const connection = await Connection.connect({ address: region.address });
    let visibleAfterSeconds = NaN;
    let drainCpu: CpuWindow;
    try {
      // Visibility is written by history's visibility tasks after the start answered: wait for them.
      ({ cpu: drainCpu } = await measureCpu(probe, async () => {
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline) {
          if ((await visibleCount(connection)) >= expected) return;
          await new Promise((r) => setTimeout(r, 250));
        }
      }));
      if ((await visibleCount(connection)) >= expected) visibleAfterSeconds = drainCpu.wallSeconds;
    } finally {
      await connection.close();
    }
    const both: CpuWindow = { seconds: Object.fromEntries(Object.entries(result.cpu.seconds).map(([k, v]) => [k, round(v + (drainCpu.seconds[k] ?? 0), 3)])), wallSeconds: result.cpu.wallSeconds + drainCpu.wallSeconds };
    clean = result.errors === 0;
    return { visibility: kind, round: round_, result, visibleAfterSeconds, cpuMsPerStartWithDrain: msPer(both, result.completed) };
  } finally {
    await stopRegion(region, true, !clean);
    if (kind === 'opensearch') await new OpenSearchVisibilityStore({ url: opensearchUrl, index }).dropIndex();
  }
}

// ---------------------------------------------------------------- the run

export interface VisibilityBenchReport {
  startedAt: string;
  options: Omit<VisibilityBenchOptions, 'log'>;
  opensearchUrl: string;
  machine: ReturnType<typeof machine>;
  load: LoadReport;
  queries: QueryResult[];
  starts: StartsRun[];
}

export async function runVisibilityBench(opts: VisibilityBenchOptions): Promise<VisibilityBenchReport> {
  const startedAt = new Date().toISOString();
  const host = machine();
  const opensearchUrl = opts.opensearchUrl ?? (await startOpenSearch({ ...BENCH_OPENSEARCH, log: opts.log })).url;
  const { load, queries } = await loadAndQuery(opts, opensearchUrl);
  const starts: StartsRun[] = [];
  for (let r = 1; opts.starts > 0 && r <= opts.rounds; r++) {
    for (const kind of ['cassandra', 'opensearch'] as const) starts.push(await runStarts(kind, r, opts, opensearchUrl));
  }
  const { log: _log, ...options } = opts;
  return { startedAt, options, opensearchUrl, machine: host, load, queries, starts };
}

/** The query region on its kept keyspace, the records loaded (or found), every query measured, the region stopped. */
async function loadAndQuery(opts: VisibilityBenchOptions, opensearchUrl: string): Promise<{ load: LoadReport; queries: QueryResult[] }> {
  const index = `tandem_bench_visibility_${opts.workflows}`;
  const cassandra = { ...(await ensureTestCassandra()), keyspace: QUERY_KEYSPACE };
  const region = await startRegion(QUERY_REGION, cassandra, opts.numShards, opts.log, { url: opensearchUrl, index });
  let clean = false;
  try {
    const connection = await Connection.connect({ address: region.address });
    try {
      await addAttributes(connection);
      const ns = await connection.workflowService.describeNamespace({ namespace: NAMESPACE });
      const namespaceId = ns.namespaceInfo!.id!;
      const store = new OpenSearchVisibilityStore({ url: opensearchUrl, index, requestTimeoutMs: 120_000 });
      const direct = storeCaller(store, namespaceId);
      const osHost = new URL(opensearchUrl).host;
      const probe = regionProbe(region.cluster, cassandra.contactPoint, region.redis, { [OPENSEARCH_PARTY]: osHost });

      let present = (await direct.count('')).count;
      const reused = opts.reuse && present === opts.workflows;
      let loaded: Awaited<ReturnType<typeof loadRecords>> = { loaded: 0, partial: false, cpu: { seconds: {}, wallSeconds: 0 } };
      if (reused) opts.log(`load: ${index} already holds ${present} records of the namespace, reused`);
      else {
        opts.log(`load: ${opts.workflows} records into ${index} (OpenSearch pid ${localListenerPid(osHost) ?? 'not local'}), ${opts.batch} per _bulk, ${opts.loadConcurrency} in flight`);
        loaded = await loadRecords(store, namespaceId, opts, probe);
        present = (await direct.count('')).count;
        opts.log(`load: ${loaded.loaded} in ${loaded.cpu.wallSeconds} s, ${present} in the namespace`);
      }
      const load: LoadReport = {
        index,
        namespaceId,
        workflows: opts.workflows,
        present,
        reused,
        loaded: loaded.loaded,
        partial: loaded.partial,
        seconds: loaded.cpu.wallSeconds,
        docsPerSecond: loaded.cpu.wallSeconds > 0 ? Math.round(loaded.loaded / loaded.cpu.wallSeconds) : NaN,
        indexBytes: await indexBytes(opensearchUrl, index),
        cpu: loaded.cpu,
        cpuMsPerThousandDocs: msPer(loaded.cpu, loaded.loaded / 1000),
      };
      const cases = queryCases(opts.workflows, reused ? opts.workflows : loaded.loaded);
      const queries = await measureQueries({ store: direct, frontend: frontendCaller(connection) }, direct, cases, opts.iterations, opts.log);
      clean = true;
      return { load, queries };
    } finally {
      await connection.close();
    }
  } finally {
    await stopRegion(region, false, !clean);
  }
}

// ---------------------------------------------------------------- output

export function formatVisibilityReport(r: VisibilityBenchReport): string {
  const l = r.load;
  const loadCpu = (party: string) => String(l.cpuMsPerThousandDocs[party] ?? '-');
  const parts = [
    alignTable(
      ['records', 'in namespace', 'reused', 'loaded', 'partial', 'seconds', 'docs/s', 'index MB', 'CPU ms/1000 docs: opensearch', 'bench', 'other cores'],
      [[l.workflows, l.present, l.reused ? 'yes' : 'no', l.loaded, l.partial ? 'yes' : 'no', l.seconds, l.docsPerSecond, round(l.indexBytes / 2 ** 20, 1)].map(String).concat([loadCpu(OPENSEARCH_PARTY), loadCpu('bench'), String(l.reused ? '-' : (otherCores(l.cpu) ?? '-'))])],
    ),
    alignTable(
      ['query', 'matching', 'rows', 'store p50 ms', 'p99 ms', 'frontend p50 ms', 'p99 ms'],
      r.queries.map((q) => [q.name, q.matching, q.rows, q.latencyMs.store.p50, q.latencyMs.store.p99, q.latencyMs.frontend.p50, q.latencyMs.frontend.p99].map(String)),
    ),
  ];
  if (r.starts.length) {
    const ms = (s: StartsRun, party: string) => String(s.cpuMsPerStartWithDrain[party] ?? '-');
    const tandem = (s: StartsRun) => String(round(ROLES.reduce((sum, role) => sum + (s.cpuMsPerStartWithDrain[role] ?? 0), 0)));
    parts.push(
      alignTable(
        ['visibility', 'round', 'N', 'errors', 'per s', 'p50 ms', 'p99 ms', 'visible after s', 'CPU ms/start: tandem', ...ROLES, CASSANDRA_PARTY, OPENSEARCH_PARTY, 'other cores'],
        r.starts.map((s) =>
          [s.visibility, s.round, s.result.completed, s.result.errors, s.result.perSecond, s.result.latencyMs.p50, s.result.latencyMs.p99, s.visibleAfterSeconds].map(String).concat([
            tandem(s),
            ...[...ROLES, CASSANDRA_PARTY, OPENSEARCH_PARTY].map((p) => ms(s, p)),
            String(otherCores(s.result.cpu) ?? '-'),
          ]),
        ),
      ),
    );
  }
  return parts.join('\n\n');
}

const usage = `usage: npx tsx bench/visibility.ts [--workflows N] [--batch B] [--load-concurrency C] [--load-seconds S] [--reuse]
                                   [--iterations I] [--starts N] [--warmup W] [--concurrency C] [--rounds R]
                                   [--shards N] [--opensearch http://host:port]
  --workflows         records of the one namespace (default ${visibilityDefaults.workflows})
  --batch             records per _bulk request (default ${visibilityDefaults.batch})
  --load-concurrency  _bulk requests in flight (default ${visibilityDefaults.loadConcurrency})
  --load-seconds      cap on loading; a cut load is measured as it is and marked partial (default ${visibilityDefaults.loadSeconds})
  --reuse             keep the index when it already holds N records of the namespace (else every record is written again)
  --iterations        measured calls per query on each path, store and frontend (default ${visibilityDefaults.iterations})
  --starts            measured starts per visibility store, Cassandra then OpenSearch (default ${visibilityDefaults.starts}, 0 skips)
  --warmup            unmeasured starts before them on each region (default ${visibilityDefaults.warmup}, 0 for none)
  --concurrency       starts in flight (default ${visibilityDefaults.concurrency})
  --rounds            Cassandra/OpenSearch pairs of the starts phase (default ${visibilityDefaults.rounds})
  --shards            each region's numShards (default ${visibilityDefaults.numShards})
  --opensearch        an OpenSearch to use; default the launcher's instance "${BENCH_OPENSEARCH.name}" on port ${BENCH_OPENSEARCH.httpPort}, started if needed and left running`;

export function parseVisibilityCommandLine(argv: string[]): Omit<VisibilityBenchOptions, 'log'> {
  const reuse = argv.includes('--reuse');
  const values = parseFlags(
    argv.filter((a) => a !== '--reuse'),
    ['workflows', 'batch', 'load-concurrency', 'load-seconds', 'iterations', 'starts', 'warmup', 'concurrency', 'rounds', 'shards', 'opensearch'],
  );
  const d = visibilityDefaults;
  return {
    workflows: positiveNumber('workflows', values.workflows, d.workflows, true),
    batch: positiveNumber('batch', values.batch, d.batch, true),
    loadConcurrency: positiveNumber('load-concurrency', values['load-concurrency'], d.loadConcurrency, true),
    loadSeconds: positiveNumber('load-seconds', values['load-seconds'], d.loadSeconds, false),
    reuse,
    iterations: positiveNumber('iterations', values.iterations, d.iterations, true),
    starts: count('starts', values.starts, d.starts),
    warmup: count('warmup', values.warmup, d.warmup),
    concurrency: positiveNumber('concurrency', values.concurrency, d.concurrency, true),
    rounds: positiveNumber('rounds', values.rounds, d.rounds, true),
    numShards: positiveNumber('shards', values.shards, d.numShards, true),
    opensearchUrl: values.opensearch,
  };
}

async function main(argv: string[]): Promise<void> {
  const opts = parseVisibilityCommandLine(argv);
  const report = await runVisibilityBench({ ...opts, log: (msg) => console.error(`bench: ${msg}`) });
  console.error(`bench: wrote ${path.relative(process.cwd(), writeResultFile(report.startedAt, 'visibility', report))}`);
  for (const s of report.starts) for (const e of s.result.errorSamples) console.error(`bench: ${s.visibility} start error: ${e}`);
  console.log(`load average ${report.machine.loadAverage1m} before the run\n`);
  console.log(formatVisibilityReport(report));
}

runIfMain(import.meta.url, main, usage);
