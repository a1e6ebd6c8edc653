// The shapes of a run's mutable state: the part folded from history events (event-fold.ts) and
// the one part no event records (NonEventState), which replication ships beside the events.
import { enums, historyv1 } from '../common/temporal.js';
import type { ExecutionKey, ExecutionState } from '../persistence/types.js';
import type { TaskPriority } from '../matching/priority.js';
import type { DeploymentVersion } from '../matching/versioning.js';

export type HistoryEvent = historyv1.IHistoryEvent;

/** Worker Versioning (versioning.ts folds these): what a completed workflow task's worker declared. */
export interface RunVersioning {
  /** temporal.api.enums.v1.VersioningBehavior the worker declared. */
  behavior: number;
  version: DeploymentVersion | null;
  /** The WorkflowTaskCompleted event that set these values: the visibility record changes then. */
  sinceEventId: number;
}

/** Pinned to a version, or auto-upgrade whatever the worker declares. */
export type VersioningOverride = { pinned: DeploymentVersion } | { autoUpgrade: true };

export interface RetryPolicyInfo {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** 0: unlimited. */
  maximumAttempts: number;
  nonRetryableErrorTypes: string[];
}

export interface WorkflowTaskInfo {
  scheduledEventId: number;
  /** 0 until a worker picked the task up. */
  startedEventId: number;
  attempt: number;
  scheduledTimeMs: number;
  startedTimeMs: number;
  startToCloseMs: number;
  taskQueue: string;
  /** 1 normal, 2 sticky. */
  kind: 1 | 2;
  requestId: string;
  identity: string;
  /**
   * A retry (attempt > 1) is transient: its scheduled/started events are not written until it
   * completes, so a workflow task that keeps failing does not grow the history.
   */
  transient?: boolean;
  /** A transient task's started event exists only in the poll response: what it tells the worker. */
  startedAs?: StartedEventFacts;
}

/** What a WorkflowTaskStarted event tells the worker about the history it continues. */
export interface StartedEventFacts {
  historySizeBytes: number;
  suggestContinueAsNew: boolean;
}

/** The options an activity runs with: its scheduled event's, unless UpdateActivityOptions set others. */
export interface ActivityOptionsInfo {
  taskQueue: string;
  scheduleToStartMs: number;
  scheduleToCloseMs: number;
  startToCloseMs: number;
  heartbeatTimeoutMs: number;
  retryPolicy: RetryPolicyInfo | null;
}

/**
 * An activity as its events define it (its options as scheduled); what its current attempt is
 * doing, and the options it runs with when an operator changed them, live in `progress`.
 */
export interface ActivityInfo extends ActivityOptionsInfo {
  scheduledEventId: number;
  activityId: string;
  activityType: string;
  scheduledTimeMs: number;
  cancelRequested: boolean;
  /** Id of the ActivityTaskCancelRequested event, 0 when none. */
  cancelRequestedEventId: number;
  /** Its own, as its command set it (unset fields come from the run's); absent when it set none. */
  priority?: TaskPriority;
  /** No event records it (the started event is written with the outcome): see NonEventState. */
  progress: ActivityProgress;
}

/** The current attempt of an activity: part of the non-event state. */
export interface ActivityProgress {
  attempt: number;
  currentAttemptScheduledTimeMs: number;
  started: boolean;
  startedTimeMs: number;
  requestId: string;
  identity: string;
  lastHeartbeatMs: number;
  /** Base64 Payloads of the last heartbeat. */
  heartbeatDetails: string | null;
  /** Base64 Failure of the last failed attempt. */
  lastFailure: string | null;
  lastWorkerIdentity: string;
  /** When the last attempt failed: a retry waits from there (absent in records written before it was kept). */
  lastAttemptCompleteTimeMs?: number;
  /** Set by PauseActivity: the attempt is not dispatched (activity-operator.ts). */
  paused?: { timeMs: number; identity: string; reason: string } | null;
  /**
   * Set by ResetActivity on a running attempt: its worker is told by the heartbeat's answer, and
   * once it ends it counts as attempt 1 (`heartbeat`: the next attempt starts without details).
   */
  reset?: { heartbeat: boolean } | null;
  /** Set by UpdateActivityOptions: what the activity runs with instead of its scheduled event's options. */
  options?: ActivityOptionsInfo | null;
}

