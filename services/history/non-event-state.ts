// The part of a run's state no event records (DESIGN invariant 4a), as replication ships it beside
// the events: taken from the active region's state at send time, applied by the standby after the
// events, with the timers and dispatches the change implies there too (so a promoted standby
// times out an activity whose worker died with the old region, and dispatches a retried
// workflow task).
import type { MutableState } from './mutable-state.js';
import type { ActivityProgress, MutableStateData, NonEventState, VersionHistoryItem } from './state.js';
import { activityAttemptTasks, activityRetimedTasks, activityStartedTimers, workflowTaskScheduledTasks, workflowTaskStartedTasks } from './task-generator.js';
import type { NewTask } from './tasks.js';

export interface NonEventSnapshot {
  progress: NonEventState;
  activities: { scheduledEventId: number; progress: ActivityProgress }[];
  /**
   * The sender's version history of the branch the events beside it were read from, up to them:
   * where that branch meets the receiver's (replicated-plan.ts). Events, not state, but shipped
   * here as Temporal ships it with every task.
   */
  versionHistory?: VersionHistoryItem[];
}

export function takeNonEventState(data: MutableStateData): NonEventSnapshot {
  return structuredClone({
    progress: data.progress,
    activities: data.activities.map((a) => ({ scheduledEventId: a.scheduledEventId, progress: a.progress })),
  });
}

/**
 * Applies a shipped snapshot to ms and returns the tasks its changes imply. Progress of an
 * activity the standby does not have yet (its scheduled event comes later) is skipped.
 */
export function applyNonEventState(ms: MutableState, snap: NonEventSnapshot, nowMs: number): NewTask[] {
  const tasks: NewTask[] = [];
  const transientBefore = ms.progress.transientWorkflowTask;
  ms.data.progress = structuredClone(snap.progress);
  const wt = ms.progress.transientWorkflowTask;
  if (wt && (transientBefore?.attempt !== wt.attempt || transientBefore.startedEventId !== wt.startedEventId)) {
    tasks.push(...(wt.startedEventId > 0 ? workflowTaskStartedTasks(ms) : workflowTaskScheduledTasks(ms, nowMs)));
  }
  for (const shipped of snap.activities) {
    const act = ms.activity(shipped.scheduledEventId);
    if (!act) continue;
    const before = act.progress;
    act.progress = structuredClone(shipped.progress);
    const p = act.progress;
    if (JSON.stringify(p.options ?? null) !== JSON.stringify(before.options ?? null)) {
      // Options an operator changed (UpdateActivityOptions): the attempt's timers under them.
      tasks.push(...activityRetimedTasks(ms, act.scheduledEventId));
    } else if (p.started && (!before.started || before.attempt !== p.attempt)) {
      tasks.push(...activityStartedTimers(ms, act.scheduledEventId));
    } else if (!p.started && before.attempt !== p.attempt) {
      // A retry the active region scheduled: due at its backoff, with its own timeouts.
      tasks.push(...activityAttemptTasks(ms, act.scheduledEventId));
    }
  }
  ms.dirty = true;
  return tasks;
}
