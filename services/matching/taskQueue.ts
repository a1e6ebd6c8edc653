// One task queue (namespace, name, type): the polls waiting on it, and the tasks waiting for a
// poll in one subqueue per priority level (subqueue.ts), dispatched lower level first and, within
// a level, fairly between fairness keys. A normal queue persists its tasks: it leases the queue,
// writes each task with its level, reads each subqueue's backlog in level order and acks it.
// Sticky queues keep their tasks in memory only: when one is dropped, history's sticky
// schedule-to-start timeout moves its tasks back to the normal queue.
import type { Logger } from '../common/logger.js';
import { GroupCommit } from '../common/group-commit.js';
import { Mutex } from '../common/mutex.js';
import { apiError, isTandemError } from '../common/errors.js';
import type { workflowservice as ws } from '../common/temporal.js';
import { ConditionFailedError } from '../persistence/errors.js';
import type { TaskQueueStore } from '../persistence/store.js';
import type { QueuedTask, TaskQueueInfo, TaskQueueKey } from '../persistence/types.js';
import type { AddTaskRequest, QueryTaskRequest, TaskQueueRef, TaskStarter } from './api.js';
import type { MatchingConfig } from './config.js';
import { taskTypeLabel, type MatchingMetrics, type QueueLabels } from './metrics.js';
import { DEFAULT_PRIORITY_KEY, PRIORITY_LEVELS, priorityLevel, type TaskPriority } from './priority.js';
import { isExpired, Subqueue, type BufferedTask } from './subqueue.js';
import { compareLevels, ZERO_LEVEL, type TaskLevel } from './task-level.js';

/** Task ids are rangeId * 2^20 + seq: every lease owns a block of ids above all earlier ones. */
export const TASK_ID_BLOCK = 1n << 20n;

/** Temporal's default dispatch rate, reported for pollers that set none. */
const DEFAULT_POLLER_RATE_PER_SECOND = 100_000;

export type PollRequest = ws.IPollWorkflowTaskQueueRequest | ws.IPollActivityTaskQueueRequest;
export type PollResponse = ws.IPollWorkflowTaskQueueResponse | ws.IPollActivityTaskQueueResponse;

/** A dispatched query; the engine owns its settling, the queue only hands it to a poller. */
export interface QueryTask {
  readonly id: string;
  readonly namespaceId: string;
  readonly req: QueryTaskRequest;
  /** A poller took it (buildQueryTask was called). */
  taken: boolean;
  /** Answered, failed or timed out: a queued query that settled is skipped. */
  settled: boolean;
  answer(resp: ws.IRespondQueryTaskCompletedRequest): void;
  fail(err: Error): void;
}

interface Poller {
  readonly req: PollRequest;
  /** Aborted, timed out or shut down: the poll no longer takes a task that is not yet being started. */
  ended: boolean;
  /** Resolves the poll with a task, or with the all-default response for null. */
  finish(resp: PollResponse | null): void;
}

/** What matching stores in QueuedTask.data. */
interface StoredTask {
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  scheduleToStartTimeoutMs: number;
  createdAtMs: number;
  /** The pinned version, or null for a task the routing placed; absent in rows of older releases. */
  pinnedVersion?: AddTaskRequest['pinnedVersion'] | null;
  /** Absent for a task of a run with no priority, and in rows of older releases. */
  priority?: TaskPriority;
}

function storedTask(task: BufferedTask): StoredTask {
  return {
    workflowId: task.req.workflowId,
    runId: task.req.runId,
    scheduledEventId: task.req.scheduledEventId,
    scheduleToStartTimeoutMs: task.req.scheduleToStartTimeoutMs,
    createdAtMs: task.createdAtMs,
    pinnedVersion: task.req.pinnedVersion ?? null,
    ...(task.req.priority ? { priority: task.req.priority } : {}),
  };
}

type StartOutcome = 'started' | 'stale' | 'failed';

interface PollerRecord {
  lastAccessMs: number;
  ratePerSecond: number;
  deploymentOptions: PollRequest['deploymentOptions'];
}

