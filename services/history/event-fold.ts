// The fold: a run's mutable state is its history events applied in order (DESIGN invariant 4a).
// New events and replicated ones go through the same function, so the standby region holds the
// state the active one has; it must depend only on the event and the state before it.
import { enums, historyv1, commonv1, sdkv1 } from '../common/temporal.js';
import { msFromDuration, msFromTimestamp, optionalDurationMs, toBigInt, toNumber } from '../common/proto-time.js';
import type { ExecutionKey } from '../persistence/types.js';
import { taskPriority } from '../matching/priority.js';
import { mergeSearchAttributes } from '../namespaces/search-attributes.js';
import { decodeB64, encodeB64 } from './payload-codec.js';
import { retryPolicyFromProto } from './retry-policy.js';
import { addItem } from './version-history.js';
import {
  emptyState,
  newActivityProgress,
  type ActivityInfo,
  type ChildInfo,
  type ExternalRequestInfo,
  type HistoryEvent,
  type MutableStateData,
  type UpdateInfo,
} from './state.js';
import { foldCompleted, overrideFromProto } from './versioning.js';

const ET = enums.EventType;
const Status = enums.WorkflowExecutionStatus;
/** Signal request ids kept for dedup: enough for any client's retries of one signal. */
const MAX_SIGNAL_REQUEST_IDS = 1000;

/** An event's size as stored, whichever write gave it its task id. */
function storedSize(e: HistoryEvent): number {
  if (!e.taskId) return historyv1.HistoryEvent.encode(e).len;
  return historyv1.HistoryEvent.encode({ ...e, taskId: null }).len;
}

/** Rebuilds a run's state from its whole history (replication, and the replay check). */
export function foldHistory(key: ExecutionKey, branchId: string, events: HistoryEvent[]): MutableStateData {
  const first = events[0];
  const data = emptyState(key, first ? toBigInt(first.version) : 0n, branchId);
  for (const e of events) applyEvent(data, e);
  return data;
}

