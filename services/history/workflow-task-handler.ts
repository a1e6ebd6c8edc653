// Workflow tasks: scheduling, handing one to a poller, and turning a worker's commands into events.
import { randomUUID } from 'node:crypto';
import { apiError } from '../common/errors.js';
import { enums, commandv1, workflowservice as ws, failure as failurev1, commonv1, protocolv1 } from '../common/temporal.js';
import { durationFromMs, msFromDuration, optionalDurationMs, timestampFromMs, toLong, toNumber } from '../common/proto-time.js';
import type { AddTaskRequest } from '../matching/api.js';
import type { NamespaceRef } from './api.js';
import { encodeHistoryPageToken, type HistoryEngine, type StartParams } from './engine.js';
import type { MutableState, SpeculativeWorkflowTask, WorkflowTaskInfo } from './mutable-state.js';
import type { ExecutionKey } from '../persistence/types.js';
import type { MessageEffects } from './update-handler.js';
import { decodeWorkflowTaskToken, encodeWorkflowTaskToken, type WorkflowTaskToken } from './task-token.js';
import { workflowTaskScheduledTasks, workflowTaskStartedTasks } from './task-generator.js';

const ET = enums.EventType;
const CT = enums.CommandType;
const Cause = enums.WorkflowTaskFailedCause;

/** The error a worker gets when the task it answers no longer exists (it simply drops the task). */
const workflowTaskNotFound = () => apiError('TASK_NOT_FOUND', 'Workflow task not found.');

const closingCommands = new Set<number>([
  CT.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
  CT.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
  CT.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
  CT.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
]);

class BadCommand extends Error {
  constructor(
    readonly failedCause: number,
    message: string,
  ) {
    super(message);
  }
}

export class WorkflowTaskHandler {
  constructor(private readonly engine: HistoryEngine) {}

