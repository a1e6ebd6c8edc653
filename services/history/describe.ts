// DescribeWorkflowExecution's answer, read from mutable state alone.
import { enums, commonv1, sdkv1, workflowv1, workflowservice as ws, failure as failurev1 } from '../common/temporal.js';
import { durationFromMs, timestampFromMs, toLong } from '../common/proto-time.js';
import { activityDeadline, activityOptions, optionsToProto } from './activity-options.js';
import type { MutableState } from './mutable-state.js';
import { decodeB64 } from './payload-codec.js';
import type { ActivityInfo } from './state.js';
import { versioningInfo } from './versioning.js';

export function describe(ms: MutableState): ws.IDescribeWorkflowExecutionResponse {
  const info = ms.info;
  const wt = ms.workflowTask;
  return {
    executionConfig: {
      taskQueue: { name: info.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      // Unset timeouts stay unset, as the reference server answers them (0 would read as "no time").
      workflowExecutionTimeout: info.executionTimeoutMs ? durationFromMs(info.executionTimeoutMs) : null,
      workflowRunTimeout: info.runTimeoutMs ? durationFromMs(info.runTimeoutMs) : null,
      defaultWorkflowTaskTimeout: durationFromMs(info.workflowTaskTimeoutMs),
      userMetadata: info.userMetadata ? decodeB64(sdkv1.UserMetadata, info.userMetadata) : null,
    },
    workflowExecutionInfo: {
      execution: { workflowId: info.workflowId, runId: info.runId },
      type: { name: info.workflowType },
      startTime: timestampFromMs(info.startTimeMs),
      closeTime: info.closeTimeMs ? timestampFromMs(info.closeTimeMs) : null,
      executionTime: timestampFromMs(info.executionTimeMs),
      status: info.status,
      historyLength: toLong(BigInt(info.nextEventId - 1)),
      historySizeBytes: toLong(BigInt(info.historySizeBytes)),
      taskQueue: info.taskQueue,
      memo: info.memo ? decodeB64(commonv1.Memo, info.memo) : null,
      searchAttributes: searchAttributes(ms),
      parentNamespaceId: info.parent?.namespaceId ?? '',
      parentExecution: info.parent ? { workflowId: info.parent.workflowId, runId: info.parent.runId } : null,
      rootExecution: ms.root,
      firstRunId: info.firstRunId,
      stateTransitionCount: toLong(BigInt(ms.dbRecordVersion)),
      executionDuration: info.closeTimeMs ? durationFromMs(Math.max(0, info.closeTimeMs - info.executionTimeMs)) : null,
      versioningInfo: versioningInfo(info),
      priority: info.priority ?? null,
      autoResetPoints: {
        points: (info.resetPoints ?? []).map((p) => ({
          buildId: p.buildId,
          binaryChecksum: p.binaryChecksum,
          runId: info.runId,
          firstWorkflowTaskCompletedId: toLong(BigInt(p.firstWorkflowTaskCompletedId)),
          createTime: timestampFromMs(p.createTimeMs),
          resettable: p.resettable,
        })),
      },
    },
    pendingActivities: ms.data.activities.map(describeActivity),
    pendingChildren: ms.data.children.map((c) => ({
      workflowId: c.workflowId,
      runId: c.runId,
      workflowTypeName: c.workflowType,
      initiatedId: toLong(BigInt(c.initiatedEventId)),
      parentClosePolicy: c.parentClosePolicy,
    })),
    pendingWorkflowTask: wt
      ? {
          state:
            wt.startedEventId > 0
              ? enums.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
              : enums.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED,
          scheduledTime: timestampFromMs(wt.scheduledTimeMs),
          originalScheduledTime: timestampFromMs(wt.scheduledTimeMs),
          startedTime: wt.startedTimeMs ? timestampFromMs(wt.startedTimeMs) : null,
          attempt: wt.attempt,
        }
      : null,
  };
}

/** A pending activity, with the options it runs with (its scheduled event's, or UpdateActivityOptions'). */
function describeActivity(a: ActivityInfo): workflowv1.IPendingActivityInfo {
  const o = activityOptions(a);
  const expiresAt = activityDeadline(a, 'scheduleToClose');
  return {
    activityId: a.activityId,
    activityType: { name: a.activityType },
    state: a.cancelRequested
      ? enums.PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
      : a.progress.paused
        ? a.progress.started
          ? enums.PendingActivityState.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED
          : enums.PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED
      : a.progress.started
        ? enums.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        : enums.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
    heartbeatDetails: a.progress.heartbeatDetails ? decodeB64(commonv1.Payloads, a.progress.heartbeatDetails) : null,
    lastHeartbeatTime: a.progress.lastHeartbeatMs ? timestampFromMs(a.progress.lastHeartbeatMs) : null,
    lastStartedTime: a.progress.startedTimeMs ? timestampFromMs(a.progress.startedTimeMs) : null,
    attempt: a.progress.attempt,
    maximumAttempts: o.retryPolicy?.maximumAttempts ?? 0,
    scheduledTime: timestampFromMs(a.progress.currentAttemptScheduledTimeMs),
    expirationTime: expiresAt ? timestampFromMs(expiresAt) : null,
    lastFailure: a.progress.lastFailure ? decodeB64(failurev1.Failure, a.progress.lastFailure) : null,
    lastWorkerIdentity: a.progress.lastWorkerIdentity,
    paused: Boolean(a.progress.paused),
    pauseInfo: a.progress.paused
      ? { pauseTime: timestampFromMs(a.progress.paused.timeMs), manual: { identity: a.progress.paused.identity, reason: a.progress.paused.reason } }
      : null,
    activityOptions: optionsToProto(o),
    // Its own, as the reference shows it: unset fields are the run's.
    priority: a.priority ?? null,
  };
}

/** The run's search attributes with the server's own BuildIds, as the reference server shows them. */
function searchAttributes(ms: MutableState): commonv1.ISearchAttributes | null {
  const info = ms.info;
  const held = info.searchAttributes ? decodeB64(commonv1.SearchAttributes, info.searchAttributes) : null;
  if (!info.buildIds?.length) return held;
  const buildIds = {
    metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from('KeywordList') },
    data: Buffer.from(JSON.stringify(info.buildIds)),
  };
  return { indexedFields: { ...(held?.indexedFields ?? {}), BuildIds: buildIds } };
}