export function applyEvent(data: MutableStateData, e: HistoryEvent): void {
  const info = data.info;
  const id = toNumber(e.eventId);
  const version = toBigInt(e.version);
  const at = msFromTimestamp(e.eventTime);
  info.nextEventId = id + 1;
  info.lastWriteVersion = version.toString();
  addItem(info.versionHistory, id, version.toString());
  info.historySizeBytes += storedSize(e);

  switch (e.eventType) {
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
      const a = e.workflowExecutionStartedEventAttributes!;
      info.workflowType = a.workflowType?.name ?? '';
      info.taskQueue = a.taskQueue?.name ?? '';
      info.workflowTaskTimeoutMs = optionalDurationMs(a.workflowTaskTimeout) || 10_000;
      info.runTimeoutMs = optionalDurationMs(a.workflowRunTimeout);
      info.executionTimeoutMs = optionalDurationMs(a.workflowExecutionTimeout);
      info.startTimeMs = at;
      info.executionTimeMs = at + optionalDurationMs(a.firstWorkflowTaskBackoff);
      info.runExpirationTimeMs = info.runTimeoutMs ? info.executionTimeMs + info.runTimeoutMs : 0;
      info.executionExpirationTimeMs = msFromTimestamp(a.workflowExecutionExpirationTime);
      info.firstRunId = a.firstExecutionRunId || info.runId;
      info.attempt = a.attempt || 1;
      info.cronSchedule = a.cronSchedule ?? '';
      info.retryPolicy = retryPolicyFromProto(a.retryPolicy);
      info.startVersion = version.toString();
      info.state = 'created';
      info.status = Status.WORKFLOW_EXECUTION_STATUS_RUNNING;
      info.memo = a.memo ? encodeB64(commonv1.Memo, a.memo) : null;
      info.searchAttributes = a.searchAttributes ? encodeB64(commonv1.SearchAttributes, a.searchAttributes) : null;
      setOptional(info, 'versioningOverride', overrideFromProto(a.versioningOverride));
      setOptional(info, 'userMetadata', e.userMetadata ? encodeB64(sdkv1.UserMetadata, e.userMetadata) : undefined);
      setOptional(info, 'priority', taskPriority(a.priority));
      if (a.parentWorkflowExecution?.workflowId) {
        info.parent = {
          namespaceId: a.parentWorkflowNamespaceId ?? '',
          namespace: a.parentWorkflowNamespace ?? '',
          workflowId: a.parentWorkflowExecution.workflowId,
          runId: a.parentWorkflowExecution.runId ?? '',
          initiatedEventId: toNumber(a.parentInitiatedEventId),
          root: a.rootWorkflowExecution?.workflowId ? { workflowId: a.rootWorkflowExecution.workflowId, runId: a.rootWorkflowExecution.runId ?? '' } : undefined,
        };
      }
      break;
    }
    case ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED: {
      const a = e.workflowTaskScheduledEventAttributes!;
      const sticky = a.taskQueue?.kind === enums.TaskQueueKind.TASK_QUEUE_KIND_STICKY;
      info.workflowTask = {
        scheduledEventId: id,
        startedEventId: 0,
        attempt: a.attempt || 1,
        scheduledTimeMs: at,
        startedTimeMs: 0,
        startToCloseMs: optionalDurationMs(a.startToCloseTimeout) || info.workflowTaskTimeoutMs,
        taskQueue: a.taskQueue?.name ?? info.taskQueue,
        kind: sticky ? 2 : 1,
        requestId: '',
        identity: '',
      };
      break;
    }
    case ET.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
      const a = e.workflowTaskStartedEventAttributes!;
      const wt = info.workflowTask;
      if (wt) {
        wt.startedEventId = id;
        wt.startedTimeMs = at;
        wt.requestId = a.requestId ?? '';
        wt.identity = a.identity ?? '';
      }
      info.state = 'running';
      break;
    }
    case ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
      const wt = info.workflowTask;
      if (wt) info.lastCompletedWorkflowTaskStartedEventId = wt.startedEventId;
      info.workflowTask = null;
      noteBuild(data, e.workflowTaskCompletedEventAttributes!, id, at);
      setOptional(info, 'versioning', foldCompleted(info.versioning, e.workflowTaskCompletedEventAttributes!, id));
      break;
    }
    case ET.EVENT_TYPE_WORKFLOW_TASK_FAILED:
    case ET.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
      info.workflowTask = null;
      break;
    case ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
      const a = e.activityTaskScheduledEventAttributes!;
      const priority = taskPriority(a.priority);
      data.activities.push({
        scheduledEventId: id,
        activityId: a.activityId ?? '',
        activityType: a.activityType?.name ?? '',
        taskQueue: a.taskQueue?.name ?? info.taskQueue,
        scheduledTimeMs: at,
        scheduleToStartMs: optionalDurationMs(a.scheduleToStartTimeout),
        scheduleToCloseMs: optionalDurationMs(a.scheduleToCloseTimeout),
        startToCloseMs: optionalDurationMs(a.startToCloseTimeout),
        heartbeatTimeoutMs: optionalDurationMs(a.heartbeatTimeout),
        cancelRequested: false,
        cancelRequestedEventId: 0,
        retryPolicy: retryPolicyFromProto(a.retryPolicy),
        ...(priority ? { priority } : {}),
        progress: newActivityProgress(at),
      });
      break;
    }
    case ET.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
      const a = e.activityTaskStartedEventAttributes!;
      const act = findActivity(data, toNumber(a.scheduledEventId));
      if (act) {
        act.progress.started = true;
        act.progress.startedTimeMs = at;
        act.progress.attempt = a.attempt || act.progress.attempt;
        act.progress.identity = a.identity ?? '';
      }
      break;
    }
    case ET.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      removeActivity(data, toNumber(e.activityTaskCompletedEventAttributes!.scheduledEventId));
      break;
    case ET.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      removeActivity(data, toNumber(e.activityTaskFailedEventAttributes!.scheduledEventId));
      break;
    case ET.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      removeActivity(data, toNumber(e.activityTaskTimedOutEventAttributes!.scheduledEventId));
      break;
    case ET.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
      removeActivity(data, toNumber(e.activityTaskCanceledEventAttributes!.scheduledEventId));
      break;
    case ET.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED: {
      const act = findActivity(data, toNumber(e.activityTaskCancelRequestedEventAttributes!.scheduledEventId));
      if (act) {
        act.cancelRequested = true;
        act.cancelRequestedEventId = id;
      }
      break;
    }
    case ET.EVENT_TYPE_TIMER_STARTED: {
      const a = e.timerStartedEventAttributes!;
      data.timers.push({
        timerId: a.timerId ?? '',
        startedEventId: id,
        expiryTimeMs: at + msFromDuration(a.startToFireTimeout),
      });
      break;
    }
    case ET.EVENT_TYPE_TIMER_FIRED:
      removeTimer(data, e.timerFiredEventAttributes!.timerId ?? '');
      break;
    case ET.EVENT_TYPE_TIMER_CANCELED:
      removeTimer(data, e.timerCanceledEventAttributes!.timerId ?? '');
      break;
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
      const requestId = e.workflowExecutionSignaledEventAttributes?.requestId;
      if (requestId) {
        info.signalRequestIds.push(requestId);
        if (info.signalRequestIds.length > MAX_SIGNAL_REQUEST_IDS) info.signalRequestIds.shift();
      }
      break;
    }
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
      info.cancelRequested = true;
      break;
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      close(data, Status.WORKFLOW_EXECUTION_STATUS_COMPLETED, id, at);
      info.newExecutionRunId = e.workflowExecutionCompletedEventAttributes?.newExecutionRunId ?? '';
      break;
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      close(data, Status.WORKFLOW_EXECUTION_STATUS_FAILED, id, at);
      info.newExecutionRunId = e.workflowExecutionFailedEventAttributes?.newExecutionRunId ?? '';
      break;
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
      close(data, Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, id, at);
      info.newExecutionRunId = e.workflowExecutionTimedOutEventAttributes?.newExecutionRunId ?? '';
      break;
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
      close(data, Status.WORKFLOW_EXECUTION_STATUS_CANCELED, id, at);
      break;
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
      close(data, Status.WORKFLOW_EXECUTION_STATUS_TERMINATED, id, at);
      break;
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      close(data, Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, id, at);
      info.newExecutionRunId = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? '';
      break;
    case ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: {
      const a = e.startChildWorkflowExecutionInitiatedEventAttributes!;
      data.children.push({
        initiatedEventId: id,
        startedEventId: 0,
        namespace: a.namespace ?? '',
        namespaceId: a.namespaceId ?? '',
        workflowId: a.workflowId ?? '',
        runId: '',
        workflowType: a.workflowType?.name ?? '',
        parentClosePolicy: a.parentClosePolicy ?? 0,
        requestId: '',
      });
      break;
    }
    case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: {
      const a = e.childWorkflowExecutionStartedEventAttributes!;
      const c = findChild(data, toNumber(a.initiatedEventId));
      if (c) {
        c.startedEventId = id;
        c.runId = a.workflowExecution?.runId ?? '';
      }
      break;
    }
    case ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
      removeChild(data, toNumber(e.startChildWorkflowExecutionFailedEventAttributes!.initiatedEventId));
      break;
    case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
      removeChild(data, toNumber(e.childWorkflowExecutionCompletedEventAttributes!.initiatedEventId));
      break;
    case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
      removeChild(data, toNumber(e.childWorkflowExecutionFailedEventAttributes!.initiatedEventId));
      break;
    case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
      removeChild(data, toNumber(e.childWorkflowExecutionCanceledEventAttributes!.initiatedEventId));
      break;
    case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
      removeChild(data, toNumber(e.childWorkflowExecutionTimedOutEventAttributes!.initiatedEventId));
      break;
    case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
      removeChild(data, toNumber(e.childWorkflowExecutionTerminatedEventAttributes!.initiatedEventId));
      break;
    case ET.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: {
      const a = e.signalExternalWorkflowExecutionInitiatedEventAttributes!;
      data.signalsOut.push({
        initiatedEventId: id,
        namespace: a.namespace ?? '',
        workflowId: a.workflowExecution?.workflowId ?? '',
        runId: a.workflowExecution?.runId ?? '',
        requestId: `${info.runId}-signal-${id}`,
      });
      break;
    }
    case ET.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED:
      removeExternal(data.signalsOut, toNumber(e.externalWorkflowExecutionSignaledEventAttributes!.initiatedEventId));
      break;
    case ET.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
      removeExternal(data.signalsOut, toNumber(e.signalExternalWorkflowExecutionFailedEventAttributes!.initiatedEventId));
      break;
    case ET.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: {
      const a = e.requestCancelExternalWorkflowExecutionInitiatedEventAttributes!;
      data.cancelsOut.push({
        initiatedEventId: id,
        namespace: a.namespace ?? '',
        workflowId: a.workflowExecution?.workflowId ?? '',
        runId: a.workflowExecution?.runId ?? '',
        requestId: `${info.runId}-cancel-${id}`,
      });
      break;
    }
    case ET.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
      removeExternal(
        data.cancelsOut,
        toNumber(e.externalWorkflowExecutionCancelRequestedEventAttributes!.initiatedEventId),
      );
      break;
    case ET.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
      removeExternal(
        data.cancelsOut,
        toNumber(e.requestCancelExternalWorkflowExecutionFailedEventAttributes!.initiatedEventId),
      );
      break;
    case ET.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
      const current = info.searchAttributes ? decodeB64(commonv1.SearchAttributes, info.searchAttributes) : null;
      const merged = mergeSearchAttributes(current, e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes);
      info.searchAttributes = encodeB64(commonv1.SearchAttributes, merged);
      break;
    }
    case ET.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: {
      const fields = e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields ?? {};
      const current = info.memo ? decodeB64(commonv1.Memo, info.memo) : { fields: {} };
      info.memo = encodeB64(commonv1.Memo, { fields: { ...(current.fields ?? {}), ...fields } });
      break;
    }
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
      const a = e.workflowExecutionUpdateAcceptedEventAttributes!;
      const updateId = a.acceptedRequest?.meta?.updateId ?? a.protocolInstanceId ?? '';
      data.updates.push({ updateId, stage: 'accepted', acceptedEventId: id, completedEventId: 0 });
      break;
    }
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
      const a = e.workflowExecutionUpdateCompletedEventAttributes!;
      const updateId = a.meta?.updateId ?? '';
      const u = findUpdate(data, updateId);
      if (u) {
        u.stage = 'completed';
        u.completedEventId = id;
      } else {
        data.updates.push({ updateId, stage: 'completed', acceptedEventId: 0, completedEventId: id });
      }
      break;
    }
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED: {
      const a = e.workflowExecutionOptionsUpdatedEventAttributes!;
      if (a.unsetVersioningOverride || a.versioningOverride) setOptional(info, 'versioningOverride', overrideFromProto(a.versioningOverride));
      // As the reference: an event without a priority leaves the run's as it was.
      if (a.priority) info.priority = taskPriority(a.priority);
      break;
    }
    default:
      break;
  }
}

