// Activities: started, heartbeat, the three outcomes, retries and timeouts. An attempt's start is
// kept in mutable state; the ActivityTaskStarted event is written with the final outcome, so
// retries do not grow the history.
import { apiError } from '../common/errors.js';
import { enums, commonv1, historyv1, workflowservice as ws, failure as failurev1 } from '../common/temporal.js';
import { durationFromMs, timestampFromMs, toLong } from '../common/proto-time.js';
import type { AddTaskRequest } from '../matching/api.js';
import type { NamespaceRef } from './api.js';
import type { HistoryContext } from './context.js';
import type { WorkflowTaskScheduler } from './workflow-task-scheduler.js';
import type { MutableState } from './mutable-state.js';
import { decodeB64, encodeB64 } from './payload-codec.js';
import { activityDeadline, activityOptions, type ActivityTimeoutType } from './activity-options.js';
import { retryDecision, retryPolicyToProto } from './retry-policy.js';
import type { ActivityInfo, HistoryEvent } from './state.js';
import type Long from 'long';
import { decodeActivityTaskToken, encodeActivityTaskToken } from './task-token.js';
import { activityAttemptTasks, activityStartedTimers, activityTimeoutTimer } from './task-generator.js';
import { activityPriority, activityTaskFor } from './matching-tasks.js';

const ET = enums.EventType;

type TokenOrId = { taskToken?: Uint8Array | null } & { workflowId?: string | null; runId?: string | null; activityId?: string | null };

const activityNotFound = () => apiError('TASK_NOT_FOUND', 'Activity task not found.');

const timeoutTypes: Record<ActivityTimeoutType, number> = {
  scheduleToStart: enums.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
  scheduleToClose: enums.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE,
  startToClose: enums.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
  heartbeat: enums.TimeoutType.TIMEOUT_TYPE_HEARTBEAT,
};

/** The attempt's number as its retry policy counts it: a reset attempt (ResetActivity while it ran) is attempt 1. */
function countedAttempt(act: ActivityInfo): number {
  return act.progress.reset ? 1 : act.progress.attempt;
}

/** The current attempt is over (it failed): the next one is not started and has no heartbeat yet. */
function endAttempt(ms: MutableState, act: ActivityInfo, failure: failurev1.IFailure, now: number): void {
  const p = act.progress;
  p.lastFailure = encodeB64(failurev1.Failure, failure);
  p.attempt = countedAttempt(act) + 1;
  if (p.reset?.heartbeat) p.heartbeatDetails = null;
  p.reset = null;
  p.started = false;
  p.startedTimeMs = 0;
  p.lastHeartbeatMs = 0;
  p.lastAttemptCompleteTimeMs = now;
  ms.dirty = true;
}

export class ActivityHandler {
  constructor(
    private readonly ctx: HistoryContext,
    private readonly scheduler: WorkflowTaskScheduler,
  ) {}

  async recordStarted(task: AddTaskRequest, poll: ws.IPollActivityTaskQueueRequest): Promise<ws.IPollActivityTaskQueueResponse> {
    const ms = await this.ctx.tx.update(task.taskQueue.namespaceId, task.workflowId, task.runId, (ms, now) => {
      const act = ms.activity(task.scheduledEventId);
      // A paused activity's queued task is dropped, and one polled from a queue the activity no
      // longer runs on (UpdateActivityOptions moved it): unpausing, or the move, dispatched it again.
      const moved = act && poll.taskQueue?.name && poll.taskQueue.name !== activityOptions(act).taskQueue;
      if (!ms.isRunning || !act || act.progress.started || act.progress.paused || moved) throw activityNotFound();
      this.startAttempt(ms, act, poll.identity ?? '', now);
      return ms;
    });
    const act = ms.activity(task.scheduledEventId)!;
    const scheduled = (await this.ctx.tx.readEvent(ms, act.scheduledEventId))?.activityTaskScheduledEventAttributes;
    const ns = await this.ctx.namespaces.requireById(ms.info.namespaceId);
    return this.taskFor(ms, act, ns.name, scheduled);
  }

