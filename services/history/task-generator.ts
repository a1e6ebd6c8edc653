// Derives the tasks new or replicated events imply, from the state after them, so the standby
// region holds the same timers and pending tasks as the active one (DESIGN invariant 7).
import { enums } from '../common/temporal.js';
import { toNumber } from '../common/proto-time.js';
import type { MutableState } from './mutable-state.js';
import { activityDeadline, type ActivityTimeoutType } from './activity-options.js';
import type { ActivityInfo, HistoryEvent } from './state.js';
import { timerTask, transferTask, type NewTask } from './tasks.js';

const ET = enums.EventType;

/** What task generation needs besides the state: the clock and the namespace's retention. */
export interface TaskContext {
  nowMs: number;
  retentionMs: number;
}

/**
 * The tasks a transaction's events imply, derived once from the state after all of them (so a
 * timer started and canceled in one transaction makes no task). Pure: the clock is passed in.
 * The standby region derives the same tasks from the same events.
 */
export function generateTasks(ms: MutableState, events: HistoryEvent[], ctx: TaskContext): NewTask[] {
  const tasks: NewTask[] = [];
  for (const e of events) tasks.push(...tasksOf(ms, e, ctx));
  return tasks;
}

function tasksOf(ms: MutableState, e: HistoryEvent, ctx: TaskContext): NewTask[] {
  const info = ms.info;
  const id = toNumber(e.eventId);
  const now = ctx.nowMs;
  switch (e.eventType) {
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
      const tasks = [transferTask('visibility', now)];
      if (!ms.isRunning) return tasks;
      if (info.runExpirationTimeMs) tasks.push(timerTask('runTimeout', info.runExpirationTimeMs));
      if (info.executionExpirationTimeMs && info.executionExpirationTimeMs !== info.runExpirationTimeMs) {
        tasks.push(timerTask('executionTimeout', info.executionExpirationTimeMs));
      }
      if (info.executionTimeMs > info.startTimeMs) tasks.push(timerTask('workflowBackoff', info.executionTimeMs));
      return tasks;
    }
    case ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED: {
      const wt = info.workflowTask;
      if (!wt || wt.scheduledEventId !== id || wt.startedEventId > 0) return [];
      return workflowTaskScheduledTasks(ms, now);
    }
    case ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
      // A build the run had not seen changes its BuildIds; a new deployment version or behavior, its versioning attributes.
      const changed = info.resetPoints?.some((p) => p.firstWorkflowTaskCompletedId === id) || info.versioning?.sinceEventId === id;
      return changed ? [transferTask('visibility', now)] : [];
    }
    case ET.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
      const wt = info.workflowTask;
      if (!wt || wt.startedEventId !== id) return [];
      return workflowTaskStartedTasks(ms);
    }
    case ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
      const act = ms.activity(id);
      if (!act) return [];
      // Started in the same transaction (eager dispatch): matching never sees it; its start wrote its timers.
      if (act.progress.started) return activityTimeoutTimer(act, 'scheduleToClose');
      return [activityDispatchTask(act.taskQueue, id, 1, now), ...activityScheduleTimers(ms, id)];
    }
    case ET.EVENT_TYPE_TIMER_STARTED: {
      const t = ms.timer(e.timerStartedEventAttributes!.timerId ?? '');
      if (!t || t.startedEventId !== id) return [];
      return [timerTask('userTimer', t.expiryTimeMs, { timerId: t.timerId, startedEventId: id })];
    }
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      // Visibility apart from closeExecution: a standby runs visibility tasks only, and must list the run as closed.
      return [
        transferTask('visibility', now),
        transferTask('closeExecution', now),
        timerTask('deleteExecution', info.closeTimeMs + ctx.retentionMs),
      ];
    case ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
      return ms.child(id) ? [transferTask('startChild', now, { initiatedEventId: id })] : [];
    case ET.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      return [transferTask('signalExternal', now, { initiatedEventId: id })];
    case ET.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      return [transferTask('cancelExternal', now, { initiatedEventId: id })];
    case ET.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
    case ET.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
      return [transferTask('visibility', now)];
    default:
      return [];
  }
}

