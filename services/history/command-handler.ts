// A worker's commands, each turned into events (or refused as a bad command, which fails the
// workflow task with its cause).
import { enums, commandv1, commonv1, protocolv1 } from '../common/temporal.js';
import { randomUUID } from 'node:crypto';
import { isTandemError } from '../common/errors.js';
import { durationFromMs, msFromDuration, optionalDurationMs, toLong, toNumber } from '../common/proto-time.js';
import { priorityProblem } from '../matching/priority.js';
import { mergeSearchAttributes, validateSearchAttributes } from '../namespaces/search-attributes.js';
import type { NamespaceRef } from './api.js';
import type { HistoryContext } from './context.js';
import type { MutableState } from './mutable-state.js';
import { decodeB64 } from './payload-codec.js';
import { workflowTaskTimeoutMs, type RunStarter, type StartParams } from './run-starter.js';
import { retryPolicyWithDefaults } from './retry-policy.js';
import { normalizeTimeouts } from './activity-options.js';
import type { MessageEffects, UpdateHandler } from './update-handler.js';

const ET = enums.EventType;
const CT = enums.CommandType;
const Cause = enums.WorkflowTaskFailedCause;

/** A command the server refuses: the workflow task fails with this cause. */
export class BadCommand extends Error {
  constructor(
    readonly failedCause: number,
    message: string,
  ) {
    super(message);
  }
}

export class CommandHandler {
  constructor(
    private readonly ctx: HistoryContext,
    private readonly starter: RunStarter,
    private readonly updates: UpdateHandler,
  ) {}

  async apply(
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
        checkPriority(a.priority, Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES);
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
              heartbeatTimeout: durationFromMs(t.heartbeatTimeoutMs),
              workflowTaskCompletedEventId: wftId,
              retryPolicy: retryPolicyWithDefaults(a.retryPolicy),
              useWorkflowBuildId: a.useWorkflowBuildId,
              priority: a.priority,
            },
            userMetadata: c.userMetadata,
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
        if (!act.progress.started) {
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
          {
            timerStartedEventAttributes: { timerId: a.timerId, startToFireTimeout: a.startToFireTimeout, workflowTaskCompletedEventId: wftId },
            userMetadata: c.userMetadata,
          },
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
        const held = ms.info.searchAttributes ? decodeB64(commonv1.SearchAttributes, ms.info.searchAttributes) : null;
        await this.checkSearchAttributes(ns.id, a.searchAttributes, mergeSearchAttributes(held, a.searchAttributes));
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
        const cron = await this.starter.nextRunParams(ms, 'cron', now, null, a.result ?? null);
        const next = cron ? this.starter.newRunAfter(ms, cron, now) : null;
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
        const retry = await this.starter.nextRunParams(ms, 'retry', now, a.failure ?? null, null);
        const params = retry ?? (await this.starter.nextRunParams(ms, 'cron', now, a.failure ?? null, null));
        const next = params ? this.starter.newRunAfter(ms, params, now) : null;
        ms.addEvent(
          ET.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
          {
            workflowExecutionFailedEventAttributes: {
              failure: a.failure,
              // A cron run that follows a failure is no retry: the event tells why the policy stopped.
              retryState: retry ? enums.RetryState.RETRY_STATE_IN_PROGRESS : this.starter.retryDecision(ms, a.failure ?? null, now).retryState,
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
        await this.checkSearchAttributes(ns.id, a.searchAttributes);
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
          // Unset on the command: the new run keeps this one's, as the reference server does.
          memo: a.memo ?? (ms.info.memo ? decodeB64(commonv1.Memo, ms.info.memo) : null),
          searchAttributes: a.searchAttributes ?? (ms.info.searchAttributes ? decodeB64(commonv1.SearchAttributes, ms.info.searchAttributes) : null),
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
          priority: ms.info.priority,
        };
        const next = this.starter.newRunAfter(ms, params, now);
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
        checkPriority(a.priority, Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES);
        const target = a.namespace ? await this.ctx.namespaces.requireByName(a.namespace) : null;
        await this.checkSearchAttributes(target?.id ?? ns.id, a.searchAttributes);
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
              ...childTimeouts(a),
              parentClosePolicy: a.parentClosePolicy || enums.ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE,
              control: a.control,
              workflowTaskCompletedEventId: wftId,
              workflowIdReusePolicy: a.workflowIdReusePolicy || enums.WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
              retryPolicy: a.retryPolicy ? retryPolicyWithDefaults(a.retryPolicy) : null,
              inheritBuildId: a.inheritBuildId,
              cronSchedule: a.cronSchedule,
              header: a.header,
              memo: a.memo,
              searchAttributes: a.searchAttributes,
              priority: a.priority,
            },
            userMetadata: c.userMetadata,
          },
          now,
        );
        return;
      }
      case CT.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION: {
        const a = required(c.signalExternalWorkflowExecutionCommandAttributes, 'SignalExternalWorkflowExecutionCommandAttributes');
        const target = a.namespace ? await this.ctx.namespaces.requireByName(a.namespace) : null;
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
        const target = a.namespace ? await this.ctx.namespaces.requireByName(a.namespace) : null;
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
        this.updates.applyMessage(ms, m, now, effects);
        return;
      }
      default:
        throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED, `Unknown command type ${c.commandType}.`);
    }
  }

  /** Search attributes a command sets, checked against the namespace they go to: a bad one fails the task. */
  private async checkSearchAttributes(
    namespaceId: string,
    sa: commonv1.ISearchAttributes | null | undefined,
    merged?: commonv1.ISearchAttributes,
  ): Promise<void> {
    try {
      validateSearchAttributes(await this.ctx.namespaces.requireById(namespaceId), sa, merged);
    } catch (err) {
      if (isTandemError(err, 'INVALID_ARGUMENT')) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, err.message);
      throw err;
    }
  }
}