  /** A worker starts the activity's current attempt: by a poll, or eagerly, in its workflow task's completion. */
  startAttempt(ms: MutableState, act: ActivityInfo, identity: string, now: number): void {
    act.progress.started = true;
    act.progress.startedTimeMs = now;
    act.progress.identity = identity;
    act.progress.lastWorkerIdentity = identity;
    act.progress.lastHeartbeatMs = 0;
    ms.dirty = true;
    for (const t of activityStartedTimers(ms, act.scheduledEventId)) ms.addTask(t);
  }

  /** The task a worker gets for the started attempt; `scheduled`: the attributes of the activity's scheduled event. */
  taskFor(
    ms: MutableState,
    act: ActivityInfo,
    namespace: string,
    scheduled: historyv1.IActivityTaskScheduledEventAttributes | null | undefined,
  ): ws.IPollActivityTaskQueueResponse {
    const o = activityOptions(act);
    return {
      taskToken: encodeActivityTaskToken({
        namespaceId: ms.info.namespaceId,
        workflowId: ms.info.workflowId,
        runId: ms.info.runId,
        scheduledEventId: act.scheduledEventId,
        attempt: act.progress.attempt,
        activityId: act.activityId,
      }),
      workflowNamespace: namespace,
      workflowType: { name: ms.info.workflowType },
      workflowExecution: { workflowId: ms.info.workflowId, runId: ms.info.runId },
      activityType: { name: act.activityType },
      activityId: act.activityId,
      header: scheduled?.header,
      input: scheduled?.input,
      heartbeatDetails: act.progress.heartbeatDetails ? decodeB64(commonv1.Payloads, act.progress.heartbeatDetails) : null,
      scheduledTime: timestampFromMs(act.scheduledTimeMs),
      currentAttemptScheduledTime: timestampFromMs(act.progress.currentAttemptScheduledTimeMs),
      startedTime: timestampFromMs(act.progress.startedTimeMs),
      attempt: act.progress.attempt,
      scheduleToCloseTimeout: durationFromMs(o.scheduleToCloseMs),
      startToCloseTimeout: durationFromMs(o.startToCloseMs),
      heartbeatTimeout: durationFromMs(o.heartbeatTimeoutMs),
      retryPolicy: retryPolicyToProto(o.retryPolicy),
      priority: activityPriority(ms, act),
    };
  }

  /** Finds the activity a worker's request names, by token or by (workflow, run, activity id). */
  private async withActivity<T>(
    ns: NamespaceRef,
    req: TokenOrId,
    fn: (ms: MutableState, act: ActivityInfo) => T,
  ): Promise<T> {
    let workflowId: string;
    let runId: string;
    let match: (ms: MutableState) => ActivityInfo | undefined;
    if (req.taskToken && req.taskToken.length > 0) {
      const token = decodeActivityTaskToken(req.taskToken);
      if (!token || token.namespaceId !== ns.id) throw apiError('INVALID_ARGUMENT', 'Invalid TaskToken.');
      workflowId = token.workflowId;
      runId = token.runId;
      match = (ms) => {
        const act = ms.activity(token.scheduledEventId);
        return act && act.progress.attempt === token.attempt ? act : undefined;
      };
    } else {
      if (!req.workflowId || !req.activityId) throw apiError('INVALID_ARGUMENT', 'WorkflowId and ActivityId are required.');
      workflowId = req.workflowId;
      runId = req.runId ?? '';
      const activityId = req.activityId;
      match = (ms) => ms.activityById(activityId);
    }
    return this.ctx.tx.update(ns.id, workflowId, runId, (ms) => {
      const act = ms.isRunning ? match(ms) : undefined;
      if (!act) throw activityNotFound();
      return fn(ms, act);
    });
  }

  heartbeat(
    ns: NamespaceRef,
    req: ws.IRecordActivityTaskHeartbeatRequest | ws.IRecordActivityTaskHeartbeatByIdRequest,
  ): Promise<ws.IRecordActivityTaskHeartbeatResponse> {
    return this.withActivity(ns, req, (ms, act) => {
      if (!act.progress.started) throw activityNotFound();
      act.progress.lastHeartbeatMs = Date.now();
      act.progress.heartbeatDetails = req.details ? encodeB64(commonv1.Payloads, req.details) : act.progress.heartbeatDetails;
      ms.dirty = true;
      return { cancelRequested: act.cancelRequested, activityPaused: Boolean(act.progress.paused), activityReset: Boolean(act.progress.reset) };
    });
  }

