// Records the persistence layer stores. The store treats mutable state and events as opaque
// bytes: only what a condition, a key or a listing needs is a column of its own.

import type { TypedValue, VisibilityQuery } from './visibility-query.js';

/** 64-bit ids (range ids, task ids, failover versions) are bigint everywhere above the driver. */
export type Int64 = bigint;

export interface ShardInfo {
  shardId: number;
  /** Bumped by every new owner; every write of the shard is conditional on it (fencing). */
  rangeId: Int64;
  owner: string;
  /** Queue progress per category and per replication peer, owned by history; opaque here. */
  ackLevels: Record<string, string>;
  updatedAtMs: number;
}

export interface ExecutionKey {
  namespaceId: string;
  workflowId: string;
  runId: string;
}

/** CREATED: started but no task yet; RUNNING; COMPLETED: closed; ZOMBIE: a passive run that lost. */
export type ExecutionState = 'created' | 'running' | 'completed' | 'zombie';

export interface ExecutionRecord {
  key: ExecutionKey;
  /** The branch the run's state was folded from; appends to it start at nextEventId. */
  branchId: string;
  /** Incremented by every write; every update is conditional on the previous value. */
  dbRecordVersion: number;
  state: ExecutionState;
  /** temporal.api.enums.v1.WorkflowExecutionStatus */
  status: number;
  /** The next event id of branchId: readers of that branch stop before it. */
  nextEventId: number;
  /** Failover version of the run's first event and of its last write. */
  startVersion: Int64;
  lastWriteVersion: Int64;
  /** Request id that created the run (start dedup). */
  createRequestId: string;
  /** Encoded mutable state, owned by history. */
  data: Uint8Array;
}

/** The pointer from (namespace, workflow id) to the run that holds the id now. */
export interface CurrentExecution {
  namespaceId: string;
  workflowId: string;
  runId: string;
  createRequestId: string;
  state: ExecutionState;
  status: number;
  startVersion: Int64;
  lastWriteVersion: Int64;
}

/**
 * One branch of a run's history tree (DESIGN invariant 5). A branch owns the events after its
 * fork point and shares the ones before it with its ancestors; a read follows them. Every branch
 * of a run lives in the tree named by the run id, so deleting the run deletes them all.
 */
export interface HistoryBranch {
  /** The run id of the run whose history this is. */
  treeId: string;
  branchId: string;
  /** Ranges read from ancestors, oldest first: events [previous end, endEventId) of each. */
  ancestors: { branchId: string; endEventId: number }[];
}

export interface HistoryEventRow {
  eventId: number;
  version: Int64;
  /**
   * Task id of the write that appended the event (unique per shard write, growing across owners):
   * a later committed write at the same event id shadows an orphan of a failed one.
   */
  taskId: Int64;
  /** Encoded temporal.api.history.v1.HistoryEvent */
  data: Uint8Array;
}

/** Contiguous events appended to one branch by one write. */
export interface HistoryAppend {
  branch: HistoryBranch;
  events: HistoryEventRow[];
}

/**
 * 'replicationDlq': replication tasks from another region that the receiver gave up on (DESIGN
 * invariant 6), kept in the receiving shard for an operator to list, retry or purge.
 */
export type TaskCategory = 'transfer' | 'timer' | 'replication' | 'visibility' | 'replicationDlq';

export interface HistoryTask {
  category: TaskCategory;
  taskId: Int64;
  /** Fire time for timers; creation time for the other categories. */
  visibilityTimeMs: number;
  namespaceId: string;
  workflowId: string;
  runId: string;
  /** Task kind inside its category, e.g. 'workflowTask', 'userTimer'; owned by history. */
  type: string;
  /** Task attributes, JSON-encoded by history; opaque here. */
  data: string;
}

/** Workflow-id handling when a run is created. */
export type CreateMode =
  /** No current run may exist for the workflow id. */
  | { kind: 'brandNew' }
  /** A current run exists and is closed; it is replaced if it still is the given run. */
  | { kind: 'replaceCurrent'; previousRunId: string; previousLastWriteVersion: Int64 }
  /** Write the run without touching the current pointer (a passive run that lost). */
  | { kind: 'zombie' };

export interface CreateExecutionRequest {
  shardId: number;
  rangeId: Int64;
  mode: CreateMode;
  /** dbRecordVersion must be 1. */
  execution: ExecutionRecord;
  /** The run's first events (on execution.branchId), written before the fenced batch. */
  history: HistoryAppend;
  tasks: HistoryTask[];
}

