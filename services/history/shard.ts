// One owned shard: its range_id (fencing), its task-id allocator, the serialized writer and the
// cache of mutable states. A write fenced by a newer owner marks the shard lost; the controller
// then drops it.
import { randomUUID } from 'node:crypto';
import { Mutex, KeyedMutex } from '../common/mutex.js';
import type { Logger } from '../common/logger.js';
import { apiError } from '../common/errors.js';
import { historyv1 } from '../common/temporal.js';
import { toLong } from '../common/proto-time.js';
import { ShardOwnershipLostError, StoreUnavailableError } from '../persistence/errors.js';
import type { Persistence } from '../persistence/store.js';
import type { CreateMode, ExecutionKey, ExecutionRecord, HistoryAppend, HistoryBranch, HistoryEventRow, HistoryTask, ShardInfo } from '../persistence/types.js';
import { MutableState } from './mutable-state.js';
import type { HistoryEvent } from './state.js';
import type { NewTask } from './tasks.js';

/** Task ids are rangeId * 2^20 + seq (DESIGN invariant 2): they only grow across owners. */
export const TASK_ID_BITS = 20n;
const SEQ_LIMIT = 1n << TASK_ID_BITS;
/** Events per store read when a caller needs a whole range. */
const READ_PAGE = 1000;

export interface ShardListener {
  /** Called after a write committed, with the tasks it created. */
  onTasksCreated(shard: Shard, tasks: HistoryTask[]): void;
  /** Called after a write committed events for a run (long polls wake up). */
  onEventsAppended(key: ExecutionKey, nextEventId: number): void;
}

/** What one transaction writes: its events, its tasks, and the run it started, if any. */
export interface ShardWrite {
  events: HistoryEvent[];
  /** Where the events go when not on the run's current branch (a fork that lost, DESIGN invariant 5). */
  branch?: HistoryBranch;
  tasks: NewTask[];
  newRun?: { ms: MutableState; events: HistoryEvent[]; tasks: NewTask[] };
}

export function executionCacheKey(k: ExecutionKey): string {
  return `${k.namespaceId}/${k.workflowId}/${k.runId}`;
}

export class Shard {
  private seq = 0n;
  private readonly writeLock = new Mutex();
  readonly workflowLocks = new KeyedMutex();
  private readonly cache = new Map<string, MutableState>();
  private lostFlag = false;
  /** The last write failed without an answer from the store (see write). */
  private outcomeUnknown = false;
  /**
   * Writes so far whose outcome was unknown: their tasks may be stored though nobody was told of
   * them, so a queue taking committed tasks as they are offered must read the store once more.
   */
  private unknownOutcomeCount = 0;
  private readonly lostCallbacks: (() => void)[] = [];
  private lastReplicationTask = 0n;

  private constructor(
    private info: ShardInfo,
    private readonly store: Persistence,
    private readonly listener: ShardListener,
    readonly log: Logger,
    private readonly maxCachedExecutions: number,
  ) {}

  /** Takes the shard: bumps range_id with a conditional write so any earlier owner is fenced. */
  static async acquire(
    shardId: number,
    owner: string,
    store: Persistence,
    listener: ShardListener,
    log: Logger,
    maxCachedExecutions = 5000,
  ): Promise<Shard> {
    const existing = await store.shards.getShard(shardId);
    let info: ShardInfo;
    if (!existing) {
      info = { shardId, rangeId: 1n, owner, ackLevels: {}, updatedAtMs: Date.now() };
      await store.shards.createShard(info);
    } else {
      info = { ...existing, rangeId: existing.rangeId + 1n, owner, updatedAtMs: Date.now() };
      await store.shards.updateShard(info, existing.rangeId);
    }
    return new Shard(info, store, listener, log.child({ shard: shardId }), maxCachedExecutions);
  }

  get shardId(): number {
    return this.info.shardId;
  }

  get rangeId(): bigint {
    return this.info.rangeId;
  }

  get isLost(): boolean {
    return this.lostFlag;
  }

  /**
   * How many writes had an unknown outcome, or null while the last one is unsettled (it may still
   * land); a read of the store started when this is not null finds every task such a write stored.
   */
  get settledUnknownOutcomes(): number | null {
    return this.outcomeUnknown ? null : this.unknownOutcomeCount;
  }

  get ackLevels(): Record<string, string> {
    return this.info.ackLevels;
  }

  /**
   * The highest replication task id this owner committed (0: none yet). Task ids follow commit
   * order, so a standby whose ack reaches it has every write this owner answered so far.
   */
  get lastReplicationTaskId(): bigint {
    return this.lastReplicationTask;
  }

  onLost(cb: () => void): void {
    this.lostCallbacks.push(cb);
  }