  async completed(ns: NamespaceRef, req: ws.IRespondActivityTaskCompletedRequest | ws.IRespondActivityTaskCompletedByIdRequest): Promise<void> {
    await this.withActivity(ns, req, (ms, act) =>
      this.recordOutcome(ms, act, ET.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, (ids) => ({
        activityTaskCompletedEventAttributes: { ...ids, result: req.result, identity: req.identity ?? '' },
      })),
    );
  }

  async failed(
    ns: NamespaceRef,
    req: ws.IRespondActivityTaskFailedRequest | ws.IRespondActivityTaskFailedByIdRequest,
  ): Promise<ws.IRespondActivityTaskFailedResponse> {
    await this.withActivity(ns, req, (ms, act) => {
      if (req.lastHeartbeatDetails) act.progress.heartbeatDetails = encodeB64(commonv1.Payloads, req.lastHeartbeatDetails);
      // The SDKs report an attempt they stopped because it was paused as a failure: it waits for unpausing, whatever the policy.
      if (act.progress.paused && !act.cancelRequested) this.endPausedAttempt(ms, act, req.identity ?? '', Date.now(), req.failure);
      else this.failAttempt(ms, act, req.failure ?? { message: 'activity failed' }, req.identity ?? '', Date.now());
    });
    return {};
  }

  async canceled(ns: NamespaceRef, req: ws.IRespondActivityTaskCanceledRequest | ws.IRespondActivityTaskCanceledByIdRequest): Promise<void> {
    await this.withActivity(ns, req, (ms, act) =>
      // Canceled by its worker because it was paused (the workflow asked nothing): the attempt
      // ends and the activity waits for UnpauseActivity, which dispatches the next one.
      act.progress.paused && !act.cancelRequested
        ? this.endPausedAttempt(ms, act, req.identity ?? '', Date.now())
        : this.recordOutcome(ms, act, ET.EVENT_TYPE_ACTIVITY_TASK_CANCELED, (ids) => ({
        activityTaskCanceledEventAttributes: {
          ...ids,
          details: req.details,
          identity: req.identity ?? '',
          latestCancelRequestedEventId: toLong(BigInt(act.cancelRequestedEventId)),
        },
      })),
    );
  }

  /** The attempt of a paused activity ends; the next one is dispatched when it is unpaused. */
  private endPausedAttempt(ms: MutableState, act: ActivityInfo, identity: string, now: number, failure?: failurev1.IFailure | null): void {
    act.progress.lastWorkerIdentity = identity || act.progress.lastWorkerIdentity;
    endAttempt(ms, act, failure ?? { message: 'activity paused', canceledFailureInfo: {} }, now);
  }

  /** The attempt's started event, then its outcome, then a workflow task to react to it. */
  private recordOutcome(
    ms: MutableState,
    act: ActivityInfo,
    eventType: number,
    attrs: (ids: { scheduledEventId: Long; startedEventId: Long }) => Partial<HistoryEvent>,
  ): void {
    const now = Date.now();
    const startedEventId = this.addStartedEvent(ms, act, now);
    ms.addEvent(eventType, attrs({ scheduledEventId: toLong(BigInt(act.scheduledEventId)), startedEventId }), now);
    this.scheduler.scheduleIfIdle(ms, now);
  }

