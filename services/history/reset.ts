// ResetWorkflowExecution, as the reference server does it: a new run of the workflow whose history
// is the base run's up to the workflow task the reset names (its started event), then that task
// failed with cause RESET_WORKFLOW, then the base run's later signals written again, then a new
// workflow task. The workflow's running run, if any, is terminated first. The new run's tasks
// (timers, pending activities, the workflow task) derive from all its events like any other run's.
import { apiError, isTandemError } from '../common/errors.js';
import { toLong } from '../common/proto-time.js';
import { enums, type workflowservice as ws } from '../common/temporal.js';
import type { CreateMode, CurrentExecution } from '../persistence/types.js';
import type { NamespaceRef } from './api.js';
import type { HistoryContext } from './context.js';
import { isSignal, reapplyUserInput } from './events-reapplier.js';
import { MutableState } from './mutable-state.js';
import { newRunId } from './shard.js';
import type { HistoryEvent } from './state.js';
import type { WorkflowTaskScheduler } from './workflow-task-scheduler.js';

const ET = enums.EventType;
const Reapply = enums.ResetReapplyType;
const Exclude = enums.ResetReapplyExcludeType;
const RESET_IDENTITY = 'history-service';
/** Who terminates the run a reset replaces, as the reference names it. */
const RESETTER_IDENTITY = 'history-resetter';

/** The event types a reset writes again to the new run (updates are not reapplied yet: see the README). */
function reapplied(req: ws.IResetWorkflowExecutionRequest): (e: HistoryEvent) => boolean {
  const none = req.resetReapplyType === Reapply.RESET_REAPPLY_TYPE_NONE;
  const signalsExcluded = (req.resetReapplyExcludeTypes ?? []).includes(Exclude.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL);
  return (e) => !none && !signalsExcluded && isSignal(e);
}

/** What a reset needs beside the handlers' context: the current run, terminating it, the task scheduler. */
export interface ResetRuns {
  readonly scheduler: WorkflowTaskScheduler;
  currentExecution(namespaceId: string, workflowId: string): Promise<CurrentExecution | null>;
  terminateRun(ns: NamespaceRef, workflowId: string, runId: string, reason: string, identity: string): Promise<void>;
}

export async function resetWorkflowExecution(ctx: HistoryContext, runs: ResetRuns, ns: NamespaceRef, req: ws.IResetWorkflowExecutionRequest): Promise<ws.IResetWorkflowExecutionResponse> {
  const workflowId = req.workflowExecution?.workflowId ?? '';
  const finishEventId = Number(req.workflowTaskFinishEventId ?? 0);
  if (finishEventId <= 1) throw apiError('INVALID_ARGUMENT', 'WorkflowTaskFinishEventId must be the id of a workflow task completed, failed or timed out event.');
  const requestId = req.requestId ?? '';
  await ctx.tx.activeNamespace(ns.id);
  const current = await runs.currentExecution(ns.id, workflowId);
  if (!current) throw apiError('WORKFLOW_NOT_FOUND', `workflow ${workflowId} not found`);
  // A retried reset: the run it made is the current one.
  if (requestId && current.createRequestId === requestId) return { runId: current.runId };

  const base = await ctx.tx.read(ns.id, workflowId, req.workflowExecution?.runId || current.runId);
  if (finishEventId >= base.info.nextEventId) {
    throw apiError('INVALID_ARGUMENT', `WorkflowTaskFinishEventId ${finishEventId} is past the run's last event ${base.info.nextEventId - 1}.`);
  }
  // The reset point's workflow task ends with the event before it: its started event.
  const kept = await ctx.tx.readAllEvents(base, 1, finishEventId);
  const later = (await ctx.tx.readAllEvents(base, finishEventId, base.info.nextEventId)).filter(reapplied(req));
  const forkVersion = kept.at(-1)?.version;
  const rebuild = (version: bigint, newRunIdentity: string) => {
    const ms = MutableState.empty({ namespaceId: ns.id, workflowId, runId: newRunIdentity }, version, newRunIdentity);
    for (const e of kept) ms.applyReplicated(e);
    return ms;
  };
  // Checked before anything is written: the point must end a workflow task and orphan no child.
  const probe = rebuild(0n, base.info.runId);
  const pointTask = probe.workflowTask;
  // The point is a task's completion (the event before it is the task's started event) or the
  // task's started event itself (the event before it is its scheduled event).
  const endsStarted = pointTask?.startedEventId === finishEventId - 1;
  const endsScheduled = pointTask?.startedEventId === 0 && pointTask.scheduledEventId === finishEventId - 1 && !pointTask.transient;
  if (!endsStarted && !endsScheduled) {
    throw apiError('INVALID_ARGUMENT', `WorkflowTaskFinishEventId ${finishEventId} does not end a workflow task: event ${finishEventId - 1} is neither its scheduled nor its started event.`);
  }
  if (probe.data.children.length > 0) throw apiError('INVALID_ARGUMENT', 'The reset point has pending child workflows: resetting there would orphan them.');

  if (current.state === 'created' || current.state === 'running') {
    try {
      await runs.terminateRun(ns, workflowId, current.runId, req.reason || 'reset', RESETTER_IDENTITY);
    } catch (err) {
      // Closed meanwhile: the reset goes on from it.
      if (!isTandemError(err, 'WORKFLOW_ALREADY_COMPLETED')) throw err;
    }
  }
  const closed = await runs.currentExecution(ns.id, workflowId);
  const mode: CreateMode = { kind: 'replaceCurrent', previousRunId: closed!.runId, previousLastWriteVersion: closed!.lastWriteVersion };
  const runId = newRunId();
  await ctx.tx.create(ns.id, workflowId, mode, (version, now) => {
    const ms = rebuild(version, runId);
    ms.progress.createRequestId = requestId;
    // As the reference: a task only scheduled at the point is started, so that it can fail.
    if (endsScheduled) {
      ms.addEvent(
        ET.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        { workflowTaskStartedEventAttributes: { scheduledEventId: toLong(BigInt(pointTask.scheduledEventId)), identity: RESET_IDENTITY, requestId } },
        now,
      );
    }
    const wt = ms.workflowTask!;
    ms.addEvent(
      ET.EVENT_TYPE_WORKFLOW_TASK_FAILED,
      {
        workflowTaskFailedEventAttributes: {
          scheduledEventId: toLong(BigInt(wt.scheduledEventId)),
          startedEventId: toLong(BigInt(wt.startedEventId)),
          cause: enums.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
          failure: { message: req.reason ?? '', resetWorkflowFailureInfo: {} },
          identity: RESET_IDENTITY,
          baseRunId: base.info.runId,
          newRunId: runId,
          forkEventVersion: forkVersion,
        },
      },
      now,
    );
    reapplyUserInput(ms, later, base.info.runId, now, runs.scheduler);
    runs.scheduler.scheduleIfIdle(ms, now);
    return ms;
  });
  ctx.log.info({ namespace: ns.name, workflowId, baseRunId: base.info.runId, runId, finishEventId, reapplied: later.length }, 'workflow reset');
  return { runId };
}
