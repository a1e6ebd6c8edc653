// Scheduling workflow tasks and ending the ones that failed or timed out. The first attempt is a
// WorkflowTaskScheduled event; a retry is transient (no event until it completes), so a workflow
// task that keeps failing does not grow the history.
import { enums, failure as failurev1 } from '../common/temporal.js';
import { durationFromMs, toLong } from '../common/proto-time.js';
import type { MutableState } from './mutable-state.js';
import { workflowTaskScheduledTasks } from './task-generator.js';

const ET = enums.EventType;
const Cause = enums.WorkflowTaskFailedCause;

export class WorkflowTaskScheduler {
  /**
   * Schedules a workflow task on the sticky queue when one is set, else the normal one. The first
   * attempt is a WorkflowTaskScheduled event; a retry is transient (no event until it completes).
   */
  schedule(ms: MutableState, now: number, attempt = 1): void {
    const sticky = ms.progress.stickyTaskQueue;
    if (attempt > 1) {
      ms.progress.transientWorkflowTask = {
        scheduledEventId: ms.info.nextEventId,
        startedEventId: 0,
        attempt,
        scheduledTimeMs: now,
        startedTimeMs: 0,
        startToCloseMs: ms.info.workflowTaskTimeoutMs,
        taskQueue: sticky || ms.info.taskQueue,
        kind: sticky ? 2 : 1,
        requestId: '',
        identity: '',
        transient: true,
      };
      ms.dirty = true;
      for (const t of workflowTaskScheduledTasks(ms, now)) ms.addTask(t);
      return;
    }
    ms.addEvent(
      ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      {
        workflowTaskScheduledEventAttributes: {
          taskQueue: sticky
            ? { name: sticky, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_STICKY, normalName: ms.info.taskQueue }
            : { name: ms.info.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          startToCloseTimeout: durationFromMs(ms.info.workflowTaskTimeoutMs),
          attempt,
        },
      },
      now,
    );
  }

  /** Schedules a workflow task unless one is pending or the first one is still delayed. */
  scheduleIfIdle(ms: MutableState, now: number): void {
    if (!ms.isRunning || ms.hasPendingWorkflowTask) return;
    if (ms.info.state === 'created' && ms.info.executionTimeMs > now && ms.info.lastCompletedWorkflowTaskStartedEventId === 0) return;
    this.schedule(ms, now);
  }

  /** Records a failed task, gives buffered events their ids and schedules the next attempt on the normal queue. */
  failTask(ms: MutableState, scheduledEventId: number, startedEventId: number, cause: number, identity: string, now: number, failure: failurev1.IFailure | null): void {
    const attempt = ms.workflowTask?.attempt ?? 1;
    if (ms.progress.transientWorkflowTask) {
      // The failure of attempt 1 is in history already; later attempts leave no events.
      ms.progress.transientWorkflowTask = null;
      ms.progress.stickyTaskQueue = '';
      this.schedule(ms, now, attempt + 1);
      return;
    }
    ms.addEvent(
      ET.EVENT_TYPE_WORKFLOW_TASK_FAILED,
      {
        workflowTaskFailedEventAttributes: {
          scheduledEventId: toLong(BigInt(scheduledEventId)),
          startedEventId: toLong(BigInt(startedEventId)),
          cause,
          failure,
          identity,
        },
      },
      now,
    );
    ms.progress.stickyTaskQueue = '';
    ms.flushBuffered();
    this.schedule(ms, now, cause === Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND ? 1 : attempt + 1);
  }

  /** A workflow task that was not answered in time: the next attempt goes to the normal queue. */
  timedOut(ms: MutableState, timeoutType: 'startToClose' | 'scheduleToStart', now: number): void {
    const wt = ms.workflowTask!;
    if (wt.transient) {
      ms.progress.transientWorkflowTask = null;
      ms.progress.stickyTaskQueue = '';
      this.schedule(ms, now, timeoutType === 'startToClose' ? wt.attempt + 1 : wt.attempt);
      return;
    }
    ms.addEvent(
      ET.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
      {
        workflowTaskTimedOutEventAttributes: {
          scheduledEventId: toLong(BigInt(wt.scheduledEventId)),
          startedEventId: toLong(BigInt(wt.startedEventId)),
          timeoutType:
            timeoutType === 'startToClose'
              ? enums.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
              : enums.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
        },
      },
      now,
    );
    ms.progress.stickyTaskQueue = '';
    ms.flushBuffered();
    this.schedule(ms, now, timeoutType === 'startToClose' ? wt.attempt + 1 : wt.attempt);
  }

  /**
   * A workflow task started before a failover belongs to the old region's worker: it is failed
   * (FAILOVER_CLOSE_COMMAND) and the buffered events get their ids at the new version, so the
   * next task goes to this region's workers (Temporal does the same). An in-flight task's started
   * event is the run's last write, so its version is lastWriteVersion.
   */
  failStaleRegionTask(ms: MutableState, now: number): void {
    const wt = ms.info.workflowTask;
    if (!ms.isRunning || !wt || wt.startedEventId === 0 || BigInt(ms.info.lastWriteVersion) >= ms.currentVersion) return;
    this.failTask(ms, wt.scheduledEventId, wt.startedEventId, Cause.WORKFLOW_TASK_FAILED_CAUSE_FAILOVER_CLOSE_COMMAND, 'history-service', now, null);
  }
}