  /** Marks the shard lost: it refuses every later call; the controller drops it. */
  markLost(reason: string): void {
    if (this.lostFlag) return;
    this.lostFlag = true;
    this.cache.clear();
    this.log.warn({ reason, rangeId: this.info.rangeId.toString() }, 'shard lost');
    for (const cb of this.lostCallbacks) cb();
  }

  assertOwned(): void {
    if (this.lostFlag) throw apiError('SHARD_MOVED', this.shardId);
  }

  /** Persists queue progress; fenced like every other write. */
  async updateAckLevels(levels: Record<string, string>): Promise<void> {
    await this.write(async () => {
      const next: ShardInfo = { ...this.info, ackLevels: { ...this.info.ackLevels, ...levels }, updatedAtMs: Date.now() };
      await this.store.shards.updateShard(next, this.info.rangeId);
      this.info = next;
    });
  }

  private async nextTaskId(): Promise<bigint> {
    if (this.seq >= SEQ_LIMIT) await this.renewRange();
    return (this.info.rangeId << TASK_ID_BITS) + this.seq++;
  }

  private async renewRange(): Promise<void> {
    const next: ShardInfo = { ...this.info, rangeId: this.info.rangeId + 1n, updatedAtMs: Date.now() };
    await this.store.shards.updateShard(next, this.info.rangeId);
    this.info = next;
    this.seq = 0n;
  }

