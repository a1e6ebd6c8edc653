// The tasks a transaction writes beside its events: transfer tasks (do something now: dispatch,
// notify, visibility) and timers (do it at a time). Every task re-checks mutable state before it
// acts, so a task whose moment has passed is a no-op.
import type { TaskCategory } from '../persistence/types.js';

export type TransferTaskType =
  | 'workflowTask'
  | 'activityTask'
  | 'closeExecution'
  | 'visibility'
  | 'startChild'
  | 'signalExternal'
  | 'cancelExternal'
  /** Reapply the user input of events [firstEventId, nextEventId) of branchId, a fork that lost. */
  | 'reapplyEvents'
  /** Two running runs of one workflow id: close the one of the lower version (otherRunId: the other). */
  | 'resolveDuplicateRun';

export type TimerTaskType =
  | 'userTimer'
  | 'workflowTaskTimeout'
  | 'activityTimeout'
  | 'activityRetry'
  | 'runTimeout'
  | 'executionTimeout'
  | 'workflowBackoff'
  | 'deleteExecution';

/**
 * 'history': ship events [firstEventId, nextEventId) of the run, read at send time, and its
 * non-event state as it is then (an empty range ships the state alone).
 */
export type ReplicationTaskType = 'history';

export interface NewTask {
  category: TaskCategory;
  type: TransferTaskType | TimerTaskType | ReplicationTaskType;
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
  firstEventId?: number;
  nextEventId?: number;
  /** Failover version of the write (decimal string: 64-bit). */
  version?: string;
  kind?: 1 | 2;
  scheduleToStartMs?: number;
  branchId?: string;
  otherRunId?: string;
}

export function transferTask(type: TransferTaskType, nowMs: number, attrs: TaskAttrs = {}): NewTask {
  return { category: 'transfer', type, visibilityTimeMs: nowMs, attrs };
}

export function replicationTask(firstEventId: number, nextEventId: number, version: bigint, nowMs: number): NewTask {
  return { category: 'replication', type: 'history', visibilityTimeMs: nowMs, attrs: { firstEventId, nextEventId, version: version.toString() } };
}

export function timerTask(type: TimerTaskType, fireAtMs: number, attrs: TaskAttrs = {}): NewTask {
  return { category: 'timer', type, visibilityTimeMs: fireAtMs, attrs };
}