/** Absent rather than undefined: the state equals its stored (JSON) blob. */
function setOptional<K extends 'versioning' | 'versioningOverride' | 'userMetadata' | 'priority'>(info: MutableStateData['info'], key: K, value: MutableStateData['info'][K]): void {
  if (value === undefined) delete info[key];
  else info[key] = value;
}

function close(data: MutableStateData, status: number, eventId: number, at: number): void {
  const info = data.info;
  info.status = status;
  info.state = 'completed';
  info.completionEventId = eventId;
  info.closeTimeMs = at;
  info.workflowTask = null;
  data.progress.stickyTaskQueue = '';
  data.progress.transientWorkflowTask = null;
}


export function findActivity(data: MutableStateData, scheduledEventId: number): ActivityInfo | undefined {
  return data.activities.find((a) => a.scheduledEventId === scheduledEventId);
}

export function findChild(data: MutableStateData, initiatedEventId: number): ChildInfo | undefined {
  return data.children.find((c) => c.initiatedEventId === initiatedEventId);
}

export function findUpdate(data: MutableStateData, updateId: string): UpdateInfo | undefined {
  return data.updates.find((u) => u.updateId === updateId);
}

function removeActivity(data: MutableStateData, scheduledEventId: number): void {
  data.activities = data.activities.filter((a) => a.scheduledEventId !== scheduledEventId);
}

