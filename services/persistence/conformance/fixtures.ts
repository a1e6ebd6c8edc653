// Record builders and comparison helpers for the conformance suite. Every id is fresh and random
// so the suite can run against a shared database that already holds other tests' rows.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import type { Persistence } from '../store.js';
import type {
  CurrentExecution,
  ExecutionKey,
  ExecutionRecord,
  HistoryAppend,
  HistoryBranch,
  HistoryEventRow,
  HistoryTask,
  Int64,
  NamespaceRecord,
  TaskCategory,
  VisibilityRecord,
} from '../types.js';

/** Past 2^53, so a lossy number conversion anywhere on the path shows. */
export const BIG_RANGE_ID = 5_000_000_000n;
export const BIG_VERSION = 2n ** 53n + 7n;
export const MAX_INT64 = 2n ** 63n - 1n;

export function uniq(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** Shard ids stay inside a signed 32-bit int (a Cassandra `int`) and away from real shards. */
export function freshShardId(): number {
  return randomInt(1_000_000, 2 ** 31 - 1);
}

export function taskIdOf(rangeId: Int64, seq: number): Int64 {
  return rangeId * 2n ** 20n + BigInt(seq);
}

export function freshKey(over: Partial<ExecutionKey> = {}): ExecutionKey {
  return { namespaceId: uniq('ns'), workflowId: uniq('wf'), runId: randomUUID(), ...over };
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The branch a fixture run's state is folded from. */
export const MAIN = 'branch-main';

export function execution(key: ExecutionKey, over: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    key,
    branchId: MAIN,
    dbRecordVersion: 1,
    state: 'running',
    status: 1,
    nextEventId: 3,
    startVersion: BIG_VERSION,
    lastWriteVersion: BIG_VERSION,
    createRequestId: randomUUID(),
    data: bytes(`state of ${key.runId} v${over.dbRecordVersion ?? 1}`),
    ...over,
  };
}

/** The next version of rec: dbRecordVersion + 1 and fresh state bytes. */
export function next(rec: ExecutionRecord, over: Partial<ExecutionRecord> = {}): ExecutionRecord {
  const dbRecordVersion = rec.dbRecordVersion + 1;
  return execution(rec.key, { ...rec, dbRecordVersion, data: bytes(`v${dbRecordVersion} ${randomUUID()}`), ...over });
}

/** The pointer a write of `rec` as the current run leaves behind. */
export function pointerOf(rec: ExecutionRecord): CurrentExecution {
  return {
    namespaceId: rec.key.namespaceId,
    workflowId: rec.key.workflowId,
    runId: rec.key.runId,
    createRequestId: rec.createRequestId,
    state: rec.state,
    status: rec.status,
    startVersion: rec.startVersion,
    lastWriteVersion: rec.lastWriteVersion,
  };
}

/** Events [from, to) written by the write of taskId; their bytes name both, so two writes differ. */
export function events(from: number, to: number, taskId: Int64, version = BIG_VERSION): HistoryEventRow[] {
  const rows: HistoryEventRow[] = [];
  for (let id = from; id < to; id++) {
    rows.push({ eventId: id, version, taskId, data: bytes(`event ${id} of write ${taskId}`) });
  }
  return rows;
}

/** A branch of rec's tree: its own branch (the root) unless named, forked from ancestors. */
export function branchOf(rec: ExecutionRecord, branchId = rec.branchId, ancestors: HistoryBranch['ancestors'] = []): HistoryBranch {
  return { treeId: rec.key.runId, branchId, ancestors };
}

/** A write that appends no event. */
export function noHistory(rec: ExecutionRecord): HistoryAppend {
  return { branch: branchOf(rec), events: [] };
}

/** Events [from, to) appended to rec's branch (or the one given) by the write of taskId. */
export function append(rec: ExecutionRecord, from: number, to: number, taskId: Int64, branch = branchOf(rec)): HistoryAppend {
  return { branch, events: events(from, to, taskId) };
}

export function task(category: TaskCategory, key: ExecutionKey, taskId: Int64, visibilityTimeMs = 1_700_000_000_000): HistoryTask {
  return {
    category,
    taskId,
    visibilityTimeMs,
    namespaceId: key.namespaceId,
    workflowId: key.workflowId,
    runId: key.runId,
    type: category === 'timer' ? 'userTimer' : 'workflowTask',
    data: JSON.stringify({ taskId: taskId.toString(), category }),
  };
}

export function namespace(over: Partial<NamespaceRecord> = {}): NamespaceRecord {
  return {
    id: randomUUID(),
    name: uniq('namespace'),
    state: 'registered',
    description: 'conformance',
    ownerEmail: 'sre@example.com',
    data: { team: 'payments', tier: '1' },
    retentionMs: 3 * 24 * 3600 * 1000,
    isGlobal: true,
    activeRegion: 'a',
    regions: ['a', 'b'],
    failoverVersion: BIG_VERSION,
    failoverState: 'normal',
    notificationVersion: BIG_RANGE_ID,
    config: JSON.stringify({ archival: false }),
    ...over,
  };
}

export function visibility(namespaceId: string, over: Partial<VisibilityRecord> = {}): VisibilityRecord {
  const workflowId = over.workflowId ?? uniq('wf');
  const runId = over.runId ?? randomUUID();
  return {
    namespaceId,
    workflowId,
    runId,
    workflowType: 'OrderWorkflow',
    taskQueue: 'orders',
    status: 1,
    startTimeMs: 1_700_000_000_000,
    executionTimeMs: 1_700_000_000_000,
    closeTimeMs: null,
    executionDurationMs: null,
    historyLength: 3,
    historySizeBytes: 1024,
    stateTransitionCount: 2,
    parentWorkflowId: null,
    parentRunId: null,
    rootWorkflowId: workflowId,
    rootRunId: runId,
    searchAttributes: {},
    data: JSON.stringify({ memo: {} }),
    ...over,
  };
}

/** Drivers return Buffer (a Uint8Array subclass); compare bytes, not prototypes. */
export function hex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
}

