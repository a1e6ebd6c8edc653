// Workflow tasks handed to workers and their answers: recording a poll's start, the poll
// response with its history page, and a completion's commands and messages applied in order,
// then the activities it asks to run on its own worker started and answered (eager-activities.ts).
import { randomUUID } from 'node:crypto';
import { apiError } from '../common/errors.js';
import { enums, workflowservice as ws, failure as failurev1 } from '../common/temporal.js';
import { optionalDurationMs, timestampFromMs, toLong, toNumber } from '../common/proto-time.js';
import type { AddTaskRequest } from '../matching/api.js';
import type { ExecutionKey } from '../persistence/types.js';
import type { NamespaceRef } from './api.js';
import type { ActivityHandler } from './activity-handler.js';
import { BadCommand, type CommandHandler } from './command-handler.js';
import type { HistoryContext } from './context.js';
import { startEagerActivities } from './eager-activities.js';
import { encodeHistoryPageToken } from './history-page-token.js';
import { startedEventFacts, type MutableState, type SpeculativeWorkflowTask } from './mutable-state.js';
import type { StartedEventFacts, WorkflowTaskInfo } from './state.js';
import { withoutStandbyWait } from './sync-replication.js';
import { decodeWorkflowTaskToken, encodeWorkflowTaskToken, type WorkflowTaskToken } from './task-token.js';
import { workflowTaskStartedTasks } from './task-generator.js';
import type { MessageEffects, UpdateHandler } from './update-handler.js';
import type { WorkflowTaskScheduler } from './workflow-task-scheduler.js';
import { completedVersioning } from './versioning.js';

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

export class WorkflowTaskHandler {
  constructor(
    private readonly ctx: HistoryContext,
    private readonly scheduler: WorkflowTaskScheduler,
    private readonly commands: CommandHandler,
    private readonly updates: UpdateHandler,
    private readonly activities: ActivityHandler,
  ) {}

