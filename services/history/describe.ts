// DescribeWorkflowExecution's answer, read from mutable state alone.
import { enums, commonv1, workflowservice as ws, failure as failurev1 } from '../common/temporal.js';
import { durationFromMs, timestampFromMs, toLong } from '../common/proto-time.js';
import type { MutableState } from './mutable-state.js';
import { decodeB64 } from './payload-codec.js';

export function describe(ms: MutableState): ws.IDescribeWorkflowExecutionResponse {
  const info = ms.info;
  const wt = ms.workflowTask;
  return {
    executionConfig: {
      taskQueue: { name: info.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      workflowExecutionTimeout: durationFromMs(info.executionTimeoutMs),
      workflowRunTimeout: durationFromMs(info.runTimeoutMs),
      defaultWorkflowTaskTimeout: durationFromMs(info.workflowTaskTimeoutMs),
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
      searchAttributes: info.searchAttributes ? decodeB64(commonv1.SearchAttributes, info.searchAttributes) : null,
      parentNamespaceId: info.parent?.namespaceId ?? '',
      parentExecution: info.parent ? { workflowId: info.parent.workflowId, runId: info.parent.runId } : null,
      firstRunId: info.firstRunId,
      stateTransitionCount: toLong(BigInt(ms.dbRecordVersion)),
      executionDuration: info.closeTimeMs ? durationFromMs(info.closeTimeMs - info.startTimeMs) : null,
    },
    pendingActivities: ms.data.activities.map((a) => ({
      activityId: a.activityId,
      activityType: { name: a.activityType },
      state: a.cancelRequested
        ? enums.PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
        : a.progress.started
          ? enums.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
          : enums.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
      heartbeatDetails: a.progress.heartbeatDetails ? decodeB64(commonv1.Payloads, a.progress.heartbeatDetails) : null,
      lastHeartbeatTime: a.progress.lastHeartbeatMs ? timestampFromMs(a.progress.lastHeartbeatMs) : null,
      lastStartedTime: a.progress.startedTimeMs ? timestampFromMs(a.progress.startedTimeMs) : null,
      attempt: a.progress.attempt,
      maximumAttempts: a.retryPolicy?.maximumAttempts ?? 0,
      scheduledTime: timestampFromMs(a.progress.currentAttemptScheduledTimeMs),
      expirationTime: a.scheduleToCloseMs ? timestampFromMs(a.scheduledTimeMs + a.scheduleToCloseMs) : null,
      lastFailure: a.progress.lastFailure ? decodeB64(failurev1.Failure, a.progress.lastFailure) : null,
      lastWorkerIdentity: a.progress.lastWorkerIdentity,
    })),
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
