// The persistence seam: two real implementations (sqlite/ for the embedded default, cassandra/
// for regions) that pass the one suite in conformance/.
import type {
  CreateExecutionRequest,
  CurrentExecution,
  ExecutionKey,
  ExecutionRecord,
  HistoryEventRow,
  HistoryTask,
  Int64,
  ListVisibilityRequest,
  NamespaceRecord,
  QueuedTask,
  ReadHistoryRequest,
  ShardInfo,
  TaskCategory,
  TaskLevel,
  TaskQueueInfo,
  TaskQueueKey,
  TaskRangeRequest,
  TimerRangeRequest,
  UpdateExecutionRequest,
  VisibilityRecord,
} from './types.js';
import type { ClusterMetadataStore } from './cluster-store.js';
import type { IdentityStore } from './identity-store.js';
import type { CountResult, FieldRef, VisibilityQuery } from './visibility-query.js';

export interface ShardStore {
  getShard(shardId: number): Promise<ShardInfo | null>;
  /** Creates the shard row; ConditionFailedError when it exists already. */
  createShard(info: ShardInfo): Promise<void>;
  /** Writes the row if its range_id still is expectedRangeId, else ShardOwnershipLostError. */
  updateShard(info: ShardInfo, expectedRangeId: Int64): Promise<void>;
}

export interface ExecutionStore {
  /**
   * Writes the run's first events to its history tree, then one conditional batch in the shard's
   * partition: shard range_id, current pointer (per mode), the new execution row (must not exist)
   * and its tasks. Throws ShardOwnershipLostError, CurrentWorkflowConditionFailedError, or
   * ConditionFailedError when the run id exists already. Events of a failed call stay invisible.
   */
  createWorkflowExecution(req: CreateExecutionRequest): Promise<void>;
  /**
   * Appends the events (and the new run's), then one conditional batch: shard range_id, the
   * execution's dbRecordVersion and nextEventId, the current pointer (mode updateCurrent), the new
   * run if any, and tasks. Throws ShardOwnershipLostError, ConditionFailedError, or
   * HistoryConflictError (an append to the stored branch that does not start at
   * expectedNextEventId), checked before anything is written; nothing of a failed call is visible.
   * An append that starts at expectedNextEventId costs no read; one that does not (a fork) costs
   * Cassandra one read of the record first.
   * The writer must never append from a stale expectedNextEventId: after a StoreUnavailableError
   * (outcome unknown) it renews the shard's range_id before the shard's next write, which settles
   * the pending batch, and reloads the run (DESIGN invariant 2).
   */
  updateWorkflowExecution(req: UpdateExecutionRequest): Promise<void>;
  getWorkflowExecution(shardId: number, key: ExecutionKey): Promise<ExecutionRecord | null>;
  getCurrentExecution(shardId: number, namespaceId: string, workflowId: string): Promise<CurrentExecution | null>;
  /** Executions of a shard in key order, after `after` (exclusive). */
  listExecutions(shardId: number, after: ExecutionKey | null, limit: number): Promise<ExecutionRecord[]>;
  /** Removes the run, every branch of its history tree and, when it points at the run, the current pointer. Not fenced. */
  deleteWorkflowExecution(shardId: number, key: ExecutionKey): Promise<void>;
  /**
   * Committed events of a branch in event-id order within [minEventId, maxEventId), at most limit:
   * each ancestor's range first, then the branch's own events. maxEventId must not pass the
   * nextEventId of a record read before (for the record's branch): rows past it may be orphans.
   */
  readHistory(req: ReadHistoryRequest): Promise<HistoryEventRow[]>;
  /**
   * Writes tasks that belong to no execution write (e.g. a replication DLQ entry) as one batch
   * conditional on the shard's range_id; ShardOwnershipLostError when it moved on.
   */
  createHistoryTasks(shardId: number, rangeId: Int64, tasks: HistoryTask[]): Promise<void>;
  /** Tasks of a non-timer category in task-id order within (afterTaskId, maxTaskId]. */
  getHistoryTasks(req: TaskRangeRequest): Promise<HistoryTask[]>;
  /** Timer tasks in (visibilityTime, taskId) order after `after`, firing at or before the bound. */
  getTimerTasks(req: TimerRangeRequest): Promise<HistoryTask[]>;
  /** Deletes tasks of a non-timer category with taskId < beforeTaskId, as one range (one tombstone). */
  rangeDeleteHistoryTasks(shardId: number, category: Exclude<TaskCategory, 'timer'>, beforeTaskId: Int64): Promise<void>;
  /** Deletes timer tasks ordered before (visibilityTimeMs, taskId), exclusive, as one range. */
  rangeDeleteTimerTasks(shardId: number, before: { visibilityTimeMs: number; taskId: Int64 }): Promise<void>;
  /** Deletes one task (timers by (visibilityTimeMs, taskId), others by taskId). */
  deleteHistoryTask(shardId: number, task: Pick<HistoryTask, 'category' | 'taskId' | 'visibilityTimeMs'>): Promise<void>;
}

