// The internal worker of scheduler runs (a schedule is a workflow of its namespace, as in the
// reference server). Their workflow tasks never reach matching: where the task executor would hand
// one over, this takes it through the same start and completion paths a worker's poll and
// RespondWorkflowTaskCompleted take, so every decision is an ordinary event that replicates, and a
// passive region (whose workflow tasks are parked) never fires a schedule.
import { isTandemError } from '../common/errors.js';
import { enums, type commandv1, type commonv1, type historyv1, type workflowservice as ws } from '../common/temporal.js';
import { durationFromMs } from '../common/proto-time.js';
import { compileScheduleSpec, type CompiledSpec } from '../schedules/schedule-spec.js';
import { plan, recordStarted, startFailed, wakeAtMs, type ClosedAction, type PlannedStart } from '../schedules/scheduler.js';
import { bookkeepingOf, foldSchedulerState, pausedOf, PAUSED_SEARCH_ATTRIBUTE, type SchedulerState } from '../schedules/scheduler-state.js';
import {
  BOOKKEEPING_MARKER,
  SCHEDULER_SEARCH_ATTRIBUTES,
  SCHEDULER_TASK_QUEUE,
  SCHEDULER_WORKFLOW_TYPE,
  SIGNAL_PATCH,
  decodeFailure,
  decodePayloads,
  encodeBookkeeping,
  encodePatch,
  encodeStartArgs,
  scheduleIdOf,
  type ActionWorkflow,
  type Bookkeeping,
} from '../schedules/scheduler-wire.js';
import type { NamespaceRef } from './api.js';
import type { HistoryEngine } from './engine.js';

const CT = enums.CommandType;
const Status = enums.WorkflowExecutionStatus;
const IDENTITY = 'tandem-scheduler';
const Reuse = enums.WorkflowIdReusePolicy;
const TIMER_SLACK_MS = 100;
const CONTINUE_AS_NEW_AFTER_EVENTS = 1000;

const jsonPayload = (v: unknown): commonv1.IPayload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) });

export class SchedulerRunner {
  constructor(private readonly engine: HistoryEngine) {}

  /** Runs the scheduler's pass for the workflow task `scheduledEventId` of a scheduler run. */
  async runTask(namespaceId: string, workflowId: string, runId: string, scheduledEventId: number): Promise<void> {
    const e = this.engine;
    const ns: NamespaceRef = { id: namespaceId, name: (await e.namespaces.requireById(namespaceId)).name };
    let task: ws.IPollWorkflowTaskQueueResponse;
    try {
      task = await e.recordWorkflowTaskStarted(
        { taskQueue: { namespaceId, name: SCHEDULER_TASK_QUEUE, type: 1, kind: 1 }, workflowId, runId, scheduledEventId, scheduleToStartTimeoutMs: 0 },
        { namespace: ns.name, identity: IDENTITY },
      );
    } catch (err) {
      if (isTandemError(err, 'TASK_NOT_FOUND')) return;
      throw err;
    }
    const state = foldSchedulerState(await this.history(ns, task));
    const scheduleId = scheduleIdOf(workflowId);
    const spec = state.schedule.spec ? compileScheduleSpec(state.schedule.spec, scheduleId) : null;
    const now = Date.now();
    const watched = await this.watch(ns, state.running);
    const decided = plan(scheduleId, state, spec, watched.open, now, watched.closed);
    await Promise.all([
      ...decided.cancel.map((w) => this.quietly(e.cancelRun(ns, w.workflowId, w.runId, { identity: IDENTITY, cause: 'cancelled by the schedule overlap policy' }))),
      ...decided.terminate.map((w) => this.quietly(e.terminateRun(ns, w.workflowId, w.runId, 'terminated by the schedule overlap policy', IDENTITY))),
    ]);
    if (decided.pause) await this.pause(ns, task, decided.pause);
    let retry = false;
    for (const p of decided.starts) {
      const run = await this.start(ns, state, decided.book, scheduleId, p);
      if (run) recordStarted(decided.book, p, run, Date.now());
      else {
        startFailed(state, decided.book, p);
        retry = true;
      }
    }
    // A schedule lives for years: its run starts afresh before its history grows long, so every
    // pass (and every Describe) folds a bounded history.
    const commands =
      Number(task.startedEventId) >= CONTINUE_AS_NEW_AFTER_EVENTS && !retry
        ? [this.continueAsNew(state, decided.book)]
        : this.commands(state, spec, decided.book, retry, `wake-${task.startedEventId}`);
    await e.respondWorkflowTaskCompleted(ns, { namespace: ns.name, taskToken: task.taskToken, commands, identity: IDENTITY });
  }