/** A command's priority the reference refuses, with the command's own cause. */
function checkPriority(p: commonv1.IPriority | null | undefined, cause: number): void {
  const problem = priorityProblem(p);
  if (problem) throw new BadCommand(cause, problem);
}

function required<T>(attrs: T | null | undefined, name: string): T {
  if (!attrs) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED, `${name} is not set on command.`);
  return attrs;
}

/** A command's activity timeouts, normalized as Temporal does (activity-options.ts). */
function activityTimeouts(a: commandv1.IScheduleActivityTaskCommandAttributes, runTimeoutMs: number) {
  const t = normalizeTimeouts(
    {
      scheduleToCloseMs: optionalDurationMs(a.scheduleToCloseTimeout),
      startToCloseMs: optionalDurationMs(a.startToCloseTimeout),
      scheduleToStartMs: optionalDurationMs(a.scheduleToStartTimeout),
      heartbeatTimeoutMs: optionalDurationMs(a.heartbeatTimeout),
    },
    runTimeoutMs,
  );
  if (!t) {
    throw new BadCommand(
      Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
      'A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.',
    );
  }
  return t;
}

/** Activities retry by default (Temporal's default policy); the worker may narrow it. */

/**
 * A child's run and task timeouts as the reference records them on the initiated event: the run
 * timeout defaults to the execution timeout (an explicit zero when neither is set), the task
 * timeout to 10 s, never longer than the run timeout.
 */
function childTimeouts(
  a: commandv1.IStartChildWorkflowExecutionCommandAttributes,
): Pick<commandv1.IStartChildWorkflowExecutionCommandAttributes, 'workflowRunTimeout' | 'workflowTaskTimeout'> {
  const runMs = optionalDurationMs(a.workflowRunTimeout) || optionalDurationMs(a.workflowExecutionTimeout) || 0;
  return { workflowRunTimeout: runMs ? durationFromMs(runMs) : {}, workflowTaskTimeout: durationFromMs(workflowTaskTimeoutMs(a.workflowTaskTimeout, runMs)) };
}