export interface UpdateExecutionRequest {
  shardId: number;
  rangeId: Int64;
  /** 'updateCurrent': the current pointer must name this run and is refreshed (state, status, versions). */
  mode: 'updateCurrent' | 'bypassCurrent';
  /** The new record; its dbRecordVersion must be expectedDbRecordVersion + 1. */
  execution: ExecutionRecord;
  expectedDbRecordVersion: number;
  /**
   * The stored record's nextEventId the writer loaded. The batch is conditional on it, and events
   * appended to the stored record's branch must start there: writing at an existing event id of
   * that branch is a HistoryConflictError, never an overwrite.
   */
  expectedNextEventId: number;
  /**
   * A run created in the same batch (continue-as-new, retry, cron); it must not exist yet. With
   * updateCurrent it becomes current; with bypassCurrent the pointer is left alone.
   */
  newRun?: ExecutionRecord;
  /**
   * Events appended to one branch of the run's tree, written before the batch: the stored branch
   * (continued at expectedNextEventId), or another one, e.g. a fork, which execution.branchId
   * names if the run's state moves to it.
   */
  history?: HistoryAppend;
  /** First events of newRun, in its own tree. */
  newRunHistory?: HistoryAppend;
  tasks: HistoryTask[];
}

export interface ReadHistoryRequest {
  shardId: number;
  branch: HistoryBranch;
  /** Inclusive. */
  minEventId: number;
  /**
   * Exclusive; at most the committed nextEventId the caller read from the execution: events past
   * it may be orphans of a failed write and are never returned as history.
   */
  maxEventId: number;
  limit: number;
}

export interface TaskRangeRequest {
  shardId: number;
  category: Exclude<TaskCategory, 'timer'>;
  /** Exclusive lower bound. */
  afterTaskId: Int64;
  /** Inclusive upper bound. */
  maxTaskId: Int64;
  limit: number;
}

export interface TimerRangeRequest {
  shardId: number;
  /** Timers after this (time, taskId) key, exclusive. */
  after: { visibilityTimeMs: number; taskId: Int64 };
  /** Inclusive upper bound on fire time. */
  maxVisibilityTimeMs: number;
  limit: number;
}

export type NamespaceState = 'registered' | 'deprecated' | 'deleted';

/**
 * How a global namespace's writes are answered: 'async' once committed in the active region,
 * 'sync' once every standby region also applied them (a forced failover then loses nothing).
 */
export type ReplicationMode = 'async' | 'sync';

export interface NamespaceRecord {
  id: string;
  name: string;
  state: NamespaceState;
  description: string;
  ownerEmail: string;
  /**
   * Temporal's namespace data map, stored and replicated as a whole. Tandem reads one key of it:
   * `tandem.replication` = `async` (default) | `sync` (services/namespaces/convert.ts replicationModeOf).
   */
  data: Record<string, string>;
  retentionMs: number;
  isGlobal: boolean;
  activeRegion: string;
  regions: string[];
  failoverVersion: Int64;
  /** NORMAL, or HANDOVER while a graceful failover drains. */
  failoverState: 'normal' | 'handover';
  /** Incremented by every write; updates are conditional on it. */
  notificationVersion: Int64;
  /** Everything else a namespace carries (archival, custom search attributes...), JSON; opaque here. */
  config: string;
}

export interface VisibilityRecord {
  namespaceId: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  /** temporal.api.enums.v1.WorkflowExecutionStatus */
  status: number;
  startTimeMs: number;
  executionTimeMs: number;
  closeTimeMs: number | null;
  /** closeTime - executionTime once closed, else null (ExecutionDuration). */
  executionDurationMs: number | null;
  historyLength: number;
  historySizeBytes: number;
  stateTransitionCount: number;
  parentWorkflowId: string | null;
  parentRunId: string | null;
  /** The run itself when it has no parent. */
  rootWorkflowId: string;
  rootRunId: string;
  /** Typed values of the run's search attributes, custom and predefined (BuildIds, TemporalChangeVersion, ...), by name. */
  searchAttributes: Record<string, TypedValue>;
  /** JSON of memo and search attributes as payloads, owned by history, returned as is; opaque here. */
  data: string;
}

export interface ListVisibilityRequest {
  namespaceId: string;
  query: VisibilityQuery;
  pageSize: number;
  /** Opaque token from the previous page, or undefined for the first. */
  nextPageToken?: string;
}

export interface TaskQueueKey {
  namespaceId: string;
  name: string;
  /** temporal.api.enums.v1.TaskQueueType: 1 workflow, 2 activity. */
  type: number;
}

/**
 * A task's place in its subqueue: tasks are read in (pass, taskId) order. Matching gives the
 * tasks of a busy fairness key growing passes, so the stored order is already the fair one.
 */
export interface TaskLevel {
  pass: Int64;
  taskId: Int64;
}

export interface TaskQueueInfo {
  key: TaskQueueKey;
  /** Bumped by every matching owner that loads the queue; task writes are conditional on it. */
  rangeId: Int64;
  /** Per subqueue, every task at or below the level is done; a subqueue not listed has none done. */
  ackLevels: Record<number, TaskLevel>;
  updatedAtMs: number;
}

export interface QueuedTask {
  /** Read and acked on its own (matching: one per priority level); a non-negative integer. */
  subqueue: number;
  pass: Int64;
  taskId: Int64;
  /** Tasks past this time are dropped by the reader; 0 never expires. */
  expiryTimeMs: number;
  /** JSON task attributes owned by matching. */
  data: string;
}