export interface TimerInfo {
  timerId: string;
  startedEventId: number;
  expiryTimeMs: number;
}

export interface ChildInfo {
  initiatedEventId: number;
  startedEventId: number;
  namespace: string;
  namespaceId: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  /** temporal.api.enums.v1.ParentClosePolicy */
  parentClosePolicy: number;
  requestId: string;
}

export interface ExternalRequestInfo {
  initiatedEventId: number;
  namespace: string;
  workflowId: string;
  runId: string;
  requestId: string;
}

/** An update the worker accepted: from then on it is history (admitted ones live in UpdateRegistry). */
export interface UpdateInfo {
  updateId: string;
  stage: 'accepted' | 'completed';
  acceptedEventId: number;
  completedEventId: number;
}

export interface ParentInfo {
  namespaceId: string;
  namespace: string;
  workflowId: string;
  runId: string;
  initiatedEventId: number;
  /** The run at the top of the parent chain (the started event's root); absent in older records. */
  root?: { workflowId: string; runId: string };
}

/** A point a run can be reset to: the first workflow task a build (or binary checksum) completed. */
export interface ResetPoint {
  buildId: string;
  binaryChecksum: string;
  firstWorkflowTaskCompletedId: number;
  createTimeMs: number;
  /** False when child workflows were pending then: a reset there would orphan them. */
  resettable: boolean;
}

/** The last event id a branch wrote at a failover version (DESIGN invariant 5). */
export interface VersionHistoryItem {
  eventId: number;
  /** Decimal: 64-bit. */
  version: string;
}

/** One branch of a run: where its events are stored and its version history. */
export interface BranchVersionHistory {
  branchId: string;
  /** As HistoryBranch.ancestors: the ranges it shares with the branches it forked from. */
  ancestors: { branchId: string; endEventId: number }[];
  items: VersionHistoryItem[];
}

export interface ExecutionInfo {
  namespaceId: string;
  workflowId: string;
  runId: string;
  firstRunId: string;
  workflowType: string;
  taskQueue: string;
  workflowTaskTimeoutMs: number;
  runTimeoutMs: number;
  executionTimeoutMs: number;
  startTimeMs: number;
  /** When the first workflow task is due (start delay, cron or retry backoff). */
  executionTimeMs: number;
  closeTimeMs: number;
  /** Absolute deadlines, 0 for none. */
  runExpirationTimeMs: number;
  executionExpirationTimeMs: number;
  status: number;
  state: ExecutionState;
  nextEventId: number;
  lastCompletedWorkflowTaskStartedEventId: number;
  startVersion: string;
  lastWriteVersion: string;
  branchId: string;
  /** Ranges the branch shares with the branches it forked from (see HistoryBranch). */
  branchAncestors: { branchId: string; endEventId: number }[];
  /** Version history of the current branch: the last event id written at each version. */
  versionHistory: VersionHistoryItem[];
  /**
   * The run's other branches (version-history.ts): forks that lost to the current one, kept
   * readable and so that events already seen on them are known. Absent in older records.
   */
  nonCurrentBranches?: BranchVersionHistory[];
  /** The workflow task whose scheduled event is written (a transient retry is in NonEventState). */
  workflowTask: WorkflowTaskInfo | null;
  cancelRequested: boolean;
  attempt: number;
  cronSchedule: string;
  retryPolicy: RetryPolicyInfo | null;
  parent: ParentInfo | null;
  completionEventId: number;
  /** Run id of the run this one continued as (continue-as-new, retry, cron). */
  newExecutionRunId: string;
  /** Base64 Memo / SearchAttributes. */
  memo: string | null;
  searchAttributes: string | null;
  signalRequestIds: string[];
  historySizeBytes: number;
  /** From the WorkflowTaskCompleted events; absent in records written before they were kept. */
  resetPoints?: ResetPoint[];
  /** The BuildIds search attribute: `unversioned:<id>` / `versioned:<id>` of every build that completed a task. */
  buildIds?: string[];
  /** Worker Versioning (versioning.ts): what the last completed workflow task's worker declared. */
  versioning?: RunVersioning;
  versioningOverride?: VersioningOverride;
  /** Base64 UserMetadata of the started event (static summary and details), absent when it had none. */
  userMetadata?: string;
  /** From the started event, then UpdateWorkflowExecutionOptions; absent when the run has none. */
  priority?: TaskPriority;
}