export function plainExecution(rec: ExecutionRecord | null): unknown {
  return rec && { ...rec, key: { ...rec.key }, data: hex(rec.data) };
}

export function plainEvents(rows: HistoryEventRow[]): unknown[] {
  return rows.map((r) => ({ ...r, data: hex(r.data) }));
}

export async function createShard(p: Persistence, rangeId: Int64 = BIG_RANGE_ID): Promise<number> {
  const shardId = freshShardId();
  await p.shards.createShard({ shardId, rangeId, owner: 'conformance', ackLevels: {}, updatedAtMs: 1 });
  return shardId;
}

/** Every task of a shard in every category; the shard is fresh, so these are the test's own. */
export async function allTasks(p: Persistence, shardId: number): Promise<HistoryTask[]> {
  const out: HistoryTask[] = [];
  for (const category of ['transfer', 'replication', 'visibility', 'replicationDlq'] as const) {
    out.push(...(await p.executions.getHistoryTasks({ shardId, category, afterTaskId: -1n, maxTaskId: MAX_INT64, limit: 1000 })));
  }
  out.push(
    ...(await p.executions.getTimerTasks({
      shardId,
      after: { visibilityTimeMs: -1, taskId: -1n },
      maxVisibilityTimeMs: Number.MAX_SAFE_INTEGER,
      limit: 1000,
    })),
  );
  return out;
}

/** Every row a read of the branch returns, up to maxEventId (default: no bound at all). */
export async function allEvents(p: Persistence, shardId: number, branch: HistoryBranch, maxEventId = 2 ** 31 - 1): Promise<HistoryEventRow[]> {
  return p.executions.readHistory({ shardId, branch, minEventId: 0, maxEventId, limit: 10_000 });
}

/** The run's history as a reader sees it: its stored branch up to its committed nextEventId; none without a record. */
export async function committedEvents(p: Persistence, shardId: number, key: ExecutionKey): Promise<HistoryEventRow[]> {
  const rec = await p.executions.getWorkflowExecution(shardId, key);
  return rec ? allEvents(p, shardId, branchOf(rec), rec.nextEventId) : [];
}

/** Writes and checks the execution tests share, over the store under test (opened in a before hook). */
export function runWriters(store: () => Persistence) {
  /** A brand-new running run with events 1..2 (nextEventId 3) and one transfer task, written at seq. */
  async function startRun(shardId: number, key: ExecutionKey = freshKey(), seq = 1): Promise<ExecutionRecord> {
    const rec = execution(key);
    const taskId = taskIdOf(BIG_RANGE_ID, seq);
    await store().executions.createWorkflowExecution({
      shardId,
      rangeId: BIG_RANGE_ID,
      mode: { kind: 'brandNew' },
      execution: rec,
      history: append(rec, 1, 3, taskId),
      tasks: [task('transfer', key, taskId)],
    });
    return rec;
  }

  /** A run started as startRun does, then closed (still the current run): what replaceCurrent may replace. */
  async function closedRun(shardId: number, over: Partial<ExecutionRecord> = {}): Promise<ExecutionRecord> {
    const closed = next(await startRun(shardId), { state: 'completed', status: 2, ...over });
    await store().executions.updateWorkflowExecution({ shardId, rangeId: BIG_RANGE_ID, mode: 'updateCurrent', execution: closed, expectedDbRecordVersion: 1, expectedNextEventId: 3, tasks: [] });
    return closed;
  }

  async function assertStored(shardId: number, rec: ExecutionRecord): Promise<void> {
    assert.deepEqual(plainExecution(await store().executions.getWorkflowExecution(shardId, rec.key)), plainExecution(rec));
  }

  return { startRun, closedRun, assertStored };
}
