// Eager activity dispatch, as the reference: a workflow task's completion whose commands schedule
// activities with request_eager_execution gets them back started, in its answer's activity_tasks,
// so matching never sees them. The worker asks only for activities of its own task queue and as
// many as it reserved slots for (the TS SDK: 3 per completion); the server starts each one it
// asked for that is still pending once every command is applied (not one the same completion
// canceled), in the completion's own write. As for a polled attempt, ActivityTaskStarted is written
// with the attempt's outcome.
import { toNumber } from '../common/proto-time.js';
import { enums, type workflowservice as ws } from '../common/temporal.js';
import type { ActivityHandler } from './activity-handler.js';
import type { MutableState } from './mutable-state.js';
import type { ActivityInfo } from './state.js';

/** The activities the completion asks to run on its own worker, still pending after its commands. */
function requested(ms: MutableState, req: ws.IRespondWorkflowTaskCompletedRequest): ActivityInfo[] {
  if (!ms.isRunning) return [];
  // Versioning by build ids (a worker's version stamp without a deployment's behavior): only an
  // activity that keeps to the workflow's build may run on the worker that completed the task.
  const buildIdVersioning = Boolean(req.workerVersionStamp?.useVersioning) && !ms.info.versioningOverride && !ms.info.versioning?.behavior;
  return (req.commands ?? []).flatMap((c) => {
    const a = c.scheduleActivityTaskCommandAttributes;
    if (c.commandType !== enums.CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK || !a?.requestEagerExecution) return [];
    if (buildIdVersioning && !a.useWorkflowBuildId) return [];
    const act = ms.activityById(a.activityId ?? '');
    return act && !act.progress.started ? [act] : [];
  });
}

/**
 * Starts the activities the completion asks for on its worker (`req.identity`) and answers their
 * tasks; call it after the completion's commands, inside its transaction.
 */
export function startEagerActivities(
  activities: ActivityHandler,
  ms: MutableState,
  req: ws.IRespondWorkflowTaskCompletedRequest,
  namespace: string,
  now: number,
): ws.IPollActivityTaskQueueResponse[] {
  return requested(ms, req).map((act) => {
    activities.startAttempt(ms, act, req.identity ?? '', now);
    // Written by this transaction: its attributes are at hand, not yet in the store.
    const scheduled = ms.pendingTransaction.events.find((e) => toNumber(e.eventId) === act.scheduledEventId);
    return activities.taskFor(ms, act, namespace, scheduled?.activityTaskScheduledEventAttributes);
  });
}
