// What history hands matching for a run's workflow and activity tasks: the queue, the version a
// pinned run's tasks go to, and the priority they wait with (an activity's own over its run's,
// field by field, as the reference merges them).
import type { AddTaskRequest } from '../matching/api.js';
import { mergePriority, taskPriority } from '../matching/priority.js';
import type { MutableState } from './mutable-state.js';
import { activityOptions } from './activity-options.js';
import type { ActivityInfo } from './state.js';
import { pinnedVersion } from './versioning.js';

export function workflowTaskFor(
  ms: MutableState,
  wt: { taskQueue: string; kind: 1 | 2; scheduledEventId: number },
  scheduleToStartTimeoutMs: number,
): AddTaskRequest {
  return {
    taskQueue: { namespaceId: ms.info.namespaceId, name: wt.taskQueue, type: 1, kind: wt.kind },
    workflowId: ms.info.workflowId,
    runId: ms.info.runId,
    scheduledEventId: wt.scheduledEventId,
    scheduleToStartTimeoutMs,
    pinnedVersion: pinnedVersion(ms.info),
    priority: ms.info.priority,
  };
}

export function activityTaskFor(ms: MutableState, act: ActivityInfo): AddTaskRequest {
  // The queue and timeout it runs with now: UpdateActivityOptions may have changed them.
  const o = activityOptions(act);
  return {
    taskQueue: { namespaceId: ms.info.namespaceId, name: o.taskQueue, type: 2, kind: 1 },
    workflowId: ms.info.workflowId,
    runId: ms.info.runId,
    scheduledEventId: act.scheduledEventId,
    scheduleToStartTimeoutMs: o.scheduleToStartMs,
    pinnedVersion: pinnedVersion(ms.info),
    priority: taskPriority(activityPriority(ms, act)),
  };
}

/** The priority an activity's tasks carry, and its worker is told in the poll answer. */
export function activityPriority(ms: MutableState, act: ActivityInfo) {
  return mergePriority(ms.info.priority, act.priority);
}
