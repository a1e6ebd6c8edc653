// Matching's contract: history adds tasks, the frontend polls. Matching asks history (through
// TaskStarter) to record a task as started before it hands the task to a poller, so a poller
// never receives a task history no longer wants.
import type { workflowservice as ws, taskqueuev1, queryv1, commonv1 } from '../common/temporal.js';
import type { TaskPriority } from './priority.js';
import type { DeploymentVersion } from './versioning.js';

export interface TaskQueueRef {
  namespaceId: string;
  name: string;
  /** temporal.api.enums.v1.TaskQueueType: 1 workflow, 2 activity. */
  type: 1 | 2;
  /** temporal.api.enums.v1.TaskQueueKind: 1 normal, 2 sticky. */
  kind: 1 | 2;
}

export interface AddTaskRequest {
  taskQueue: TaskQueueRef;
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  /** 0: no limit. Tasks not started by then are dropped by matching (history has its own timer). */
  scheduleToStartTimeoutMs: number;
  /** The worker deployment version the workflow is pinned to (Worker Versioning). */
  pinnedVersion?: DeploymentVersion;
  /** The run's priority merged with the activity's own; absent: the defaults. */
  priority?: TaskPriority;
}

export interface QueryTaskRequest {
  taskQueue: TaskQueueRef;
  execution: commonv1.IWorkflowExecution;
  query: queryv1.IWorkflowQuery;
  pinnedVersion?: DeploymentVersion;
}

/** Implemented by history. Throws TandemError TASK_NOT_FOUND for a task that is stale: matching drops it. */
export interface TaskStarter {
  recordWorkflowTaskStarted(
    task: AddTaskRequest,
    poll: ws.IPollWorkflowTaskQueueRequest,
  ): Promise<ws.IPollWorkflowTaskQueueResponse>;
  recordActivityTaskStarted(
    task: AddTaskRequest,
    poll: ws.IPollActivityTaskQueueRequest,
  ): Promise<ws.IPollActivityTaskQueueResponse>;
  /** The poll response of a legacy query task: full history, `query` set, a token naming queryId. */
  buildQueryTask(
    queryId: string,
    task: QueryTaskRequest,
    poll: ws.IPollWorkflowTaskQueueRequest,
  ): Promise<ws.IPollWorkflowTaskQueueResponse>;
}

export interface MatchingApi {
  /**
   * Resolves once a waiting poller took the task (history recorded the start through
   * TaskStarter), or it was dropped as stale, or it was queued (persisted for normal queues).
   * It calls back into history: do not hold the workflow's lock while awaiting it (matching
   * stops waiting for the start after a bound, but every such add is slowed by it).
   */
  addWorkflowTask(req: AddTaskRequest): Promise<void>;
  addActivityTask(req: AddTaskRequest): Promise<void>;
  /** Resolves with an all-default response when nothing arrives before `signal` aborts. */
  pollWorkflowTaskQueue(
    namespaceId: string,
    req: ws.IPollWorkflowTaskQueueRequest,
    signal: AbortSignal,
  ): Promise<ws.IPollWorkflowTaskQueueResponse>;
  pollActivityTaskQueue(
    namespaceId: string,
    req: ws.IPollActivityTaskQueueRequest,
    signal: AbortSignal,
  ): Promise<ws.IPollActivityTaskQueueResponse>;
  /** Dispatches a query task and waits for the worker's RespondQueryTaskCompleted. */
  queryWorkflow(req: QueryTaskRequest, signal: AbortSignal): Promise<ws.IRespondQueryTaskCompletedRequest>;
  respondQueryTaskCompleted(namespaceId: string, queryId: string, req: ws.IRespondQueryTaskCompletedRequest): Promise<void>;
  describeTaskQueue(
    namespaceId: string,
    req: ws.IDescribeTaskQueueRequest,
  ): Promise<ws.IDescribeTaskQueueResponse>;
  /** Pollers seen on a queue within the last minute (sticky liveness). */
  hasRecentPoller(taskQueue: TaskQueueRef): boolean;
  /** Cancels the outstanding polls of a worker identity on a sticky queue (ShutdownWorker). */
  shutdownWorker(namespaceId: string, stickyTaskQueue: string): void;
}

export type { taskqueuev1 };