  /** Runs one write of the shard at a time; a fenced write marks the shard lost. */
  private async write<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOwned();
    return this.writeLock.run(async () => {
      this.assertOwned();
      try {
        // A write whose outcome is unknown may still land: bumping range_id (a conditional write
        // on the same partition) settles it before anything is written from a reloaded state.
        if (this.outcomeUnknown) {
          await this.renewRange();
          this.cache.clear();
          this.outcomeUnknown = false;
        }
        return await fn();
      } catch (err) {
        if (err instanceof ShardOwnershipLostError) {
          this.markLost(err.message);
          throw apiError('SHARD_MOVED', this.shardId);
        }
        if (err instanceof StoreUnavailableError) {
          this.outcomeUnknown = true;
          this.unknownOutcomeCount++;
        }
        throw err;
      }
    });
  }

  private getCached(key: ExecutionKey): MutableState | undefined {
    return this.cache.get(executionCacheKey(key));
  }

  invalidate(key: ExecutionKey): void {
    this.cache.delete(executionCacheKey(key));
  }

  private remember(ms: MutableState): void {
    const k = executionCacheKey(ms.key);
    this.cache.delete(k);
    this.cache.set(k, ms);
    if (this.cache.size > this.maxCachedExecutions) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }

  async loadExecution(key: ExecutionKey, currentVersion: bigint): Promise<MutableState | null> {
    this.assertOwned();
    const cached = this.getCached(key);
    if (cached) {
      cached.currentVersion = currentVersion;
      return cached;
    }
    const rec = await this.store.executions.getWorkflowExecution(this.shardId, key);
    if (!rec) return null;
    const ms = MutableState.fromBlob(rec.data, rec.dbRecordVersion, currentVersion);
    ms.zombie = rec.state === 'zombie';
    this.remember(ms);
    return ms;
  }

  /** Creates a run with everything its start produced, in one conditional batch. */
  async createExecution(ms: MutableState, w: ShardWrite, mode: CreateMode): Promise<void> {
    try {
      await this.write(async () => {
        const { history, tasks } = await this.materialize(ms, w.events, w.tasks);
        ms.dbRecordVersion = 1;
        await this.store.executions.createWorkflowExecution({
          shardId: this.shardId,
          rangeId: this.rangeId,
          mode,
          execution: toRecord(ms),
          history,
          tasks,
        });
        this.committed(ms, tasks);
      });
    } catch (err) {
      this.invalidate(ms.key);
      throw err;
    }
  }

  /**
   * Writes a transaction of the run (and a new run from continue-as-new) conditionally on its db
   * record version and next event id. On any failure the cached state is dropped: the next call
   * reloads.
   */
  async updateExecution(ms: MutableState, w: ShardWrite): Promise<void> {
    const mode = ms.zombie ? 'bypassCurrent' : 'updateCurrent';
    try {
      await this.write(async () => {
        const { history, tasks } = await this.materialize(ms, w.events, w.tasks, w.branch);
        let newRunRecord: ExecutionRecord | undefined;
        let newRunHistory: HistoryAppend | undefined;
        if (w.newRun) {
          const materialized = await this.materialize(w.newRun.ms, w.newRun.events, w.newRun.tasks);
          newRunHistory = materialized.history;
          tasks.push(...materialized.tasks);
          w.newRun.ms.dbRecordVersion = 1;
          newRunRecord = toRecord(w.newRun.ms);
        }
        const expected = ms.dbRecordVersion;
        ms.dbRecordVersion = expected + 1;
        try {
          await this.store.executions.updateWorkflowExecution({
            shardId: this.shardId,
            rangeId: this.rangeId,
            mode,
            execution: toRecord(ms),
            expectedDbRecordVersion: expected,
            expectedNextEventId: ms.storedNextEventId,
            newRun: newRunRecord,
            history: history.events.length > 0 ? history : undefined,
            newRunHistory,
            tasks,
          });
        } catch (err) {
          ms.dbRecordVersion = expected;
          throw err;
        }
        ms.dirty = false;
        this.committed(ms, tasks);
        if (w.newRun) this.committed(w.newRun.ms, []);
      });
    } catch (err) {
      this.invalidate(ms.key);
      throw err;
    }
  }

  /**
   * Writes tasks that belong to no execution write (a replication DLQ entry), with task ids of
   * this shard, fenced like every write.
   */
  async writeTasks(newTasks: Omit<HistoryTask, 'taskId'>[]): Promise<HistoryTask[]> {
    return this.write(async () => {
      const tasks: HistoryTask[] = [];
      for (const t of newTasks) tasks.push({ ...t, taskId: await this.nextTaskId() });
      await this.store.executions.createHistoryTasks(this.shardId, this.rangeId, tasks);
      this.listener.onTasksCreated(this, tasks);
      return tasks;
    });
  }

  private committed(ms: MutableState, tasks: HistoryTask[]): void {
    ms.storedNextEventId = ms.info.nextEventId;
    this.remember(ms);
    for (const t of tasks) if (t.category === 'replication' && t.taskId > this.lastReplicationTask) this.lastReplicationTask = t.taskId;
    if (tasks.length > 0) this.listener.onTasksCreated(this, tasks);
    this.listener.onEventsAppended(ms.key, ms.info.nextEventId);
  }

  /** Gives events and tasks their task ids (inside the write lock, so ids follow commit order). */
  private async materialize(ms: MutableState, newEvents: HistoryEvent[], newTasks: NewTask[], branch = ms.branch): Promise<{ history: HistoryAppend; tasks: HistoryTask[] }> {
    const key = ms.key;
    const events: HistoryEventRow[] = [];
    if (newEvents.length > 0) {
      const batchTaskId = await this.nextTaskId();
      for (const e of newEvents) {
        e.taskId = toLong(batchTaskId);
        events.push({
          eventId: Number(e.eventId),
          version: BigInt(e.version!.toString()),
          taskId: batchTaskId,
          data: historyv1.HistoryEvent.encode(e).finish(),
        });
      }
    }
    const tasks: HistoryTask[] = [];
    for (const t of newTasks) tasks.push(await this.toHistoryTask(key, t));
    return { history: { branch, events }, tasks };
  }

  private async toHistoryTask(key: ExecutionKey, t: NewTask): Promise<HistoryTask> {
    return {
      category: t.category,
      taskId: await this.nextTaskId(),
      visibilityTimeMs: t.visibilityTimeMs,
      namespaceId: key.namespaceId,
      workflowId: key.workflowId,
      runId: key.runId,
      type: t.type,
      data: JSON.stringify(t.attrs),
    };
  }

  /** Every event of [minEventId, maxEventId), read in pages the store can serve. */
  async readAllEvents(branch: HistoryBranch, minEventId: number, maxEventId: number): Promise<HistoryEvent[]> {
    const out: HistoryEvent[] = [];
    for (let from = minEventId; from < maxEventId; ) {
      const page = await this.readEvents(branch, from, maxEventId, READ_PAGE);
      if (page.length === 0) break;
      out.push(...page);
      from += page.length;
    }
    return out;
  }

  async readEvents(branch: HistoryBranch, minEventId: number, maxEventId: number, limit: number): Promise<HistoryEvent[]> {
    const rows = await this.store.executions.readHistory({ shardId: this.shardId, branch, minEventId, maxEventId, limit });
    return rows.map((r) => historyv1.HistoryEvent.decode(r.data));
  }
}

export function toRecord(ms: MutableState): ExecutionRecord {
  const info = ms.info;
  return {
    key: ms.key,
    branchId: info.branchId,
    dbRecordVersion: ms.dbRecordVersion,
    state: ms.zombie ? 'zombie' : info.state,
    status: info.status,
    nextEventId: info.nextEventId,
    startVersion: BigInt(info.startVersion),
    lastWriteVersion: BigInt(info.lastWriteVersion),
    createRequestId: ms.progress.createRequestId,
    data: ms.toBlob(),
  };
}

export function newRunId(): string {
  return randomUUID();
}