export interface TaskQueueStatus {
  backlogCountHint: number;
  /** Creation time of the oldest task read into memory; null with none. */
  oldestTaskMs: number | null;
  /** Per priority level with tasks: its backlog and oldest task in memory. */
  byPriority: Map<number, { backlog: number; oldestTaskMs: number | null }>;
  /** The ids of the default level's read and ack levels (the levels' other part is the fairness pass). */
  readLevel: bigint;
  ackLevel: bigint;
  /** First and last id of the current lease's block (0 for sticky queues). */
  taskIdBlock: { startId: bigint; endId: bigint };
}

export interface TaskQueueDeps {
  ref: TaskQueueRef;
  store: TaskQueueStore;
  starter: TaskStarter;
  config: MatchingConfig;
  metrics: MatchingMetrics;
  log: Logger;
  clock: () => number;
  /** The previous manager of this queue, still flushing: leasing waits for it. */
  predecessor?: Promise<void>;
}

export class TaskQueueManager {
  readonly ref: TaskQueueRef;
  private readonly key: TaskQueueKey;
  private readonly persistent: boolean;
  private readonly labels: QueueLabels;
  private readonly store: TaskQueueStore;
  private readonly starter: TaskStarter;
  private readonly config: MatchingConfig;
  private readonly metrics: MatchingMetrics;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly predecessor: Promise<void>;