  private async history(ns: NamespaceRef, task: ws.IPollWorkflowTaskQueueResponse): Promise<historyv1.IHistoryEvent[]> {
    const events = [...(task.history?.events ?? [])];
    let token = task.nextPageToken;
    while (token?.length) {
      const page = await this.engine.getWorkflowExecutionHistory(ns, { namespace: ns.name, execution: task.workflowExecution, nextPageToken: token }, new AbortController().signal);
      events.push(...(page.history?.events ?? []));
      token = page.nextPageToken;
    }
    return events;
  }

  /** The tracked actions still open, and the outcome of those that closed since the last pass. */
  private async watch(ns: NamespaceRef, running: ActionWorkflow[]): Promise<{ open: ActionWorkflow[]; closed: ClosedAction[] }> {
    const found = await Promise.all(
      running.map(async (w): Promise<ClosedAction | 'open' | 'gone'> => {
        let status: number;
        try {
          const d = await this.engine.describeWorkflowExecution(ns, { namespace: ns.name, execution: w });
          status = d.workflowExecutionInfo?.status ?? Status.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED;
        } catch (err) {
          if (isTandemError(err, 'WORKFLOW_NOT_FOUND')) return 'gone';
          throw err;
        }
        if (status === Status.WORKFLOW_EXECUTION_STATUS_RUNNING) return 'open';
        return { ...w, status, ...(await this.outcome(ns, w)) };
      }),
    );
    return {
      open: running.filter((_, i) => found[i] === 'open'),
      closed: found.filter((f): f is ClosedAction => typeof f === 'object'),
    };
  }

  /** A closed run's result or failure, from its close event. */
  private async outcome(ns: NamespaceRef, w: ActionWorkflow): Promise<Pick<ClosedAction, 'result' | 'failure'>> {
    const page = await this.engine.getWorkflowExecutionHistory(
      ns,
      { namespace: ns.name, execution: w, historyEventFilterType: enums.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT },
      new AbortController().signal,
    );
    const close = page.history?.events?.at(-1);
    return {
      result: close?.workflowExecutionCompletedEventAttributes?.result ?? null,
      failure: close?.workflowExecutionFailedEventAttributes?.failure ?? null,
    };
  }

  /** Pause on failure is recorded as the pause patch a user would send, so it replicates and folds alike. */
  private async pause(ns: NamespaceRef, task: ws.IPollWorkflowTaskQueueResponse, note: string): Promise<void> {
    await this.engine.signalWorkflowExecution(ns, {
      namespace: ns.name,
      workflowExecution: task.workflowExecution,
      signalName: SIGNAL_PATCH,
      input: encodePatch({ pause: note }),
      identity: IDENTITY,
      // The same pass taken again (after a failover) pauses once.
      requestId: `pause-on-failure-${task.workflowExecution?.runId}-${task.startedEventId}`,
    });
  }

  /** The run of a planned start; found, not started again, when an earlier pass already started it. */
  private async start(ns: NamespaceRef, state: SchedulerState, book: Bookkeeping, scheduleId: string, p: PlannedStart): Promise<ActionWorkflow | null> {
    const e = this.engine;
    const action = state.schedule.action!.startWorkflow!;
    const nominalSec = new Date(Math.floor(p.start.nominalMs / 1000) * 1000).toISOString();
    const req: ws.IStartWorkflowExecutionRequest = {
      namespace: ns.name,
      workflowId: p.workflowId,
      workflowType: action.workflowType,
      taskQueue: action.taskQueue,
      input: action.input,
      workflowExecutionTimeout: action.workflowExecutionTimeout,
      workflowRunTimeout: action.workflowRunTimeout,
      workflowTaskTimeout: action.workflowTaskTimeout,
      identity: IDENTITY,
      requestId: p.requestId,
      // Scheduled times never start twice; manual ones may reuse a closed id (as the reference).
      workflowIdReusePolicy: p.start.manual ? Reuse.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE : Reuse.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
      retryPolicy: action.retryPolicy,
      memo: action.memo,
      searchAttributes: {
        indexedFields: {
          ...(action.searchAttributes?.indexedFields ?? {}),
          TemporalScheduledStartTime: jsonPayload(nominalSec),
          TemporalScheduledById: jsonPayload(scheduleId),
        },
      },
      header: action.header,
      userMetadata: action.userMetadata,
      priority: action.priority,
      lastCompletionResult: book.lastCompletionResult ? decodePayloads(book.lastCompletionResult) : null,
      continuedFailure: book.continuedFailure ? decodeFailure(book.continuedFailure) : null,
    };
    try {
      const res = await e.startWorkflowExecution(ns, req);
      return { workflowId: p.workflowId, runId: res.runId ?? '' };
    } catch (err) {
      if (!isTandemError(err, 'WORKFLOW_ALREADY_STARTED')) {
        e.log.warn({ err, workflowId: p.workflowId }, 'schedule action not started; retried on the next pass');
        return null;
      }
      const d = await e.describeWorkflowExecution(ns, { namespace: ns.name, execution: { workflowId: p.workflowId } });
      return { workflowId: p.workflowId, runId: d.workflowExecutionInfo?.execution?.runId ?? '' };
    }
  }