  async recordStarted(task: AddTaskRequest, poll: ws.IPollWorkflowTaskQueueRequest): Promise<ws.IPollWorkflowTaskQueueResponse> {
    const requestId = randomUUID();
    const ms = await this.ctx.tx.update(task.taskQueue.namespaceId, task.workflowId, task.runId, (ms) => {
      const now = Date.now();
      const spec = ms.speculative;
      if (spec && spec.scheduledEventId === task.scheduledEventId) {
        if (!ms.isRunning || spec.startedEventId > 0) throw workflowTaskNotFound();
        spec.startedEventId = spec.scheduledEventId + 1;
        spec.startedTimeMs = now;
        spec.identity = poll.identity ?? '';
        spec.requestId = requestId;
        spec.startedAs = this.startedFacts(ms);
        this.armSpeculativeTimeout(ms.key, spec);
        return ms;
      }
      const wt = ms.workflowTask;
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
        wt.startedAs = this.startedFacts(ms);
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
            ...startedEventFacts(this.startedFacts(ms)),
          },
        },
        now,
      );
      return ms;
    });
    return this.pollResponse(ms);
  }

  /**
   * What a started event tells the worker, with the reference's test for suggesting continue-as-new,
   * made before the started event is added: the events written so far (a persisted scheduled event
   * included, a transient or speculative one not) and their bytes.
   */
  private startedFacts(ms: MutableState): StartedEventFacts {
    const c = this.ctx.config;
    const events = ms.info.nextEventId - 1;
    const bytes = ms.info.historySizeBytes;
    return { historySizeBytes: bytes, suggestContinueAsNew: events >= c.suggestContinueAsNewHistoryCount || bytes >= c.suggestContinueAsNewHistoryBytes };
  }

  /**
   * A speculative task lives in memory only, so its timeouts do too: not started in time, it
   * becomes a normal task on the normal queue; started but not answered, it times out like any.
   */
  private armSpeculativeTimeout(key: ExecutionKey, spec: SpeculativeWorkflowTask): void {
    const timer = setTimeout(() => {
      withoutStandbyWait(() =>
        this.ctx.tx.update(key.namespaceId, key.workflowId, key.runId, (ms) => {
          if (ms.speculative !== spec || !ms.isRunning) return;
          ms.materializeUnpersistedTask();
          this.scheduler.timedOut(ms, 'startToClose', Date.now());
        }),
      ).catch((err: unknown) => this.ctx.log.debug({ err }, 'speculative workflow task timeout not applied'));
    }, spec.startToCloseMs);
    timer.unref();
  }

  /** The poll response of the run's started workflow task (eager workflow start answers it). */
  startedTaskResponse(ms: MutableState): Promise<ws.IPollWorkflowTaskQueueResponse> {
    return this.pollResponse(ms);
  }

  private async pollResponse(ms: MutableState): Promise<ws.IPollWorkflowTaskQueueResponse> {
    const info = ms.info;
    const spec = ms.speculative;
    const wt = ms.workflowTask ?? spec!;
    const sticky = (ms.workflowTask?.kind ?? spec?.kind) === 2;
    // A sticky worker holds the run in its cache: it only needs what came after its last task.
    const from = sticky && info.lastCompletedWorkflowTaskStartedEventId > 0 ? info.lastCompletedWorkflowTaskStartedEventId + 1 : 1;
    const unpersisted = ms.unpersistedTaskEvents();
    const to = unpersisted.length > 0 ? info.nextEventId : wt.startedEventId + 1;
    const pageSize = this.ctx.config.workflowTaskHistoryPageSize;
    const events = await this.ctx.tx.readEvents(ms, from, to, pageSize);
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
        attempt: ms.workflowTask?.attempt ?? 1,
      }),
      workflowExecution: { workflowId: info.workflowId, runId: info.runId },
      workflowType: { name: info.workflowType },
      previousStartedEventId: toLong(BigInt(info.lastCompletedWorkflowTaskStartedEventId)),
      startedEventId: toLong(BigInt(wt.startedEventId)),
      attempt: ms.workflowTask?.attempt ?? 1,
      history: { events },
      nextPageToken: more ? encodeHistoryPageToken({ runId: info.runId, nextEventId: next }) : null,
      workflowExecutionTaskQueue: { name: info.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      scheduledTime: timestampFromMs(wt.scheduledTimeMs),
      startedTime: timestampFromMs(wt.startedTimeMs),
      messages: this.updates.messagesFor(ms, wt.startedEventId),
    };
  }

  async completed(ns: NamespaceRef, req: ws.IRespondWorkflowTaskCompletedRequest): Promise<ws.IRespondWorkflowTaskCompletedResponse> {
    const token = decodeWorkflowTaskToken(req.taskToken);
    if (!token || token.namespaceId !== ns.id) throw apiError('INVALID_ARGUMENT', 'Invalid TaskToken.');
    let unhandled = false;
    let discardedAt: number | null = null;
    let followUp: AddTaskRequest | null = null;
    let activityTasks: ws.IPollActivityTaskQueueResponse[] = [];
    const effects: MessageEffects = { rejections: [], accepted: [] };
    const commands = req.commands ?? [];
    const messages = req.messages ?? [];
    const key = await this.ctx.tx.update(ns.id, token.workflowId, token.runId, async (ms) => {
      const now = Date.now();
      const spec = ms.speculative;
      if (spec && spec.scheduledEventId === token.scheduledEventId && spec.startedEventId === token.startedEventId) {
        if (commands.length === 0 && this.updates.onlyRejections(messages) && !req.forceCreateNewWorkflowTask) {
          // Nothing changed: the task vanishes and the rejections leave no trace in history.
          ms.speculative = null;
          for (const m of messages) this.updates.applyMessage(ms, m, now, effects);
          discardedAt = ms.info.lastCompletedWorkflowTaskStartedEventId;
          return ms.key;
        }
      }
      const wt = this.taskOf(ms, token);
      if (!wt) throw workflowTaskNotFound();
      const closes = commands.some((c) => closingCommands.has(c.commandType ?? 0));
      if (closes && ms.progress.buffered.length > 0) {
        // New events arrived while the worker decided to close: it must see them first.
        this.scheduler.failTask(ms, wt.scheduledEventId, wt.startedEventId, Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, req.identity ?? '', now, null);
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
            ...completedVersioning(req),
          },
        },
        now,
      );
      const completedId = toNumber(completedEvent.eventId);
      const byId = new Map(messages.map((m) => [m.id ?? '', m]));
      try {
        for (const command of commands) {
          if (!ms.isRunning) throw new BadCommand(Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_BINARY, 'command after a closing command');
          await this.commands.apply(ns, ms, command, completedId, now, byId, effects);
        }
        // Messages no command placed (rejections, or an SDK that sends no protocol commands).
        for (const m of byId.values()) if (ms.isRunning) this.updates.applyMessage(ms, m, now, effects);
      } catch (err) {
        if (!(err instanceof BadCommand)) throw err;
        // The whole completion is refused: drop what the commands produced and fail the task.
        throw Object.assign(apiError('INVALID_ARGUMENT', err.message), { badCommandCause: err.failedCause });
      }
      if (ms.isRunning) {
        const hadBuffered = ms.progress.buffered.length > 0;
        ms.flushBuffered();
        if (hadBuffered || req.forceCreateNewWorkflowTask) this.scheduler.schedule(ms, now);
      }
      activityTasks = startEagerActivities(this.activities, ms, req, ns.name, now);
      return ms.key;
    }).catch(async (err: unknown) => {
      const cause = (err as { badCommandCause?: number }).badCommandCause;
      if (cause === undefined) throw err;
      await this.ctx.tx.update(ns.id, token.workflowId, token.runId, (ms) => {
        const wt = this.taskOf(ms, token);
        if (!wt) return;
        const failure: failurev1.IFailure = { message: (err as Error).message, applicationFailureInfo: { type: 'BadCommand' } };
        this.scheduler.failTask(ms, wt.scheduledEventId, wt.startedEventId, cause, req.identity ?? '', Date.now(), failure);
      });
      throw err;
    });
    this.updates.publish(key, effects);
    if (unhandled) throw apiError('INVALID_ARGUMENT', 'UnhandledCommand');
    // Updates that arrived while this task ran need a task of their own.
    await this.ctx.tx.update(ns.id, key.workflowId, key.runId, (ms) => {
      followUp = this.updates.ensureTask(ms, Date.now());
    });
    await this.updates.dispatch(followUp);
    return discardedAt !== null ? { resetHistoryEventId: toLong(BigInt(discardedAt)) } : { activityTasks };
  }

  async failed(ns: NamespaceRef, req: ws.IRespondWorkflowTaskFailedRequest): Promise<void> {
    const token = decodeWorkflowTaskToken(req.taskToken);
    if (!token || token.namespaceId !== ns.id) throw apiError('INVALID_ARGUMENT', 'Invalid TaskToken.');
    await this.ctx.tx.update(ns.id, token.workflowId, token.runId, (ms) => {
      const wt = this.taskOf(ms, token, { keepTransient: true });
      if (!wt) throw workflowTaskNotFound();
      this.scheduler.failTask(ms, wt.scheduledEventId, wt.startedEventId, req.cause ?? 0, req.identity ?? '', Date.now(), req.failure ?? null);
    });
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
    const current = ms.workflowTask;
    if (!current || current.scheduledEventId !== token.scheduledEventId || current.startedEventId !== token.startedEventId) return undefined;
    if (current.transient && !opts.keepTransient) ms.materializeUnpersistedTask();
    return ms.workflowTask ?? undefined;
  }

  private applySticky(ms: MutableState, req: ws.IRespondWorkflowTaskCompletedRequest): void {
    const sticky = req.stickyAttributes?.workerTaskQueue?.name ?? '';
    ms.progress.stickyTaskQueue = sticky;
    ms.progress.stickyScheduleToStartMs = sticky
      ? optionalDurationMs(req.stickyAttributes?.scheduleToStartTimeout) || this.ctx.config.defaultStickyScheduleToStartMs
      : 0;
  }
}