export interface NamespaceStore {
  /** NamespaceAlreadyExistsError when the name or the id is taken. */
  createNamespace(ns: NamespaceRecord): Promise<void>;
  getNamespaceByName(name: string): Promise<NamespaceRecord | null>;
  getNamespaceById(id: string): Promise<NamespaceRecord | null>;
  listNamespaces(): Promise<NamespaceRecord[]>;
  /** Writes ns if the stored notificationVersion is expectedNotificationVersion, else ConditionFailedError. */
  updateNamespace(ns: NamespaceRecord, expectedNotificationVersion: Int64): Promise<void>;
}

export interface VisibilityStore {
  /** Insert or replace the record of (namespaceId, runId); idempotent. */
  upsertVisibility(rec: VisibilityRecord): Promise<void>;
  deleteVisibility(namespaceId: string, runId: string): Promise<void>;
  /** Records matching req.query, in its order (see VisibilityQuery.orderBy for the default). */
  listVisibility(req: ListVisibilityRequest): Promise<{ records: VisibilityRecord[]; nextPageToken?: string }>;
  /** How many records match; with groupBy, also per distinct value of those fields. */
  countVisibility(namespaceId: string, query: VisibilityQuery, groupBy?: FieldRef[]): Promise<CountResult>;
}

export interface TaskQueueStore {
  /** Creates the queue (rangeId 1) or bumps its rangeId by one; the caller owns the queue from then. */
  leaseTaskQueue(key: TaskQueueKey): Promise<TaskQueueInfo>;
  /** Writes the ack levels (all of them) if rangeId still matches, else ConditionFailedError. */
  updateTaskQueue(info: TaskQueueInfo): Promise<void>;
  /** Inserts tasks if the queue's rangeId still is rangeId, else ConditionFailedError. */
  createTasks(key: TaskQueueKey, rangeId: Int64, tasks: QueuedTask[]): Promise<void>;
  /** The subqueue's tasks above `after` in (pass, taskId) order, at most limit. */
  getTasks(key: TaskQueueKey, subqueue: number, after: TaskLevel, limit: number): Promise<QueuedTask[]>;
  /** Deletes the subqueue's tasks at or below `upTo`. */
  deleteTasks(key: TaskQueueKey, subqueue: number, upTo: TaskLevel): Promise<void>;
}

export interface Persistence {
  readonly kind: 'sqlite' | 'cassandra';
  readonly shards: ShardStore;
  readonly executions: ExecutionStore;
  readonly namespaces: NamespaceStore;
  readonly visibility: VisibilityStore;
  readonly taskQueues: TaskQueueStore;
  /** Remote clusters, the namespace replication queue and positions, the failover audit log. */
  readonly clusterMetadata: ClusterMetadataStore;
  /** Users, API keys and permissions (replicated by version), and the auth audit log. */
  readonly identity: IdentityStore;
  close(): Promise<void>;
}