  /**
   * Schedules a workflow task on the sticky queue when one is set, else the normal one. The first
   * attempt is a WorkflowTaskScheduled event; a retry is transient (no event until it completes).
   */
  schedule(ms: MutableState, now: number, attempt = 1): void {
    const sticky = ms.info.stickyTaskQueue;
    if (attempt > 1) {
      ms.info.workflowTask = {
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

  async recordStarted(task: AddTaskRequest, poll: ws.IPollWorkflowTaskQueueRequest): Promise<ws.IPollWorkflowTaskQueueResponse> {
    const requestId = randomUUID();
    const ms = await this.engine.withRun(task.taskQueue.namespaceId, task.workflowId, task.runId, (ms) => {
      const now = Date.now();
      const spec = ms.speculative;
      if (spec && spec.scheduledEventId === task.scheduledEventId) {
        if (!ms.isRunning || spec.startedEventId > 0) throw workflowTaskNotFound();
        spec.startedEventId = spec.scheduledEventId + 1;
        spec.startedTimeMs = now;
        spec.identity = poll.identity ?? '';
        spec.requestId = requestId;
        this.armSpeculativeTimeout(ms.key, spec);
        return ms;
      }
      const wt = ms.info.workflowTask;
      if (!ms.isRunning || !wt || wt.scheduledEventId !== task.scheduledEventId || wt.startedEventId > 0) {
        throw workflowTaskNotFound();
      }
      // A task that waited on a sticky queue the run no longer uses is stale.
      if ((task.taskQueue.kind === 2) !== (wt.kind === 2)) throw workflowTaskNotFound();
      if (wt.transient) {
        wt.startedEventId = wt.scheduledEventId + 1;
        wt.startedTimeMs = now;
        wt.requestId = requestId;
        wt.identity = poll.identity ?? '';
        ms.dirty = true;
        for (const t of workflowTaskStartedTasks(ms)) ms.addTask(t);
        return ms;
      }
      ms.addEvent(
        ET.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        {
          workflowTaskStartedEventAttributes: {
            scheduledEventId: toLong(BigInt(wt.scheduledEventId)),
            identity: poll.identity ?? '',
            requestId,
            historySizeBytes: toLong(BigInt(ms.info.historySizeBytes)),
          },
        },
        now,
      );
      return ms;
    });
    return this.pollResponse(ms);
  }

  /**
   * A speculative task lives in memory only, so its timeouts do too: not started in time, it
   * becomes a normal task on the normal queue; started but not answered, it times out like any.
   */
  private armSpeculativeTimeout(key: ExecutionKey, spec: SpeculativeWorkflowTask): void {
    const timer = setTimeout(() => {
      this.engine
        .withRun(key.namespaceId, key.workflowId, key.runId, (ms) => {
          if (ms.speculative !== spec || !ms.isRunning) return;
          ms.materializeUnpersistedTask();
          this.timedOut(ms, 'startToClose', Date.now());
        })
        .catch((err: unknown) => this.engine.log.debug({ err }, 'speculative workflow task timeout not applied'));
    }, spec.startToCloseMs);
    timer.unref();
  }

  private async pollResponse(ms: MutableState): Promise<ws.IPollWorkflowTaskQueueResponse> {
    const info = ms.info;
    const spec = ms.speculative;
    const wt = info.workflowTask ?? spec!;
    const sticky = (info.workflowTask?.kind ?? spec?.kind) === 2;
    const shard = this.engine.shardFor(info.namespaceId, info.workflowId);
    // A sticky worker holds the run in its cache: it only needs what came after its last task.
    const from = sticky && info.lastCompletedWorkflowTaskStartedEventId > 0 ? info.lastCompletedWorkflowTaskStartedEventId + 1 : 1;
    const unpersisted = ms.unpersistedTaskEvents();
    const to = unpersisted.length > 0 ? info.nextEventId : wt.startedEventId + 1;
    const pageSize = this.engine.config.workflowTaskHistoryPageSize;
    const events = await shard.readEvents(ms.key, info.branchId, from, to, pageSize);
    const next = from + events.length;
    const more = next < to;
    if (!more) events.push(...unpersisted);
    return {
      taskToken: encodeWorkflowTaskToken({
        namespaceId: info.namespaceId,
        workflowId: info.workflowId,
        runId: info.runId,
        scheduledEventId: wt.scheduledEventId,
        startedEventId: wt.startedEventId,
        attempt: info.workflowTask?.attempt ?? 1,
      }),
      workflowExecution: { workflowId: info.workflowId, runId: info.runId },
      workflowType: { name: info.workflowType },
      previousStartedEventId: toLong(BigInt(info.lastCompletedWorkflowTaskStartedEventId)),
      startedEventId: toLong(BigInt(wt.startedEventId)),
      attempt: info.workflowTask?.attempt ?? 1,
      history: { events },
      nextPageToken: more ? encodeHistoryPageToken({ runId: info.runId, nextEventId: next }) : null,
      workflowExecutionTaskQueue: { name: info.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      scheduledTime: timestampFromMs(wt.scheduledTimeMs),
      startedTime: timestampFromMs(wt.startedTimeMs),
      messages: this.engine.updates.messagesFor(ms, wt.startedEventId),
    };
  }

  async completed(ns: NamespaceRef, req: ws.IRespondWorkflowTaskCompletedRequest): Promise<ws.IRespondWorkflowTaskCompletedResponse> {
    const token = decodeWorkflowTaskToken(req.taskToken);
    if (!token || token.namespaceId !== ns.id) throw apiError('INVALID_ARGUMENT', 'Invalid TaskToken.');
    let unhandled = false;
    let discardedAt: number | null = null;
    let followUp: AddTaskRequest | null = null;
    const effects: MessageEffects = { rejections: [], accepted: [] };
    const commands = req.commands ?? [];
    const messages = req.messages ?? [];
    const key = await this.engine.withRun(ns.id, token.workflowId, token.runId, async (ms) => {
      const now = Date.now();
      const spec = ms.speculative;
      if (spec && spec.scheduledEventId === token.scheduledEventId && spec.startedEventId === token.startedEventId) {
        if (commands.length === 0 && this.engine.updates.onlyRejections(messages) && !req.forceCreateNewWorkflowTask) {
          // Nothing changed: the task vanishes and the rejections leave no trace in history.
          ms.speculative = null;
          for (const m of messages) this.engine.updates.applyMessage(ms, m, now, effects);
          discardedAt = ms.info.lastCompletedWorkflowTaskStartedEventId;
          return ms.key;
        }
      }
      const wt = this.taskOf(ms, token);
      if (!wt) throw workflowTaskNotFound();
      const closes = commands.some((c) => closingCommands.has(c.commandType ?? 0));
      if (closes && ms.data.buffered.length > 0) {
        // New events arrived while the worker decided to close: it must see them first.
        this.failTask(ms, wt.scheduledEventId, wt.startedEventId, Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, req.identity ?? '', now, null);
        unhandled = true;
        return ms.key;
      }
      this.applySticky(ms, req);
      const completedEvent = ms.addEvent(
        ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        {
          workflowTaskCompletedEventAttributes: {
            scheduledEventId: toLong(BigInt(wt.scheduledEventId)),
            startedEventId: toLong(BigInt(wt.startedEventId)),
            identity: req.identity ?? '',
            binaryChecksum: req.binaryChecksum ?? '',
            workerVersion: req.workerVersionStamp,
            sdkMetadata: req.sdkMetadata,
            meteringMetadata: req.meteringMetadata,
          },
        },
        now,
      );
      const completedId = toNumber(completedEvent.eventId);
      const byId = new Map(messages.map((m) => [m.id ?? '', m]));
      try {
        for (const command of commands) {
          if (!ms.isRunning) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_BINARY, 'command after a closing command');
          await this.applyCommand(ns, ms, command, completedId, now, byId, effects);
        }
        // Messages no command placed (rejections, or an SDK that sends no protocol commands).
        for (const m of byId.values()) if (ms.isRunning) this.engine.updates.applyMessage(ms, m, now, effects);
      } catch (err) {
        if (!(err instanceof BadCommand)) throw err;
        // The whole completion is refused: drop what the commands produced and fail the task.
        throw Object.assign(apiError('INVALID_ARGUMENT', err.message), { badCommandCause: err.failedCause });
      }
      if (ms.isRunning) {
        const hadBuffered = ms.data.buffered.length > 0;
        ms.flushBuffered();
        if (hadBuffered || req.forceCreateNewWorkflowTask) this.schedule(ms, now);
      }
      return ms.key;
    }).catch(async (err: unknown) => {
      const cause = (err as { badCommandCause?: number }).badCommandCause;
      if (cause === undefined) throw err;
      await this.engine.withRun(ns.id, token.workflowId, token.runId, (ms) => {
        const wt = this.taskOf(ms, token);
        if (!wt) return;
        const failure: failurev1.IFailure = { message: (err as Error).message, applicationFailureInfo: { type: 'BadCommand' } };
        this.failTask(ms, wt.scheduledEventId, wt.startedEventId, cause, req.identity ?? '', Date.now(), failure);
      });
      throw err;
    });
    this.engine.updates.publish(key, effects);
    if (unhandled) throw apiError('INVALID_ARGUMENT', 'UnhandledCommand');
    // Updates that arrived while this task ran need a task of their own.
    await this.engine.withRun(ns.id, key.workflowId, key.runId, (ms) => {
      followUp = this.engine.updates.ensureTask(ms, Date.now());
    });
    await this.engine.updates.dispatch(followUp);
    return discardedAt !== null ? { resetHistoryEventId: toLong(BigInt(discardedAt)) } : {};
  }

  async failed(ns: NamespaceRef, req: ws.IRespondWorkflowTaskFailedRequest): Promise<void> {
    const token = decodeWorkflowTaskToken(req.taskToken);
    if (!token || token.namespaceId !== ns.id) throw apiError('INVALID_ARGUMENT', 'Invalid TaskToken.');
    await this.engine.withRun(ns.id, token.workflowId, token.runId, (ms) => {
      const wt = this.taskOf(ms, token, { keepTransient: true });
      if (!wt) throw workflowTaskNotFound();
      this.failTask(ms, wt.scheduledEventId, wt.startedEventId, req.cause ?? 0, req.identity ?? '', Date.now(), req.failure ?? null);
    });
  }

  /** Records a failed task, gives buffered events their ids and schedules the next attempt on the normal queue. */
  failTask(ms: MutableState, scheduledEventId: number, startedEventId: number, cause: number, identity: string, now: number, failure: failurev1.IFailure | null): void {
    const attempt = ms.info.workflowTask?.attempt ?? 1;
    if (ms.info.workflowTask?.transient) {
      // The failure of attempt 1 is in history already; later attempts leave no events.
      ms.info.workflowTask = null;
      ms.info.stickyTaskQueue = '';
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
    ms.info.stickyTaskQueue = '';
    ms.flushBuffered();
    this.schedule(ms, now, cause === Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND ? 1 : attempt + 1);
  }

  /** A workflow task that was not answered in time: the next attempt goes to the normal queue. */
  timedOut(ms: MutableState, timeoutType: 'startToClose' | 'scheduleToStart', now: number): void {
    const wt = ms.info.workflowTask!;
    if (wt.transient) {
      ms.info.workflowTask = null;
      ms.info.stickyTaskQueue = '';
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
    ms.info.stickyTaskQueue = '';
    ms.flushBuffered();
    this.schedule(ms, now, timeoutType === 'startToClose' ? wt.attempt + 1 : wt.attempt);
  }

  /**
   * The started task a worker's token names, or undefined when it is stale. A speculative or
   * transient task gets its events written first (unless the caller only fails it again).
   */
  private taskOf(ms: MutableState, token: WorkflowTaskToken, opts: { keepTransient?: boolean } = {}): WorkflowTaskInfo | undefined {
    if (!ms.isRunning) return undefined;
    const spec = ms.speculative;
    if (spec && spec.scheduledEventId === token.scheduledEventId && spec.startedEventId === token.startedEventId) {
      ms.materializeUnpersistedTask();
    }
    const current = ms.info.workflowTask;
    if (!current || current.scheduledEventId !== token.scheduledEventId || current.startedEventId !== token.startedEventId) return undefined;
    if (current.transient && !opts.keepTransient) ms.materializeUnpersistedTask();
    return ms.info.workflowTask ?? undefined;
  }

  private applySticky(ms: MutableState, req: ws.IRespondWorkflowTaskCompletedRequest): void {
    const sticky = req.stickyAttributes?.workerTaskQueue?.name ?? '';
    ms.info.stickyTaskQueue = sticky;
    ms.info.stickyScheduleToStartMs = sticky
      ? optionalDurationMs(req.stickyAttributes?.scheduleToStartTimeout) || this.engine.config.defaultStickyScheduleToStartMs
      : 0;
  }

  private async applyCommand(
    ns: NamespaceRef,
    ms: MutableState,
    c: commandv1.ICommand,
    completedId: number,
    now: number,
    messages: Map<string, protocolv1.IMessage>,
    effects: MessageEffects,
  ): Promise<void> {
    const wftId = toLong(BigInt(completedId));
    switch (c.commandType) {
      case CT.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK: {
        const a = required(c.scheduleActivityTaskCommandAttributes, 'ScheduleActivityTaskCommandAttributes');
        if (!a.activityId) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, 'ActivityId is not set.');
        if (!a.activityType?.name) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, 'ActivityType is not set.');
        if (ms.activityById(a.activityId)) {
          throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, `Activity with id ${a.activityId} already exists.`);
        }
        const t = activityTimeouts(a, ms.info.runTimeoutMs);
        ms.addEvent(
          ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
          {
            activityTaskScheduledEventAttributes: {
              activityId: a.activityId,
              activityType: a.activityType,
              taskQueue: { name: a.taskQueue?.name || ms.info.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
              header: a.header,
              input: a.input,
              scheduleToCloseTimeout: durationFromMs(t.scheduleToCloseMs),
              scheduleToStartTimeout: durationFromMs(t.scheduleToStartMs),
              startToCloseTimeout: durationFromMs(t.startToCloseMs),
              heartbeatTimeout: durationFromMs(t.heartbeatMs),
              workflowTaskCompletedEventId: wftId,
              retryPolicy: activityRetryPolicy(a.retryPolicy),
              priority: a.priority,
            },
          },
          now,
        );
        return;
      }
      case CT.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK: {
        const a = required(c.requestCancelActivityTaskCommandAttributes, 'RequestCancelActivityTaskCommandAttributes');
        const scheduledEventId = toNumber(a.scheduledEventId);
        const act = ms.activity(scheduledEventId);
        if (!act) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES, `Activity ${scheduledEventId} is not pending.`);
        const requested = ms.addEvent(
          ET.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
          { activityTaskCancelRequestedEventAttributes: { scheduledEventId: a.scheduledEventId, workflowTaskCompletedEventId: wftId } },
          now,
        );
        // An activity no worker holds yet is canceled at once; a started one learns it by heartbeat.
        if (!act.started) {
          ms.addEvent(
            ET.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
            {
              activityTaskCanceledEventAttributes: {
                scheduledEventId: a.scheduledEventId,
                latestCancelRequestedEventId: requested.eventId,
                identity: 'history-service',
              },
            },
            now,
          );
        }
        return;
      }
      case CT.COMMAND_TYPE_START_TIMER: {
        const a = required(c.startTimerCommandAttributes, 'StartTimerCommandAttributes');
        if (!a.timerId) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES, 'TimerId is not set.');
        if (ms.timer(a.timerId)) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID, `Timer ${a.timerId} already exists.`);
        if (msFromDuration(a.startToFireTimeout) <= 0) {
          throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES, 'A valid StartToFireTimeout is not set on command.');
        }
        ms.addEvent(
          ET.EVENT_TYPE_TIMER_STARTED,
          { timerStartedEventAttributes: { timerId: a.timerId, startToFireTimeout: a.startToFireTimeout, workflowTaskCompletedEventId: wftId } },
          now,
        );
        return;
      }
      case CT.COMMAND_TYPE_CANCEL_TIMER: {
        const a = required(c.cancelTimerCommandAttributes, 'CancelTimerCommandAttributes');
        const timer = ms.timer(a.timerId ?? '');
        if (!timer) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES, `Timer ${a.timerId} is not pending.`);
        ms.addEvent(
          ET.EVENT_TYPE_TIMER_CANCELED,
          {
            timerCanceledEventAttributes: {
              timerId: a.timerId,
              startedEventId: toLong(BigInt(timer.startedEventId)),
              workflowTaskCompletedEventId: wftId,
              identity: 'history-service',
            },
          },
          now,
        );
        return;
      }
      case CT.COMMAND_TYPE_RECORD_MARKER: {
        const a = required(c.recordMarkerCommandAttributes, 'RecordMarkerCommandAttributes');
        ms.addEvent(
          ET.EVENT_TYPE_MARKER_RECORDED,
          {
            markerRecordedEventAttributes: {
              markerName: a.markerName,
              details: a.details,
              header: a.header,
              failure: a.failure,
              workflowTaskCompletedEventId: wftId,
            },
          },
          now,
        );
        return;
      }
      case CT.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const a = required(c.upsertWorkflowSearchAttributesCommandAttributes, 'UpsertWorkflowSearchAttributesCommandAttributes');
        ms.addEvent(
          ET.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
          { upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: a.searchAttributes, workflowTaskCompletedEventId: wftId } },
          now,
        );
        return;
      }
      case CT.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES: {
        const a = required(c.modifyWorkflowPropertiesCommandAttributes, 'ModifyWorkflowPropertiesCommandAttributes');
        ms.addEvent(
          ET.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
          { workflowPropertiesModifiedEventAttributes: { upsertedMemo: a.upsertedMemo, workflowTaskCompletedEventId: wftId } },
          now,
        );
        return;
      }
      case CT.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION: {
        const a = c.completeWorkflowExecutionCommandAttributes ?? {};
        const cron = await this.engine.nextRunParams(ms, 'cron', now, null, a.result ?? null);
        const next = cron ? this.engine.newRunAfter(ms, cron, now) : null;
        ms.addEvent(
          ET.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
          {
            workflowExecutionCompletedEventAttributes: {
              result: a.result,
              workflowTaskCompletedEventId: wftId,
              newExecutionRunId: next?.info.runId ?? '',
            },
          },
          now,
        );
        if (next) ms.setNewRun(next);
        return;
      }
      case CT.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION: {
        const a = c.failWorkflowExecutionCommandAttributes ?? {};
        const retry =
          (await this.engine.nextRunParams(ms, 'retry', now, a.failure ?? null, null)) ??
          (await this.engine.nextRunParams(ms, 'cron', now, a.failure ?? null, null));
        const next = retry ? this.engine.newRunAfter(ms, retry, now) : null;
        ms.addEvent(
          ET.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
          {
            workflowExecutionFailedEventAttributes: {
              failure: a.failure,
              retryState: next ? enums.RetryState.RETRY_STATE_IN_PROGRESS : enums.RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET,
              workflowTaskCompletedEventId: wftId,
              newExecutionRunId: next?.info.runId ?? '',
            },
          },
          now,
        );
        if (next) ms.setNewRun(next);
        return;
      }
      case CT.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION: {
        const a = c.cancelWorkflowExecutionCommandAttributes ?? {};
        ms.addEvent(
          ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
          { workflowExecutionCanceledEventAttributes: { details: a.details, workflowTaskCompletedEventId: wftId } },
          now,
        );
        return;
      }
      case CT.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION: {
        const a = required(c.continueAsNewWorkflowExecutionCommandAttributes, 'ContinueAsNewWorkflowExecutionCommandAttributes');
        const params: StartParams = {
          requestId: randomUUID(),
          workflowId: ms.info.workflowId,
          workflowType: a.workflowType?.name || ms.info.workflowType,
          taskQueue: a.taskQueue?.name || ms.info.taskQueue,
          input: a.input,
          header: a.header,
          workflowExecutionTimeoutMs: ms.info.executionTimeoutMs,
          workflowRunTimeoutMs: optionalDurationMs(a.workflowRunTimeout) || ms.info.runTimeoutMs,
          workflowTaskTimeoutMs: optionalDurationMs(a.workflowTaskTimeout) || ms.info.workflowTaskTimeoutMs,
          identity: 'history-service',
          retryPolicy: a.retryPolicy,
          cronSchedule: a.cronSchedule ?? ms.info.cronSchedule,
          memo: a.memo,
          searchAttributes: a.searchAttributes,
          firstWorkflowTaskBackoffMs: optionalDurationMs(a.backoffStartInterval),
          continued: {
            previousRunId: ms.info.runId,
            firstRunId: ms.info.firstRunId,
            attempt: 1,
            initiator: a.initiator || enums.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW,
            failure: a.failure,
            lastCompletionResult: a.lastCompletionResult,
            executionExpirationTimeMs: ms.info.executionExpirationTimeMs,
          },
          parent: ms.info.parent ?? undefined,
        };
        const next = this.engine.newRunAfter(ms, params, now);
        ms.addEvent(
          ET.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
          {
            workflowExecutionContinuedAsNewEventAttributes: {
              newExecutionRunId: next.info.runId,
              workflowType: { name: params.workflowType },
              taskQueue: { name: params.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
              input: a.input,
              workflowRunTimeout: params.workflowRunTimeoutMs ? durationFromMs(params.workflowRunTimeoutMs) : null,
              workflowTaskTimeout: durationFromMs(params.workflowTaskTimeoutMs),
              workflowTaskCompletedEventId: wftId,
              backoffStartInterval: a.backoffStartInterval,
              initiator: params.continued!.initiator,
              failure: a.failure,
              lastCompletionResult: a.lastCompletionResult,
              header: a.header,
              memo: a.memo,
              searchAttributes: a.searchAttributes,
            },
          },
          now,
        );
        ms.setNewRun(next);
        return;
      }
      case CT.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION: {
        const a = required(c.startChildWorkflowExecutionCommandAttributes, 'StartChildWorkflowExecutionCommandAttributes');
        if (!a.workflowId || !a.workflowType?.name) {
          throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES, 'WorkflowId and WorkflowType are required.');
        }
        const target = a.namespace ? await this.engine.namespaces.requireByName(a.namespace) : null;
        ms.addEvent(
          ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
          {
            startChildWorkflowExecutionInitiatedEventAttributes: {
              namespace: target?.name ?? ns.name,
              namespaceId: target?.id ?? ns.id,
              workflowId: a.workflowId,
              workflowType: a.workflowType,
              taskQueue: { name: a.taskQueue?.name || ms.info.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
              input: a.input,
              workflowExecutionTimeout: a.workflowExecutionTimeout,
              workflowRunTimeout: a.workflowRunTimeout,
              workflowTaskTimeout: a.workflowTaskTimeout,
              parentClosePolicy: a.parentClosePolicy || enums.ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE,
              control: a.control,
              workflowTaskCompletedEventId: wftId,
              workflowIdReusePolicy: a.workflowIdReusePolicy,
              retryPolicy: a.retryPolicy,
              cronSchedule: a.cronSchedule,
              header: a.header,
              memo: a.memo,
              searchAttributes: a.searchAttributes,
            },
          },
          now,
        );
        return;
      }
      case CT.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION: {
        const a = required(c.signalExternalWorkflowExecutionCommandAttributes, 'SignalExternalWorkflowExecutionCommandAttributes');
        const target = a.namespace ? await this.engine.namespaces.requireByName(a.namespace) : null;
        ms.addEvent(
          ET.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
          {
            signalExternalWorkflowExecutionInitiatedEventAttributes: {
              workflowTaskCompletedEventId: wftId,
              namespace: target?.name ?? ns.name,
              namespaceId: target?.id ?? ns.id,
              workflowExecution: a.execution,
              signalName: a.signalName,
              input: a.input,
              control: a.control,
              childWorkflowOnly: a.childWorkflowOnly,
              header: a.header,
            },
          },
          now,
        );
        return;
      }
      case CT.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION: {
        const a = required(c.requestCancelExternalWorkflowExecutionCommandAttributes, 'RequestCancelExternalWorkflowExecutionCommandAttributes');
        const target = a.namespace ? await this.engine.namespaces.requireByName(a.namespace) : null;
        ms.addEvent(
          ET.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
          {
            requestCancelExternalWorkflowExecutionInitiatedEventAttributes: {
              workflowTaskCompletedEventId: wftId,
              namespace: target?.name ?? ns.name,
              namespaceId: target?.id ?? ns.id,
              workflowExecution: { workflowId: a.workflowId, runId: a.runId },
              control: a.control,
              childWorkflowOnly: a.childWorkflowOnly,
              reason: a.reason,
            },
          },
          now,
        );
        return;
      }
      case CT.COMMAND_TYPE_PROTOCOL_MESSAGE: {
        const id = c.protocolMessageCommandAttributes?.messageId ?? '';
        const m = messages.get(id);
        if (!m) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE, `Protocol message ${id} is not in the completion.`);
        messages.delete(id);
        this.engine.updates.applyMessage(ms, m, now, effects);
        return;
      }
      default:
        throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED, `Unknown command type ${c.commandType}.`);
    }
  }
}