  /** Retries the attempt per the activity's policy, or records the final failure. */
  failAttempt(ms: MutableState, act: ActivityInfo, failure: failurev1.IFailure, identity: string, now: number): void {
    const { retryState, backoffMs: backoff } = act.cancelRequested
      ? { retryState: enums.RetryState.RETRY_STATE_CANCEL_REQUESTED, backoffMs: -1 }
      : retryDecision(activityOptions(act).retryPolicy, countedAttempt(act), failure, now, activityDeadline(act, 'scheduleToClose'));
    if (backoff >= 0) {
      endAttempt(ms, act, failure, now);
      act.progress.currentAttemptScheduledTimeMs = now + backoff;
      for (const t of activityAttemptTasks(ms, act.scheduledEventId)) ms.addTask(t);
      return;
    }
    const startedId = this.addStartedEvent(ms, act, now);
    if (failure.timeoutFailureInfo) {
      ms.addEvent(
        ET.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        { activityTaskTimedOutEventAttributes: { failure, scheduledEventId: toLong(BigInt(act.scheduledEventId)), startedEventId: startedId, retryState } },
        now,
      );
    } else {
      ms.addEvent(
        ET.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        {
          activityTaskFailedEventAttributes: {
            failure,
            scheduledEventId: toLong(BigInt(act.scheduledEventId)),
            startedEventId: startedId,
            identity,
            retryState,
          },
        },
        now,
      );
    }
    this.scheduler.scheduleIfIdle(ms, now);
  }

  /**
   * A timer of the attempt, due at `dueMs`, fired; acts only if that attempt is still the one
   * running and the deadline is still the timer's (compared with the timer's own time, not the
   * clock, which a timer may fire a little before).
   */
  timedOut(ms: MutableState, scheduledEventId: number, attempt: number, type: ActivityTimeoutType, dueMs: number, now: number): void {
    const act = ms.activity(scheduledEventId);
    if (!act || !ms.isRunning) return;
    if (type !== 'scheduleToClose' && act.progress.attempt !== attempt) return;
    if (type === 'scheduleToStart' && act.progress.started) return;
    if ((type === 'startToClose' || type === 'heartbeat') && !act.progress.started) return;
    const deadline = activityDeadline(act, type);
    // Moved: a heartbeat came since (the next check is armed), or UpdateActivityOptions removed or
    // moved the timeout (and wrote a timer of its own).
    if (deadline === 0) return;
    if (deadline > dueMs) {
      if (type === 'heartbeat') for (const t of activityTimeoutTimer(act, 'heartbeat')) ms.addTask(t);
      return;
    }
    const failure: failurev1.IFailure = {
      message: `activity ${type === 'heartbeat' ? 'Heartbeat' : type[0]!.toUpperCase() + type.slice(1)} timeout`,
      source: 'Server',
      timeoutFailureInfo: {
        timeoutType: timeoutTypes[type],
        lastHeartbeatDetails: act.progress.heartbeatDetails ? decodeB64(commonv1.Payloads, act.progress.heartbeatDetails) : null,
      },
      cause: act.progress.lastFailure ? decodeB64(failurev1.Failure, act.progress.lastFailure) : null,
    };
    this.failAttempt(ms, act, failure, act.progress.identity, now);
  }

  /**
   * Dispatches a retry attempt once its backoff has passed: the timer due at `dueMs`, unless
   * UpdateActivityOptions moved the attempt later (its own timer dispatches it then).
   */
  async retryDue(ms: MutableState, scheduledEventId: number, attempt: number, dueMs: number): Promise<void> {
    const act = ms.activity(scheduledEventId);
    if (!act || act.progress.attempt !== attempt || act.progress.paused || act.progress.currentAttemptScheduledTimeMs > dueMs) return;
    await this.dispatch(ms, act);
  }

  /** Hands the activity's waiting attempt to matching, on the queue it runs on now. */
  async dispatch(ms: MutableState, act: ActivityInfo): Promise<void> {
    if (!ms.isRunning || act.progress.started) return;
    await this.ctx.matching.addActivityTask(activityTaskFor(ms, act));
  }

  private addStartedEvent(ms: MutableState, act: ActivityInfo, now: number): Long {
    if (!act.progress.started) return toLong(0n);
    const e = ms.addEvent(
      ET.EVENT_TYPE_ACTIVITY_TASK_STARTED,
      {
        activityTaskStartedEventAttributes: {
          scheduledEventId: toLong(BigInt(act.scheduledEventId)),
          identity: act.progress.identity,
          requestId: act.progress.requestId,
          attempt: act.progress.attempt,
          lastFailure: act.progress.lastFailure ? decodeB64(failurev1.Failure, act.progress.lastFailure) : null,
        },
      },
      act.progress.startedTimeMs || now,
    );
    return toLong(BigInt(e.eventId?.toString() ?? '0'));
  }
}