function removeTimer(data: MutableStateData, timerId: string): void {
  data.timers = data.timers.filter((t) => t.timerId !== timerId);
}

function removeChild(data: MutableStateData, initiatedEventId: number): void {
  data.children = data.children.filter((c) => c.initiatedEventId !== initiatedEventId);
}

function removeExternal(list: ExternalRequestInfo[], initiatedEventId: number): void {
  const i = list.findIndex((r) => r.initiatedEventId === initiatedEventId);
  if (i >= 0) list.splice(i, 1);
}

/** The reference server's limit (limit.maxAutoResetPoints): the oldest points are dropped. */
const MAX_RESET_POINTS = 20;

/**
 * A workflow task completed by a build not seen on this run adds a reset point and its BuildIds
 * entry, as the reference server records them; a completion naming no build adds nothing.
 */
function noteBuild(data: MutableStateData, a: historyv1.IWorkflowTaskCompletedEventAttributes, id: number, at: number): void {
  const info = data.info;
  const buildId = a.workerVersion?.buildId ?? '';
  const binaryChecksum = a.binaryChecksum ?? '';
  if (!buildId && !binaryChecksum) return;
  if (buildId) {
    const entry = `${a.workerVersion?.useVersioning ? 'versioned' : 'unversioned'}:${buildId}`;
    info.buildIds = [...(info.buildIds ?? []).filter((b) => b !== entry), entry];
  }
  const points = info.resetPoints ?? [];
  if (points.some((p) => p.buildId === buildId && p.binaryChecksum === binaryChecksum)) return;
  const point = { buildId, binaryChecksum, firstWorkflowTaskCompletedId: id, createTimeMs: at, resettable: data.children.length === 0 };
  info.resetPoints = [...points, point].slice(-MAX_RESET_POINTS);
}