  private async quietly(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      // Closed meanwhile: the overlap policy has what it wanted.
      if (!isTandemError(err, 'WORKFLOW_ALREADY_COMPLETED') && !isTandemError(err, 'WORKFLOW_NOT_FOUND')) throw err;
    }
  }

  private continueAsNew(state: SchedulerState, book: Bookkeeping): commandv1.ICommand {
    const carried = { bookkeeping: book, conflictToken: state.conflictToken, updateTimeMs: state.updateTimeMs };
    return {
      commandType: CT.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
      continueAsNewWorkflowExecutionCommandAttributes: {
        workflowType: { name: SCHEDULER_WORKFLOW_TYPE },
        taskQueue: { name: SCHEDULER_TASK_QUEUE },
        input: encodeStartArgs({ schedule: state.schedule, initialPatch: null, createTimeMs: state.createTimeMs, carried }),
      },
    };
  }

  /**
   * TemporalSchedulePaused when it changed, and the schedule's own attributes an update asked for
   * (those it no longer names are cleared); the scheduler's internal ones stay.
   */
  private searchAttributesUpsert(state: SchedulerState): Record<string, commonv1.IPayload> {
    const fields: Record<string, commonv1.IPayload> = {};
    const requested = state.requestedSearchAttributes?.indexedFields;
    if (requested) {
      for (const name of Object.keys(state.searchAttributes?.indexedFields ?? {})) {
        if (!(name in requested) && !SCHEDULER_SEARCH_ATTRIBUTES.has(name)) fields[name] = jsonPayload(null);
      }
      Object.assign(fields, requested);
    }
    const paused = pausedOf(state.schedule);
    if (paused !== (state.pausedIndexed ?? false)) fields[PAUSED_SEARCH_ATTRIBUTE] = jsonPayload(paused);
    return fields;
  }

  /** The pass's record: the bookkeeping marker, the wake-up timer, TemporalSchedulePaused. */
  private commands(state: SchedulerState, spec: CompiledSpec | null, book: Bookkeeping, retry: boolean, timerId: string): commandv1.ICommand[] {
    const commands: commandv1.ICommand[] = [];
    // A pass with nothing due changes nothing and records nothing.
    const changed = JSON.stringify(bookkeepingOf(state)) !== JSON.stringify(book);
    if (changed || state.pending.length > 0 || state.requestedSearchAttributes || state.requestedMemo) {
      commands.push({
        commandType: CT.COMMAND_TYPE_RECORD_MARKER,
        recordMarkerCommandAttributes: { markerName: BOOKKEEPING_MARKER, details: encodeBookkeeping(book) },
      });
    }
    const upsert = this.searchAttributesUpsert(state);
    if (Object.keys(upsert).length > 0) {
      commands.push({
        commandType: CT.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        upsertWorkflowSearchAttributesCommandAttributes: { searchAttributes: { indexedFields: upsert } },
      });
    }
    if (state.requestedMemo) {
      commands.push({ commandType: CT.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES, modifyWorkflowPropertiesCommandAttributes: { upsertedMemo: state.requestedMemo } });
    }
    // Measured after the starts, so the time they took does not make the next action late.
    const now = Date.now();
    const wake = wakeAtMs(state, spec, book, now, retry);
    // A timer started by an earlier pass for the same moment (its fire time is stamped a few ms off).
    if (state.timer && wake !== null && Math.abs(state.timer.fireAtMs - wake) < TIMER_SLACK_MS) return commands;
    if (state.timer) commands.push({ commandType: CT.COMMAND_TYPE_CANCEL_TIMER, cancelTimerCommandAttributes: { timerId: state.timer.timerId } });
    if (wake !== null) {
      commands.push({
        commandType: CT.COMMAND_TYPE_START_TIMER,
        startTimerCommandAttributes: { timerId, startToFireTimeout: durationFromMs(Math.max(1, wake - now)) },
      });
    }
    return commands;
  }
}