/**
 * What no history event records (DESIGN invariant 4a): replication ships it beside the events,
 * as Temporal ships "sync activity" records. Activity progress is kept with each activity
 * (`ActivityInfo.progress`) and belongs here too.
 */
export interface NonEventState {
  /** Request id that created the run (start dedup): the started event has no field for it. */
  createRequestId: string;
  stickyTaskQueue: string;
  stickyScheduleToStartMs: number;
  /** A retried workflow task (attempt > 1) before its events are written. */
  transientWorkflowTask: WorkflowTaskInfo | null;
  /**
   * Scheduled event id of a sticky workflow task sent to the normal queue because its sticky
   * worker is gone (0: none); its scheduled event still names the sticky queue.
   */
  stickyFallbackScheduledEventId: number;
  /** Base64 HistoryEvents without ids, waiting for the running workflow task to finish. */
  buffered: string[];
}

export interface MutableStateData {
  /** Everything here but `progress` (and each activity's `progress`) is the fold of the events. */
  info: ExecutionInfo;
  activities: ActivityInfo[];
  timers: TimerInfo[];
  children: ChildInfo[];
  signalsOut: ExternalRequestInfo[];
  cancelsOut: ExternalRequestInfo[];
  updates: UpdateInfo[];
  progress: NonEventState;
}

export function newActivityProgress(scheduledTimeMs: number): ActivityProgress {
  return {
    attempt: 1,
    currentAttemptScheduledTimeMs: scheduledTimeMs,
    started: false,
    startedTimeMs: 0,
    requestId: '',
    identity: '',
    lastHeartbeatMs: 0,
    heartbeatDetails: null,
    lastFailure: null,
    lastWorkerIdentity: '',
  };
}

/** The state of a run before its first event. */
export function emptyState(key: ExecutionKey, version: bigint, branchId: string): MutableStateData {
  const info: ExecutionInfo = {
    namespaceId: key.namespaceId,
    workflowId: key.workflowId,
    runId: key.runId,
    firstRunId: key.runId,
    workflowType: '',
    taskQueue: '',
    workflowTaskTimeoutMs: 10_000,
    runTimeoutMs: 0,
    executionTimeoutMs: 0,
    startTimeMs: 0,
    executionTimeMs: 0,
    closeTimeMs: 0,
    runExpirationTimeMs: 0,
    executionExpirationTimeMs: 0,
    status: enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
    state: 'created',
    nextEventId: 1,
    lastCompletedWorkflowTaskStartedEventId: 0,
    startVersion: version.toString(),
    lastWriteVersion: version.toString(),
    branchId,
    branchAncestors: [],
    versionHistory: [],
    workflowTask: null,
    cancelRequested: false,
    attempt: 1,
    cronSchedule: '',
    retryPolicy: null,
    parent: null,
    completionEventId: 0,
    newExecutionRunId: '',
    memo: null,
    searchAttributes: null,
    signalRequestIds: [],
    historySizeBytes: 0,
  };
  return {
    info,
    activities: [],
    timers: [],
    children: [],
    signalsOut: [],
    cancelsOut: [],
    updates: [],
    progress: {
      createRequestId: '',
      stickyTaskQueue: '',
      stickyScheduleToStartMs: 0,
      transientWorkflowTask: null,
      stickyFallbackScheduledEventId: 0,
      buffered: [],
    },
  };
}