/** Dispatch of the pending workflow task, and its schedule-to-start timeout on a sticky queue. */
export function workflowTaskScheduledTasks(ms: MutableState, now: number): NewTask[] {
  const wt = ms.workflowTask!;
  const scheduleToStartMs = wt.kind === 2 ? ms.progress.stickyScheduleToStartMs : 0;
  const tasks = [
    transferTask('workflowTask', now, {
      scheduledEventId: wt.scheduledEventId,
      taskQueue: wt.taskQueue,
      kind: wt.kind,
      scheduleToStartMs,
    }),
  ];
  if (scheduleToStartMs > 0) {
    tasks.push(
      timerTask('workflowTaskTimeout', wt.scheduledTimeMs + scheduleToStartMs, {
        scheduledEventId: wt.scheduledEventId,
        attempt: wt.attempt,
        timeoutType: 'scheduleToStart',
      }),
    );
  }
  return tasks;
}

/** The start-to-close timeout of the started workflow task. */
export function workflowTaskStartedTasks(ms: MutableState): NewTask[] {
  const wt = ms.workflowTask!;
  return [
    timerTask('workflowTaskTimeout', wt.startedTimeMs + wt.startToCloseMs, {
      scheduledEventId: wt.scheduledEventId,
      attempt: wt.attempt,
      timeoutType: 'startToClose',
    }),
  ];
}

export function activityDispatchTask(taskQueue: string, scheduledEventId: number, attempt: number, atMs: number): NewTask {
  return transferTask('activityTask', atMs, { scheduledEventId, attempt, taskQueue });
}

/**
 * An activity's next attempt, due at its currentAttemptScheduledTimeMs: the retry timer that
 * dispatches it, and its schedule-to-start and schedule-to-close timers.
 */
export function activityAttemptTasks(ms: MutableState, scheduledEventId: number): NewTask[] {
  const p = ms.activity(scheduledEventId)!.progress;
  return [timerTask('activityRetry', p.currentAttemptScheduledTimeMs, { scheduledEventId, attempt: p.attempt }), ...activityScheduleTimers(ms, scheduledEventId)];
}

/** Schedule-to-start timer of an activity's current attempt; the schedule-to-close one, written once, with attempt 1. */
export function activityScheduleTimers(ms: MutableState, scheduledEventId: number): NewTask[] {
  const act = ms.activity(scheduledEventId)!;
  return [...activityTimeoutTimer(act, 'scheduleToStart'), ...(act.progress.attempt === 1 ? activityTimeoutTimer(act, 'scheduleToClose') : [])];
}

/** Start-to-close and heartbeat timers of a started attempt. */
export function activityStartedTimers(ms: MutableState, scheduledEventId: number): NewTask[] {
  const act = ms.activity(scheduledEventId)!;
  return [...activityTimeoutTimer(act, 'startToClose'), ...activityTimeoutTimer(act, 'heartbeat')];
}

/**
 * Every timer of an activity's current attempt, and the dispatch of one that waits for it, under
 * the options it runs with now (UpdateActivityOptions, or their copy on the standby).
 */
export function activityRetimedTasks(ms: MutableState, scheduledEventId: number): NewTask[] {
  const act = ms.activity(scheduledEventId)!;
  const tasks = act.progress.started ? activityStartedTimers(ms, scheduledEventId) : activityAttemptTasks(ms, scheduledEventId);
  // Past attempt 1 the schedule-to-close timer is not among the attempt's own.
  if (act.progress.started || act.progress.attempt > 1) tasks.push(...activityTimeoutTimer(act, 'scheduleToClose'));
  return tasks;
}

/** The timer of one of the activity's deadlines (activity-options.ts), none when it has no such timeout. */
export function activityTimeoutTimer(act: ActivityInfo, timeoutType: ActivityTimeoutType): NewTask[] {
  const at = activityDeadline(act, timeoutType);
  // Schedule-to-close spans every attempt: its timer names none.
  const attempt = timeoutType === 'scheduleToClose' ? 0 : act.progress.attempt;
  return at > 0 ? [timerTask('activityTimeout', at, { scheduledEventId: act.scheduledEventId, attempt, timeoutType })] : [];
}