  private closed = false;
  private lastActiveMs: number;
  private waiting: Poller[] = [];
  private readonly handing = new Set<Poller>();
  private readonly pollerHistory = new Map<string, PollerRecord>();
  /** Index i holds priority level i + 1; a normal queue's exist once it is leased. */
  private subqueues: Subqueue[] = [];
  private queries: QueryTask[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private pumpTimer: NodeJS.Timeout | undefined;
  private pumpAtMs = Infinity;

  // Persistent queues only.
  private lease: TaskQueueInfo | null = null;
  private leasing: Promise<void> | null = null;
  private nextSeq = 0n;
  private persistedAckLevels: TaskQueueInfo['ackLevels'] = {};
  private reading: Promise<void> | null = null;
  /**
   * Serializes task writes, backlog reads, re-leases and ack flushes: a subqueue then always knows
   * whether a task just written lies below what it read, above it, or past the end of the store.
   */
  private readonly io = new Mutex();
  /** The tasks added while a write is in flight go together in the next one: one fenced batch. */
  private readonly taskWrites: GroupCommit<BufferedTask>;

  constructor(deps: TaskQueueDeps) {
    this.ref = deps.ref;
    this.key = { namespaceId: deps.ref.namespaceId, name: deps.ref.name, type: deps.ref.type };
    this.persistent = deps.ref.kind !== 2;
    this.labels = {
      namespace_id: deps.ref.namespaceId,
      task_queue: deps.ref.name,
      task_type: taskTypeLabel(deps.ref.type),
    };
    this.store = deps.store;
    this.starter = deps.starter;
    this.config = deps.config;
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.clock = deps.clock;
    this.predecessor = deps.predecessor ?? Promise.resolve();
    this.taskWrites = new GroupCommit((tasks) => this.writeTasks(tasks), this.config.backlogBatchSize);
    this.lastActiveMs = this.clock();
    if (this.persistent) this.ensureLeaseInBackground();
    else this.subqueues = this.newSubqueues(() => null);
  }

  /** Resolves 'sync' when a waiting poller took the task, 'backlog' once it is queued (persisted). */
  add(req: AddTaskRequest): Promise<'sync' | 'backlog'> {
    this.lastActiveMs = this.clock();
    return this.track(this.addTask(req));
  }

  poll(req: PollRequest, signal: AbortSignal): Promise<PollResponse> {
    this.lastActiveMs = this.clock();
    this.recordPoller(req);
    if (this.closed || signal.aborted) return Promise.resolve(this.emptyPoll());
    if (this.persistent) this.ensureLeaseInBackground();
    return new Promise((resolve) => {
      let settled = false;
      const poller: Poller = {
        req,
        ended: false,
        finish: (resp) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', end);
          this.lastActiveMs = this.clock();
          this.recordPoller(req);
          this.metrics.polls.inc({ ...this.labels, result: resp ? 'task' : 'empty' });
          resolve(resp ?? {});
        },
      };
      // A poller being handed a task is not in `waiting`: the hand-off finishes it (see requeue).
      const end = () => {
        poller.ended = true;
        const i = this.waiting.indexOf(poller);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          poller.finish(null);
        }
      };
      const timer = setTimeout(end, this.config.longPollMaxWaitMs);
      signal.addEventListener('abort', end, { once: true });
      this.waiting.push(poller);
      this.pump();
    });
  }

  addQuery(query: QueryTask): void {
    this.lastActiveMs = this.clock();
    if (this.closed) {
      query.fail(apiError('UNAVAILABLE', `task queue ${this.ref.name} is shutting down`));
      return;
    }
    this.queries.push(query);
    this.pump();
  }

  /** Pollers seen within the window, or waiting now. */
  hasRecentPoller(windowMs: number): boolean {
    if (this.waiting.length > 0) return true;
    const since = this.clock() - windowMs;
    for (const p of this.pollerHistory.values()) if (p.lastAccessMs >= since) return true;
    return false;
  }

  pollers(): Array<{ identity: string } & PollerRecord> {
    this.prunePollers();
    return [...this.pollerHistory].map(([identity, p]) => ({ identity, ...p }));
  }

  /** Waits for the lease and the read in progress so a freshly loaded queue reports its backlog. */
  async status(): Promise<TaskQueueStatus> {
    if (this.persistent) {
      await this.ensureLease();
      await this.reading;
    }
    const blockStart = this.lease ? this.lease.rangeId * TASK_ID_BLOCK : 0n;
    const byPriority = new Map<number, { backlog: number; oldestTaskMs: number | null }>();
    for (const sub of this.subqueues) if (sub.backlog > 0) byPriority.set(sub.priority, { backlog: sub.backlog, oldestTaskMs: sub.oldestCreatedMs });
    const oldest = this.subqueues.map((sub) => sub.oldestCreatedMs).filter((ms) => ms !== null);
    const defaultLevel = this.subqueues[DEFAULT_PRIORITY_KEY - 1];
    return {
      backlogCountHint: this.backlogCountHint(),
      oldestTaskMs: oldest.length > 0 ? Math.min(...oldest) : null,
      byPriority,
      readLevel: defaultLevel?.readLevel?.taskId ?? 0n,
      ackLevel: defaultLevel?.ackLevel?.taskId ?? 0n,
      taskIdBlock: { startId: blockStart, endId: this.lease ? blockStart + TASK_ID_BLOCK - 1n : 0n },
    };
  }

  /** Periodic upkeep: drop settled queries and expired tasks, retry a failed lease or read, flush the ack level. */
  async tick(): Promise<void> {
    this.queries = this.queries.filter((q) => !q.settled);
    const now = this.clock();
    for (const sub of this.subqueues) for (const t of sub.takeWhere((t) => isExpired(t, now))) this.taskDone(t, 'expired');
    this.prunePollers();
    if (this.persistent) {
      if (!this.lease) this.ensureLeaseInBackground();
      this.kickReader();
      await this.flushAckLevel().catch((err: unknown) => this.log.warn({ err }, 'flushing task queue ack level failed'));
    }
    this.metrics.backlog.set(this.labels, this.backlogCountHint());
  }

  /**
   * Hands the queued tasks the routing placed here (not the pinned ones) to `move`, which adds
   * each where the routing sends it now; a task leaves this queue only once `move` resolved, and
   * one that failed to move stays to be dispatched here or moved later. At most one backlog batch
   * per call (the reader refills the buffer for the next one). Resolves to the number moved.
   */
  async reroute(move: (req: AddTaskRequest) => Promise<void>): Promise<number> {
    if (this.closed) return 0;
    if (this.persistent) {
      await this.ensureLease();
      await this.reading;
    }
    const taken = this.subqueues.flatMap((sub) => sub.takeWhere((t) => t.movable && t.level !== null));
    if (taken.length === 0) return 0;
    let moved = 0;
    for (const task of taken) {
      try {
        await move(task.req);
        this.taskDone(task, 'rerouted');
        moved++;
      } catch (err) {
        this.log.warn({ err, workflowId: task.req.workflowId }, 'moving a task to its new version failed; it stays');
        this.subqueueOf(task).putBack(task);
      }
    }
    this.pump();
    return moved;
  }

  /** Nothing waits, nothing is in flight, and nobody touched the queue for idleQueueTimeoutMs. */
  isIdle(): boolean {
    return (
      this.waiting.length === 0 &&
      this.inflight.size === 0 &&
      this.queries.length === 0 &&
      this.io.pending === 0 &&
      this.reading === null &&
      this.leasing === null &&
      this.clock() - this.lastActiveMs >= this.config.idleQueueTimeoutMs
    );
  }

  /** Ends waiting polls empty at once, lets in-flight starts finish, then persists the ack level. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pumpTimer);
    const waiting = this.waiting;
    this.waiting = [];
    for (const p of waiting) {
      p.ended = true;
      p.finish(null);
    }
    for (const p of this.handing) p.ended = true;
    for (const q of this.queries) q.fail(apiError('UNAVAILABLE', `task queue ${this.ref.name} is shutting down`));
    this.queries = [];
    await Promise.allSettled([...this.inflight, this.leasing, this.reading]);
    if (this.persistent) {
      await this.flushAckLevel().catch((err: unknown) => this.log.warn({ err }, 'flushing task queue ack level on close failed'));
    }
    this.metrics.backlog.remove(this.labels);
  }

  // ---- adding

  private async addTask(req: AddTaskRequest): Promise<'sync' | 'backlog'> {
    const now = this.clock();
    const task: BufferedTask = {
      req,
      subqueue: priorityLevel(req.priority),
      level: null,
      createdAtMs: now,
      expiryTimeMs: req.scheduleToStartTimeoutMs > 0 ? now + req.scheduleToStartTimeoutMs : 0,
      attempts: 0,
      notBeforeMs: 0,
      movable: !req.pinnedVersion,
    };
    if (this.persistent) await this.ensureLease();
    if (this.closed) throw apiError('UNAVAILABLE', `task queue ${this.ref.name} is shutting down`);
    const poller = this.canSyncMatch() ? this.waiting.shift() : undefined;
    if (!poller) {
      await this.enqueue(task);
      return 'backlog';
    }
    const handOff = this.track(this.syncMatch(poller, task));
    // The start calls back into history. A caller that holds the workflow's lock while adding
    // would wait on itself forever: past the bound, the hand-off finishes on its own.
    // A plain timer, not sleep() with an AbortController: aborting one per hand-off built a DOMException each.
    let bound: NodeJS.Timeout | undefined;
    const result = await Promise.race([handOff, new Promise<null>((resolve) => (bound = setTimeout(resolve, this.config.syncMatchMaxWaitMs, null)))]);
    clearTimeout(bound);
    if (result) return result;
    this.log.warn(
      { workflowId: req.workflowId, waitedMs: this.config.syncMatchMaxWaitMs },
      'task start is slow (does the caller hold the workflow lock while adding?); not waiting for it',
    );
    handOff.catch((err: unknown) => this.log.error({ err, workflowId: req.workflowId }, 'queueing a task after a failed start failed'));
    return 'sync';
  }

  private async syncMatch(poller: Poller, task: BufferedTask): Promise<'sync' | 'backlog'> {
    const outcome = await this.start(poller, task);
    if (outcome !== 'started') this.requeue(poller);
    if (outcome === 'stale') this.metrics.tasksDropped.inc({ ...this.labels, reason: 'stale' });
    if (outcome !== 'failed') return 'sync';
    this.backOff(task);
    await this.enqueue(task);
    return 'backlog';
  }

  private async enqueue(task: BufferedTask): Promise<void> {
    if (this.persistent) {
      await this.persist(task);
    } else {
      const sub = this.subqueueOf(task);
      sub.place(task, ++this.nextSeq);
      sub.written(task, true);
      this.pump();
    }
  }

  /** Only when no task waits, in memory or in the store: a task queued earlier, or of a higher priority, goes first. */
  private canSyncMatch(): boolean {
    if (this.waiting.length === 0 || this.reading !== null) return false;
    return this.subqueues.every((sub) => sub.empty);
  }

  /** Resolves once the task is written (taskWrites: with the tasks added while a write was in flight). */
  private persist(task: BufferedTask): Promise<void> {
    return this.taskWrites.submit(task);
  }

  private async writeTasks(tasks: BufferedTask[]): Promise<void> {
    try {
      await this.io.run(async () => {
        try {
          await this.writeTasksLocked(tasks);
        } catch (err) {
          if (!(err instanceof ConditionFailedError)) throw err;
          this.log.warn('task queue lease lost to another owner; re-leasing');
          await this.leaseLocked();
          await this.writeTasksLocked(tasks);
        }
      });
    } catch (err) {
      if (err instanceof ConditionFailedError) {
        throw apiError('UNAVAILABLE', `task queue ${this.ref.name} is owned by another matching host; retry`);
      }
      throw err;
    }
  }

  /** Under the io lock. Each subqueue keeps its tasks in memory when they belong there, else the reader brings them back. */
  private async writeTasksLocked(tasks: BufferedTask[]): Promise<void> {
    if (this.nextSeq + BigInt(tasks.length) > TASK_ID_BLOCK) await this.leaseLocked();
    const { rangeId } = this.lease!;
    const placed = tasks.map((task) => {
      const sub = this.subqueueOf(task);
      return { task, sub, level: sub.place(task, rangeId * TASK_ID_BLOCK + this.nextSeq++) };
    });
    let written = false;
    try {
      await this.store.createTasks(
        this.key,
        rangeId,
        placed.map(({ task, sub, level }) => ({ subqueue: sub.priority, ...level, expiryTimeMs: task.expiryTimeMs, data: JSON.stringify(storedTask(task)) })),
      );
      written = true;
    } finally {
      for (const { task, sub } of placed) sub.written(task, written);
    }
    this.pump();
  }

  // ---- leasing

  private ensureLease(): Promise<void> {
    if (this.lease) return Promise.resolve();
    if (this.closed) return Promise.reject(apiError('UNAVAILABLE', `task queue ${this.ref.name} is shutting down`));
    this.leasing ??= this.acquireLease().finally(() => {
      this.leasing = null;
    });
    return this.leasing;
  }

  private ensureLeaseInBackground(): void {
    this.ensureLease().catch((err: unknown) => {
      if (!this.closed) this.log.warn({ err }, 'leasing task queue failed; retrying on the next tick');
    });
  }

  private async acquireLease(): Promise<void> {
    await this.predecessor;
    await this.io.run(() => this.leaseLocked());
  }

  /**
   * Takes (or takes back) the queue: a new rangeId, so a block of ids above every earlier one.
   * Taken back, every subqueue reads its backlog again: another owner may have written meanwhile,
   * at levels below what this one read.
   */
  private async leaseLocked(): Promise<void> {
    const info = await this.store.leaseTaskQueue(this.key);
    const previous = this.lease;
    this.lease = info;
    this.nextSeq = 0n;
    if (previous) {
      for (const sub of this.subqueues) sub.reread();
    } else {
      this.subqueues = this.newSubqueues((level) => info.ackLevels[level] ?? ZERO_LEVEL);
      this.persistedAckLevels = info.ackLevels;
    }
    this.log.info({ rangeId: info.rangeId.toString(), previous: previous?.rangeId.toString() }, 'task queue leased');
    this.kickReader();
  }

  /** One subqueue per priority level, starting from `ackLevel` (null: in memory only). */
  private newSubqueues(ackLevel: (level: number) => TaskLevel | null): Subqueue[] {
    const limits = { batchSize: this.config.backlogBatchSize, fairnessKeys: this.config.fairnessKeysTracked };
    return Array.from({ length: PRIORITY_LEVELS }, (_, i) => new Subqueue(i + 1, ackLevel(i + 1), limits));
  }

  private subqueueOf(task: BufferedTask): Subqueue {
    return this.subqueues[task.subqueue - 1]!;
  }

  // ---- reading the backlog

  private kickReader(): void {
    if (this.reading || this.closed || !this.lease) return;
    if (!this.subqueues.some((sub) => sub.room > 0)) return;
    this.reading = this.readBacklog().then((ok) => {
      this.reading = null;
      // A pump that ran while this read was finishing skipped its kick; a failed read waits for the tick.
      if (ok) this.kickReader();
    });
  }

  /** Fills the subqueues that have room from the store, the highest priority first. */
  private async readBacklog(): Promise<boolean> {
    try {
      for (;;) {
        const sub = this.subqueues.find((q) => q.room > 0);
        if (!sub || this.closed) return true;
        await this.io.run(async () => {
          const limit = sub.room;
          if (limit === 0) return;
          const rows = await this.store.getTasks(this.key, sub.priority, sub.readLevel!, limit);
          const now = this.clock();
          sub.loaded(rows, rows.length < limit, (row) => {
            const task = this.decode(row);
            if (task && isExpired(task, now)) {
              this.metrics.tasksDropped.inc({ ...this.labels, reason: 'expired' });
              return null;
            }
            return task;
          });
        });
        this.pump();
      }
    } catch (err) {
      this.log.warn({ err }, 'reading task queue backlog failed; retrying on the next tick');
      return false;
    }
  }

  private decode(row: QueuedTask): BufferedTask | null {
    try {
      const s = JSON.parse(row.data) as StoredTask;
      return {
        req: {
          taskQueue: this.ref,
          workflowId: s.workflowId,
          runId: s.runId,
          scheduledEventId: s.scheduledEventId,
          scheduleToStartTimeoutMs: s.scheduleToStartTimeoutMs,
          ...(s.pinnedVersion ? { pinnedVersion: s.pinnedVersion } : {}),
          ...(s.priority ? { priority: s.priority } : {}),
        },
        subqueue: row.subqueue,
        level: { pass: row.pass, taskId: row.taskId },
        createdAtMs: s.createdAtMs,
        expiryTimeMs: row.expiryTimeMs,
        attempts: 0,
        notBeforeMs: 0,
        movable: s.pinnedVersion === null,
      };
    } catch (err) {
      this.log.error({ err, taskId: row.taskId.toString() }, 'dropping undecodable backlog task');
      return null;
    }
  }

  /** Persists the subqueues' ack levels when one moved, then deletes the tasks at or below them. */
  private async flushAckLevel(): Promise<void> {
    if (!this.lease) return;
    const ackLevels: TaskQueueInfo['ackLevels'] = {};
    const moved: number[] = [];
    for (const sub of this.subqueues) {
      const level = sub.ackLevel!;
      if (compareLevels(level, ZERO_LEVEL) > 0) ackLevels[sub.priority] = level;
      if (compareLevels(level, this.persistedAckLevels[sub.priority] ?? ZERO_LEVEL) > 0) moved.push(sub.priority);
    }
    if (moved.length === 0) return;
    await this.io.run(async () => {
      const write = () => this.store.updateTaskQueue({ key: this.key, rangeId: this.lease!.rangeId, ackLevels, updatedAtMs: this.clock() });
      try {
        await write();
      } catch (err) {
        // A closing manager must not take the queue back from its successor.
        if (!(err instanceof ConditionFailedError) || this.closed) throw err;
        this.log.warn('task queue lease lost to another owner; re-leasing');
        await this.leaseLocked();
        await write();
      }
      this.persistedAckLevels = ackLevels;
      for (const subqueue of moved) await this.store.deleteTasks(this.key, subqueue, ackLevels[subqueue]!);
    });
  }

  // ---- dispatching

  /** Hands queries, then ready tasks, to waiting pollers, oldest poller first. */
  private pump(): void {
    while (this.waiting.length > 0 && !this.closed) {
      const query = this.nextQuery();
      if (query) {
        this.dispatch(this.dispatchQuery(this.waiting.shift()!, query));
        continue;
      }
      const task = this.nextReadyTask();
      if (!task) break;
      this.dispatch(this.dispatchTask(this.waiting.shift()!, task));
    }
    if (this.persistent) this.kickReader();
  }

  private nextQuery(): QueryTask | undefined {
    while (this.queries.length > 0) {
      const q = this.queries.shift()!;
      if (!q.settled) return q;
    }
    return undefined;
  }

  /** The first task not backing off of the highest priority that has one; expired ones met on the way are dropped. */
  private nextReadyTask(): BufferedTask | undefined {
    const now = this.clock();
    let retryAtMs = Infinity;
    for (const sub of this.subqueues) {
      const found = sub.next(now, (t) => this.taskDone(t, 'expired'));
      if ('task' in found) return found.task;
      retryAtMs = Math.min(retryAtMs, found.retryAtMs);
    }
    if (retryAtMs < Infinity) this.pumpAt(retryAtMs);
    return undefined;
  }

  private pumpAt(atMs: number): void {
    if (this.pumpTimer && this.pumpAtMs <= atMs) return;
    clearTimeout(this.pumpTimer);
    this.pumpAtMs = atMs;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = undefined;
      this.pumpAtMs = Infinity;
      this.pump();
    }, Math.max(0, atMs - this.clock()));
  }

  private async dispatchTask(poller: Poller, task: BufferedTask): Promise<void> {
    const outcome = await this.start(poller, task);
    if (outcome === 'failed') {
      // Back in its place in line, taken again once its backoff has passed.
      this.backOff(task);
      this.subqueueOf(task).putBack(task);
    } else {
      this.taskDone(task, outcome === 'stale' ? 'stale' : null);
    }
    if (outcome === 'started') this.pump();
    else this.requeue(poller);
  }

  private async dispatchQuery(poller: Poller, query: QueryTask): Promise<void> {
    query.taken = true;
    try {
      const resp = await this.starter.buildQueryTask(query.id, query.req, poller.req);
      // Timed out while history built it: the poller is better served by the next task.
      if (query.settled) this.requeue(poller);
      else poller.finish(resp);
    } catch (err) {
      query.fail(err instanceof Error ? err : new Error(String(err)));
      this.requeue(poller);
    }
  }

  /**
   * Asks history to record the start. Once it did, the task belongs to this poll even if the
   * poll ended meanwhile: history's start-to-close / workflow task timeout covers a lost response.
   */
  private async start(poller: Poller, task: BufferedTask): Promise<StartOutcome> {
    this.handing.add(poller);
    try {
      const resp =
        this.ref.type === 1
          ? await this.starter.recordWorkflowTaskStarted(task.req, poller.req as ws.IPollWorkflowTaskQueueRequest)
          : await this.starter.recordActivityTaskStarted(task.req, poller.req as ws.IPollActivityTaskQueueRequest);
      this.metrics.scheduleToStart.observe(
        { task_type: this.labels.task_type },
        Math.max(0, this.clock() - task.createdAtMs) / 1000,
      );
      poller.finish(resp);
      return 'started';
    } catch (err) {
      if (isTandemError(err, 'TASK_NOT_FOUND')) return 'stale';
      this.log.warn(
        { err, workflowId: task.req.workflowId, runId: task.req.runId, scheduledEventId: task.req.scheduledEventId, attempts: task.attempts + 1 },
        'recording task start failed; the task will be retried',
      );
      return 'failed';
    } finally {
      this.handing.delete(poller);
    }
  }

  /** A poller whose hand-off did not give it a task waits again at the front, unless it ended. */
  private requeue(poller: Poller): void {
    if (poller.ended || this.closed) {
      poller.finish(null);
      return;
    }
    this.waiting.unshift(poller);
    this.pump();
  }

  private backOff(task: BufferedTask): void {
    task.attempts++;
    const delay = Math.min(this.config.startRetryMaxMs, this.config.startRetryInitialMs * 2 ** (task.attempts - 1));
    task.notBeforeMs = this.clock() + delay;
  }

  private taskDone(task: BufferedTask, dropped: 'stale' | 'expired' | 'rerouted' | null): void {
    this.subqueueOf(task).finish(task);
    if (dropped) this.metrics.tasksDropped.inc({ ...this.labels, reason: dropped });
  }

  // ---- bookkeeping

  /** Tasks in memory, and those this owner knows it left in the store; an older backlog counts once read. */
  private backlogCountHint(): number {
    return this.subqueues.reduce((n, sub) => n + sub.backlog, 0);
  }

  private recordPoller(req: PollRequest): void {
    const rate = 'taskQueueMetadata' in req ? req.taskQueueMetadata?.maxTasksPerSecond?.value : undefined;
    this.pollerHistory.set(req.identity ?? '', {
      lastAccessMs: this.clock(),
      ratePerSecond: rate ?? DEFAULT_POLLER_RATE_PER_SECOND,
      deploymentOptions: req.deploymentOptions,
    });
  }

  private prunePollers(): void {
    const since = this.clock() - this.config.pollerHistoryTtlMs;
    for (const [identity, p] of this.pollerHistory) if (p.lastAccessMs < since) this.pollerHistory.delete(identity);
  }

  private emptyPoll(): PollResponse {
    this.metrics.polls.inc({ ...this.labels, result: 'empty' });
    return {};
  }

  private dispatch(p: Promise<void>): void {
    this.track(p).catch((err: unknown) => this.log.error({ err }, 'dispatching to a poller failed'));
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const forget = () => this.inflight.delete(p);
    p.then(forget, forget);
    return p;
  }
}
