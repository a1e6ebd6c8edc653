// Derives the tasks a new or replicated event implies. A pure function of the event and the state
// after it, so the standby region holds the same timers and pending tasks as the active one.
import { enums } from '../common/temporal.js';
import { toNumber } from '../common/proto-time.js';
import type { TaskCategory } from '../persistence/types.js';
import type { HistoryEvent, MutableState } from './mutable-state.js';

const ET = enums.EventType;

export type TransferTaskType =
  | 'workflowTask'
  | 'activityTask'
  | 'closeExecution'
  | 'visibility'
  | 'startChild'
  | 'signalExternal'
  | 'cancelExternal';

export type TimerTaskType =
  | 'userTimer'
  | 'workflowTaskTimeout'
  | 'activityTimeout'
  | 'activityRetry'
  | 'runTimeout'
  | 'executionTimeout'
  | 'workflowBackoff'
  | 'deleteExecution';

export interface NewTask {
  category: TaskCategory;
  type: TransferTaskType | TimerTaskType;
  visibilityTimeMs: number;
  /** Task attributes; every task is checked against mutable state before it acts. */
  attrs: TaskAttrs;
}

export interface TaskAttrs {
  scheduledEventId?: number;
  initiatedEventId?: number;
  attempt?: number;
  timerId?: string;
  startedEventId?: number;
  timeoutType?: 'scheduleToStart' | 'scheduleToClose' | 'startToClose' | 'heartbeat';
  taskQueue?: string;
  kind?: 1 | 2;
  scheduleToStartMs?: number;
}

export function transferTask(type: TransferTaskType, nowMs: number, attrs: TaskAttrs = {}): NewTask {
  return { category: 'transfer', type, visibilityTimeMs: nowMs, attrs };
}

export function timerTask(type: TimerTaskType, fireAtMs: number, attrs: TaskAttrs = {}): NewTask {
  return { category: 'timer', type, visibilityTimeMs: fireAtMs, attrs };
}

export function generateTasks(ms: MutableState, e: HistoryEvent): NewTask[] {
  const info = ms.info;
  const id = toNumber(e.eventId);
  const now = Date.now();
  switch (e.eventType) {
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
      const tasks = [transferTask('visibility', now)];
      if (info.runExpirationTimeMs) tasks.push(timerTask('runTimeout', info.runExpirationTimeMs));
      if (info.executionExpirationTimeMs && info.executionExpirationTimeMs !== info.runExpirationTimeMs) {
        tasks.push(timerTask('executionTimeout', info.executionExpirationTimeMs));
      }
      if (info.executionTimeMs > info.startTimeMs) tasks.push(timerTask('workflowBackoff', info.executionTimeMs));
      return tasks;
    }
    case ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
      return workflowTaskScheduledTasks(ms, now);
    case ET.EVENT_TYPE_WORKFLOW_TASK_STARTED:
      return workflowTaskStartedTasks(ms);
    case ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
      const act = ms.activity(id)!;
      return [activityDispatchTask(act.taskQueue, id, 1, now), ...activityScheduleTimers(ms, id)];
    }
    case ET.EVENT_TYPE_TIMER_STARTED: {
      const t = ms.timer(e.timerStartedEventAttributes!.timerId ?? '')!;
      return [timerTask('userTimer', t.expiryTimeMs, { timerId: t.timerId, startedEventId: id })];
    }
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      return [transferTask('closeExecution', now), timerTask('deleteExecution', info.closeTimeMs + ms.retentionMs)];
    case ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
      return [transferTask('startChild', now, { initiatedEventId: id })];
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
  const wt = ms.info.workflowTask!;
  const scheduleToStartMs = wt.kind === 2 ? ms.info.stickyScheduleToStartMs : 0;
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
  const wt = ms.info.workflowTask!;
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

/** Schedule-to-start and schedule-to-close timers of an activity's current attempt. */
export function activityScheduleTimers(ms: MutableState, scheduledEventId: number): NewTask[] {
  const act = ms.activity(scheduledEventId)!;
  const tasks: NewTask[] = [];
  if (act.scheduleToStartMs > 0) {
    tasks.push(
      timerTask('activityTimeout', act.currentAttemptScheduledTimeMs + act.scheduleToStartMs, {
        scheduledEventId,
        attempt: act.attempt,
        timeoutType: 'scheduleToStart',
      }),
    );
  }
  if (act.scheduleToCloseMs > 0 && act.attempt === 1) {
    tasks.push(
      timerTask('activityTimeout', act.scheduledTimeMs + act.scheduleToCloseMs, {
        scheduledEventId,
        attempt: 0,
        timeoutType: 'scheduleToClose',
      }),
    );
  }
  return tasks;
}

/** Start-to-close and heartbeat timers of a started attempt. */
export function activityStartedTimers(ms: MutableState, scheduledEventId: number): NewTask[] {
  const act = ms.activity(scheduledEventId)!;
  const tasks: NewTask[] = [];
  if (act.startToCloseMs > 0) {
    tasks.push(
      timerTask('activityTimeout', act.startedTimeMs + act.startToCloseMs, {
        scheduledEventId,
        attempt: act.attempt,
        timeoutType: 'startToClose',
      }),
    );
  }
  if (act.heartbeatTimeoutMs > 0) tasks.push(activityHeartbeatTimer(act.startedTimeMs, act.heartbeatTimeoutMs, scheduledEventId, act.attempt));
  return tasks;
}

export function activityHeartbeatTimer(fromMs: number, timeoutMs: number, scheduledEventId: number, attempt: number): NewTask {
  return timerTask('activityTimeout', fromMs + timeoutMs, { scheduledEventId, attempt, timeoutType: 'heartbeat' });
}