function required<T>(attrs: T | null | undefined, name: string): T {
  if (!attrs) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED, `${name} is not set on command.`);
  return attrs;
}

/** Temporal's activity timeout rules: fill the unset ones from the others, cap by the run timeout. */
function activityTimeouts(a: commandv1.IScheduleActivityTaskCommandAttributes, runTimeoutMs: number) {
  let scheduleToCloseMs = optionalDurationMs(a.scheduleToCloseTimeout);
  let startToCloseMs = optionalDurationMs(a.startToCloseTimeout);
  let scheduleToStartMs = optionalDurationMs(a.scheduleToStartTimeout);
  let heartbeatMs = optionalDurationMs(a.heartbeatTimeout);
  if (runTimeoutMs > 0) {
    if (scheduleToCloseMs === 0 || scheduleToCloseMs > runTimeoutMs) scheduleToCloseMs = runTimeoutMs;
  }
  if (scheduleToCloseMs === 0 && startToCloseMs === 0) {
    throw new BadCommand(
      Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
      'A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.',
    );
  }
  if (startToCloseMs === 0) startToCloseMs = scheduleToCloseMs;
  if (scheduleToCloseMs > 0) {
    if (scheduleToStartMs === 0 || scheduleToStartMs > scheduleToCloseMs) scheduleToStartMs = scheduleToCloseMs;
    if (startToCloseMs > scheduleToCloseMs) startToCloseMs = scheduleToCloseMs;
  }
  if (heartbeatMs > startToCloseMs) heartbeatMs = startToCloseMs;
  return { scheduleToCloseMs, startToCloseMs, scheduleToStartMs, heartbeatMs };
}

/** Activities retry by default (Temporal's default policy); the worker may narrow it. */
function activityRetryPolicy(p: commonv1.IRetryPolicy | null | undefined): commonv1.IRetryPolicy {
  const initial = optionalDurationMs(p?.initialInterval) || 1000;
  return {
    initialInterval: durationFromMs(initial),
    backoffCoefficient: p?.backoffCoefficient && p.backoffCoefficient >= 1 ? p.backoffCoefficient : 2,
    maximumInterval: durationFromMs(optionalDurationMs(p?.maximumInterval) || initial * 100),
    maximumAttempts: p?.maximumAttempts ?? 0,
    nonRetryableErrorTypes: p?.nonRetryableErrorTypes ?? [],
  };
}

