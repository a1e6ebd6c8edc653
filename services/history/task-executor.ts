// What each transfer and timer task does. Every task re-checks mutable state first: a task whose
// moment has passed (the timer was canceled, the activity completed) is a no-op.
import { apiError, isTandemError } from '../common/errors.js';
import { enums, historyv1, commonv1 } from '../common/temporal.js';
import { toLong, optionalDurationMs } from '../common/proto-time.js';
import type { HistoryTask, VisibilityRecord } from '../persistence/types.js';
import type { NamespaceRef } from './api.js';
import { reapplyLosingBranch, resolveDuplicateRun } from './conflict-tasks.js';
import { searchAttributeTypes, typedSearchAttributes } from '../namespaces/search-attributes.js';
import type { HistoryEngine } from './engine.js';
import type { MutableState } from './mutable-state.js';
import { decodeB64 } from './payload-codec.js';
import { workflowTaskTimeoutMs, type StartParams } from './run-starter.js';
import { SchedulerRunner } from './scheduler-runner.js';
import { SCHEDULER_WORKFLOW_TYPE } from '../schedules/scheduler-wire.js';
import { withoutStandbyWait } from './sync-replication.js';
import type { ExternalRequestInfo } from './state.js';
import { workflowTaskScheduledTasks } from './task-generator.js';
import type { TaskAttrs } from './tasks.js';
import { versioningSearchAttributes } from './versioning.js';
import { workflowTaskFor } from './matching-tasks.js';
import { mergePriority } from '../matching/priority.js';

const ET = enums.EventType;
const Status = enums.WorkflowExecutionStatus;

export class TaskExecutor {
  private readonly schedulers: SchedulerRunner;

  constructor(private readonly engine: HistoryEngine) {
    this.schedulers = new SchedulerRunner(engine);
  }

  /**
   * Runs one task. A task of a namespace that is not active here (passive, or in handover) throws
   * NamespaceNotActive / handover: the queue keeps it, and it runs once the namespace is promoted.
   * Visibility is the exception: a standby region keeps its own visibility current. No client
   * waits on a task's writes: they are answered on commit, even for a sync namespace.
   */
  execute(task: HistoryTask): Promise<void> {
    return withoutStandbyWait(() => this.run(task));
  }

  private async run(task: HistoryTask): Promise<void> {
    const attrs = JSON.parse(task.data) as TaskAttrs;
    if (task.type !== 'visibility') await this.engine.tx.activeNamespace(task.namespaceId);
    try {
      await this.dispatch(task, attrs);
    } catch (err) {
      // The run is gone (deleted after retention, or never written): nothing left to do.
      if (isTandemError(err, 'WORKFLOW_NOT_FOUND')) return;
      throw err;
    }
  }

  private dispatch(task: HistoryTask, a: TaskAttrs): Promise<void> {
    const e = this.engine;
    switch (task.type) {
      case 'workflowTask':
        return this.dispatchWorkflowTask(task, a);
      case 'activityTask':
        return this.read(task, async (ms) => {
          const act = ms.activity(a.scheduledEventId!);
          if (act && act.progress.attempt === a.attempt) await e.activities.dispatch(ms, act);
        });
      case 'visibility':
        return this.read(task, (ms) => this.writeVisibility(ms));
      case 'closeExecution':
        return this.closeExecution(task);
      case 'startChild':
        return this.startChild(task, a.initiatedEventId!);
      case 'signalExternal':
        return this.signalExternal(task, a.initiatedEventId!);
      case 'cancelExternal':
        return this.cancelExternal(task, a.initiatedEventId!);
      case 'userTimer':
        return this.write(task, (ms, now) => {
          const t = ms.timer(a.timerId!);
          if (!ms.isRunning || !t || t.startedEventId !== a.startedEventId) return;
          ms.addEvent(
            ET.EVENT_TYPE_TIMER_FIRED,
            { timerFiredEventAttributes: { timerId: t.timerId, startedEventId: toLong(BigInt(t.startedEventId)) } },
            now,
          );
          e.scheduler.scheduleIfIdle(ms, now);
        });
      case 'workflowTaskTimeout':
        return this.write(task, (ms, now) => {
          const wt = ms.workflowTask;
          if (!ms.isRunning || !wt || wt.scheduledEventId !== a.scheduledEventId || wt.attempt !== a.attempt) return;
          if (a.timeoutType === 'startToClose' && wt.startedEventId > 0) e.scheduler.timedOut(ms, 'startToClose', now);
          if (a.timeoutType === 'scheduleToStart' && wt.startedEventId === 0 && wt.kind === 2) e.scheduler.timedOut(ms, 'scheduleToStart', now);
        });
      case 'activityTimeout':
        return this.write(task, (ms, now) => e.activities.timedOut(ms, a.scheduledEventId!, a.attempt!, a.timeoutType!, task.visibilityTimeMs, now));
      case 'activityRetry':
        return this.read(task, (ms) => e.activities.retryDue(ms, a.scheduledEventId!, a.attempt!, task.visibilityTimeMs));
      case 'runTimeout':
      case 'executionTimeout':
        return this.timeOutRun(task);
      case 'workflowBackoff':
        return this.write(task, (ms, now) => {
          if (ms.isRunning && !ms.hasPendingWorkflowTask && ms.info.lastCompletedWorkflowTaskStartedEventId === 0) {
            e.scheduler.schedule(ms, now);
          }
        });
      case 'deleteExecution':
        return this.deleteExecution(task);
      case 'reapplyEvents':
        return reapplyLosingBranch(e, task, a);
      case 'resolveDuplicateRun':
        return resolveDuplicateRun(e, task, a);
      default:
        throw new Error(`unknown task type ${task.type}`);
    }
  }

  private async read(task: HistoryTask, fn: (ms: MutableState) => Promise<void> | void): Promise<void> {
    await fn(await this.engine.tx.read(task.namespaceId, task.workflowId, task.runId));
  }

  private async write(task: HistoryTask, fn: (ms: MutableState, now: number) => Promise<void> | void): Promise<void> {
    await this.engine.tx.update(task.namespaceId, task.workflowId, task.runId, (ms) => fn(ms, Date.now()));
  }

  private async dispatchWorkflowTask(task: HistoryTask, a: TaskAttrs): Promise<void> {
    const e = this.engine;
    const ms = await e.tx.read(task.namespaceId, task.workflowId, task.runId);
    const wt = ms.workflowTask;
    if (!ms.isRunning || !wt || wt.scheduledEventId !== a.scheduledEventId || wt.startedEventId > 0) return;
    if (ms.info.workflowType === SCHEDULER_WORKFLOW_TYPE) {
      return this.schedulers.runTask(task.namespaceId, task.workflowId, task.runId, wt.scheduledEventId);
    }
    if (wt.kind === 2 && !e.matching.hasRecentPoller({ namespaceId: task.namespaceId, name: wt.taskQueue, type: 1, kind: 2 })) {
      // The sticky worker is gone (it shut down, or never polled this matching): the task goes
      // to the normal queue now instead of after the sticky schedule-to-start timeout.
      await this.write(task, (ms, now) => {
        const cur = ms.workflowTask;
        if (!ms.isRunning || !cur || cur.scheduledEventId !== a.scheduledEventId || cur.startedEventId > 0 || cur.kind !== 2) return;
        ms.progress.stickyFallbackScheduledEventId = cur.scheduledEventId;
        ms.progress.stickyTaskQueue = '';
        ms.dirty = true;
        for (const t of workflowTaskScheduledTasks(ms, now)) ms.addTask(t);
      });
      return;
    }
    await e.matching.addWorkflowTask(workflowTaskFor(ms, wt, a.scheduleToStartMs ?? 0));
  }

  private async timeOutRun(task: HistoryTask): Promise<void> {
    const e = this.engine;
    let retry: StartParams | null = null;
    await this.write(task, async (ms, now) => {
      const info = ms.info;
      const deadline = task.type === 'runTimeout' ? info.runExpirationTimeMs : info.executionExpirationTimeMs;
      if (!ms.isRunning || deadline === 0 || deadline > now) return;
      e.prepareServerClose(ms, now);
      const failure = { message: 'workflow timed out', timeoutFailureInfo: { timeoutType: enums.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE } };
      retry =
        task.type === 'runTimeout'
          ? ((await e.starter.nextRunParams(ms, 'retry', now, failure, null)) ?? (await e.starter.nextRunParams(ms, 'cron', now, failure, null)))
          : null;
      const next = retry ? e.starter.newRunAfter(ms, retry, now) : null;
      ms.addEvent(
        ET.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        {
          workflowExecutionTimedOutEventAttributes: {
            retryState: next ? enums.RetryState.RETRY_STATE_IN_PROGRESS : enums.RetryState.RETRY_STATE_TIMEOUT,
            newExecutionRunId: next?.info.runId ?? '',
          },
        },
        now,
      );
      if (next) ms.setNewRun(next);
    });
  }

  /**
   * A run may hold an attribute defined since this process last refreshed its namespace cache (the
   * definition was written by another process): one read of the record makes it current. A deleted
   * namespace still has its runs listed until retention removes them.
   */
  private async writeVisibility(ms: MutableState): Promise<void> {
    const namespaces = this.engine.namespaces;
    let ns = await namespaces.getById(ms.info.namespaceId);
    const names = ms.info.searchAttributes ? Object.keys(decodeB64(commonv1.SearchAttributes, ms.info.searchAttributes).indexedFields ?? {}) : [];
    if (ns && names.some((n) => !(n in searchAttributeTypes(ns!)))) ns = await namespaces.refreshNamespace(ns.id);
    await this.engine.store.visibility.upsertVisibility(visibilityRecord(ms, ns?.config ?? ''));
  }

  /** Retention passed: the closed run goes the way DeleteWorkflowExecution removes one. */
  private async deleteExecution(task: HistoryTask): Promise<void> {
    const ms = await this.engine.tx.read(task.namespaceId, task.workflowId, task.runId);
    if (!ms.isRunning) await this.engine.tx.deleteRun(ms.key);
  }

  /** The parent's child-completed event, and the parent close policy (the close's visibility is its own task). */
  private async closeExecution(task: HistoryTask): Promise<void> {
    const e = this.engine;
    const ms = await e.tx.read(task.namespaceId, task.workflowId, task.runId);
    const info = ms.info;
    if (info.parent && !info.newExecutionRunId && info.status !== Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW) {
      const closeEvent = await e.tx.readEvent(ms, info.completionEventId);
      await this.notifyParent(ms, closeEvent);
    }
    for (const child of ms.data.children) {
      const ref = { id: child.namespaceId, name: child.namespace };
      try {
        if (child.parentClosePolicy === enums.ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE) {
          await e.terminateRun(ref, child.workflowId, '', 'by parent close policy', 'history-service');
        } else if (child.parentClosePolicy === enums.ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL) {
          await e.cancelRun(ref, child.workflowId, '', { identity: 'history-service', cause: 'by parent close policy' });
        }
      } catch (err) {
        if (!isTandemError(err, 'WORKFLOW_NOT_FOUND') && !isTandemError(err, 'WORKFLOW_ALREADY_COMPLETED')) throw err;
      }
    }
  }

  private async notifyParent(child: MutableState, close: historyv1.IHistoryEvent | undefined): Promise<void> {
    const p = child.info.parent!;
    const c = child.info;
    const execution = { workflowId: c.workflowId, runId: c.runId };
    const common = {
      namespace: (await this.engine.namespaces.requireById(c.namespaceId)).name,
      namespaceId: c.namespaceId,
      workflowExecution: execution,
      workflowType: { name: c.workflowType },
      initiatedEventId: toLong(BigInt(p.initiatedEventId)),
    };
    try {
      await this.engine.tx.update(p.namespaceId, p.workflowId, p.runId, async (parent) => {
        const info = parent.child(p.initiatedEventId);
        if (!parent.isRunning || !info) return;
        const now = Date.now();
        if (info.startedEventId === 0) {
          const initiated = (await this.engine.tx.readEvent(parent, p.initiatedEventId))?.startChildWorkflowExecutionInitiatedEventAttributes;
          this.recordChildStarted(parent, p.initiatedEventId, c.runId, initiated?.header, now);
        }
        const startedEventId = toLong(BigInt(parent.child(p.initiatedEventId)?.startedEventId ?? 0));
        const base = { ...common, startedEventId };
        switch (c.status) {
          case Status.WORKFLOW_EXECUTION_STATUS_COMPLETED:
            parent.addEvent(ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED, {
              childWorkflowExecutionCompletedEventAttributes: { ...base, result: close?.workflowExecutionCompletedEventAttributes?.result },
            }, now);
            break;
          case Status.WORKFLOW_EXECUTION_STATUS_FAILED:
            parent.addEvent(ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED, {
              childWorkflowExecutionFailedEventAttributes: {
                ...base,
                failure: close?.workflowExecutionFailedEventAttributes?.failure,
                retryState: close?.workflowExecutionFailedEventAttributes?.retryState,
              },
            }, now);
            break;
          case Status.WORKFLOW_EXECUTION_STATUS_CANCELED:
            parent.addEvent(ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED, {
              childWorkflowExecutionCanceledEventAttributes: { ...base, details: close?.workflowExecutionCanceledEventAttributes?.details },
            }, now);
            break;
          case Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
            parent.addEvent(ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT, {
              childWorkflowExecutionTimedOutEventAttributes: { ...base, retryState: close?.workflowExecutionTimedOutEventAttributes?.retryState },
            }, now);
            break;
          default:
            parent.addEvent(ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED, {
              childWorkflowExecutionTerminatedEventAttributes: base,
            }, now);
        }
        this.engine.scheduler.scheduleIfIdle(parent, now);
      });
    } catch (err) {
      if (!isTandemError(err, 'WORKFLOW_NOT_FOUND')) throw err;
    }
  }

  private recordChildStarted(parent: MutableState, initiatedEventId: number, runId: string, header: commonv1.IHeader | null | undefined, now: number): void {
    const child = parent.child(initiatedEventId)!;
    parent.addEvent(
      ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
      {
        childWorkflowExecutionStartedEventAttributes: {
          namespace: child.namespace,
          namespaceId: child.namespaceId,
          initiatedEventId: toLong(BigInt(initiatedEventId)),
          workflowExecution: { workflowId: child.workflowId, runId },
          workflowType: { name: child.workflowType },
          header,
        },
      },
      now,
    );
  }

  private async startChild(task: HistoryTask, initiatedEventId: number): Promise<void> {
    const e = this.engine;
    const parent = await e.tx.read(task.namespaceId, task.workflowId, task.runId);
    const child = parent.child(initiatedEventId);
    if (!parent.isRunning || !child || child.startedEventId > 0) return;
    const initiated = await e.tx.readEvent(parent, initiatedEventId);
    const a = initiated?.startChildWorkflowExecutionInitiatedEventAttributes;
    if (!a) return;
    const executionTimeoutMs = optionalDurationMs(a.workflowExecutionTimeout);
    const params: StartParams = {
      // Deterministic, so a retried task finds the run it already started.
      requestId: `${task.runId}:child:${initiatedEventId}`,
      workflowId: a.workflowId ?? '',
      workflowType: a.workflowType?.name ?? '',
      taskQueue: a.taskQueue?.name ?? parent.info.taskQueue,
      input: a.input,
      header: a.header,
      workflowExecutionTimeoutMs: executionTimeoutMs,
      workflowRunTimeoutMs: optionalDurationMs(a.workflowRunTimeout) || executionTimeoutMs,
      workflowTaskTimeoutMs: workflowTaskTimeoutMs(a.workflowTaskTimeout, optionalDurationMs(a.workflowRunTimeout) || executionTimeoutMs || 0),
      identity: 'history-service',
      retryPolicy: a.retryPolicy,
      cronSchedule: a.cronSchedule ?? '',
      memo: a.memo,
      searchAttributes: a.searchAttributes,
      firstWorkflowTaskBackoffMs: 0,
      userMetadata: initiated.userMetadata,
      priority: mergePriority(parent.info.priority, a.priority),
      parent: {
        namespaceId: task.namespaceId,
        namespace: (await e.namespaces.requireById(task.namespaceId)).name,
        workflowId: task.workflowId,
        runId: task.runId,
        initiatedEventId,
        root: parent.root,
      },
    };
    const target = { id: a.namespaceId || task.namespaceId, name: a.namespace ?? '' };
    let runId: string | null = null;
    try {
      const res = await e.startRun(target, params, a.workflowIdReusePolicy ?? 0, enums.WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL);
      runId = res.runId ?? null;
    } catch (err) {
      if (!isTandemError(err, 'WORKFLOW_ALREADY_STARTED')) throw err;
    }
    await this.write(task, (ms, now) => {
      const info = ms.child(initiatedEventId);
      if (!ms.isRunning || !info || info.startedEventId > 0) return;
      if (runId) {
        this.recordChildStarted(ms, initiatedEventId, runId, a.header, now);
      } else {
        ms.addEvent(
          ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
          {
            startChildWorkflowExecutionFailedEventAttributes: {
              namespace: info.namespace,
              namespaceId: info.namespaceId,
              workflowId: info.workflowId,
              workflowType: { name: info.workflowType },
              cause: enums.StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS,
              control: a.control,
              initiatedEventId: toLong(BigInt(initiatedEventId)),
            },
          },
          now,
        );
      }
      this.engine.scheduler.scheduleIfIdle(ms, now);
    });
  }

  private signalExternal(task: HistoryTask, initiatedEventId: number): Promise<void> {
    return this.resolveExternal(task, initiatedEventId, {
      pending: (ms) => ms.data.signalsOut,
      attrs: (e) => {
        const a = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
        return a ? { ...a, reason: '' } : undefined;
      },
      act: (target, a, req) =>
        this.engine.signalRun(
          target,
          a.workflowExecution?.workflowId ?? '',
          a.workflowExecution?.runId ?? '',
          { name: a.signalName ?? '', input: a.input, header: a.header, identity: '', requestId: req.requestId },
          { workflowId: task.workflowId, runId: task.runId },
        ),
      succeeded: (common) => [ET.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED, { externalWorkflowExecutionSignaledEventAttributes: common }],
      failed: (common) => [
        ET.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        {
          signalExternalWorkflowExecutionFailedEventAttributes: {
            ...common,
            cause: enums.SignalExternalWorkflowExecutionFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
          },
        },
      ],
    });
  }

  private cancelExternal(task: HistoryTask, initiatedEventId: number): Promise<void> {
    return this.resolveExternal(task, initiatedEventId, {
      pending: (ms) => ms.data.cancelsOut,
      attrs: (e) => {
        const a = e.requestCancelExternalWorkflowExecutionInitiatedEventAttributes;
        return a ? { ...a, reason: a.reason ?? '' } : undefined;
      },
      act: (target, a) =>
        this.engine.cancelRun(target, a.workflowExecution?.workflowId ?? '', a.workflowExecution?.runId ?? '', {
          identity: '',
          cause: a.reason,
          externalInitiatedEventId: initiatedEventId,
          external: { workflowId: task.workflowId, runId: task.runId },
        }),
      succeeded: (common) => [
        ET.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        { externalWorkflowExecutionCancelRequestedEventAttributes: common },
      ],
      failed: (common) => [
        ET.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        {
          requestCancelExternalWorkflowExecutionFailedEventAttributes: {
            ...common,
            cause: enums.CancelExternalWorkflowExecutionFailedCause.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
          },
        },
      ],
    });
  }

  /**
   * A signal or cancel request to another workflow: act on the target, then record in the
   * source whether it worked (a missing or closed target is a failure event, not an error).
   */
  private async resolveExternal(task: HistoryTask, initiatedEventId: number, kind: ExternalRequestKind): Promise<void> {
    const e = this.engine;
    const source = await e.tx.read(task.namespaceId, task.workflowId, task.runId);
    const req = kind.pending(source).find((r) => r.initiatedEventId === initiatedEventId);
    if (!source.isRunning || !req) return;
    const initiated = await e.tx.readEvent(source, initiatedEventId);
    const a = initiated ? kind.attrs(initiated) : undefined;
    if (!a) return;
    const target = { id: a.namespaceId || task.namespaceId, name: a.namespace ?? '' };
    let ok = true;
    try {
      if (a.childWorkflowOnly) this.assertChildOf(source, a.workflowExecution?.workflowId ?? '');
      await kind.act(target, a, req);
    } catch (err) {
      if (!isTandemError(err, 'WORKFLOW_NOT_FOUND') && !isTandemError(err, 'WORKFLOW_ALREADY_COMPLETED')) throw err;
      ok = false;
    }
    await this.write(task, (ms, now) => {
      if (!ms.isRunning || !kind.pending(ms).some((r) => r.initiatedEventId === initiatedEventId)) return;
      const common = {
        initiatedEventId: toLong(BigInt(initiatedEventId)),
        workflowExecution: a.workflowExecution,
        namespace: a.namespace,
        namespaceId: a.namespaceId,
        control: a.control,
      };
      const [eventType, attrs] = ok ? kind.succeeded(common) : kind.failed(common);
      ms.addEvent(eventType, attrs, now);
      this.engine.scheduler.scheduleIfIdle(ms, now);
    });
  }

  private assertChildOf(parent: MutableState, workflowId: string): void {
    if (!parent.data.children.some((c) => c.workflowId === workflowId)) throw apiError('WORKFLOW_NOT_FOUND', workflowId);
  }
}

interface ExternalRequestAttrs {
  namespace?: string | null;
  namespaceId?: string | null;
  workflowExecution?: commonv1.IWorkflowExecution | null;
  control?: string | null;
  childWorkflowOnly?: boolean | null;
  reason: string;
  signalName?: string | null;
  input?: commonv1.IPayloads | null;
  header?: commonv1.IHeader | null;
}

interface ExternalRequestKind {
  pending(ms: MutableState): ExternalRequestInfo[];
  attrs(initiated: historyv1.IHistoryEvent): ExternalRequestAttrs | undefined;
  act(target: NamespaceRef, a: ExternalRequestAttrs, req: ExternalRequestInfo): Promise<void>;
  succeeded(common: object): [number, Partial<historyv1.IHistoryEvent>];
  failed(common: object): [number, Partial<historyv1.IHistoryEvent>];
}

/**
 * The run's visibility record. Search attributes are typed with the namespace's definitions
 * (`config` of its record); BuildIds and the Worker Versioning ones are the server's own.
 */
export function visibilityRecord(ms: MutableState, namespaceConfig: string): VisibilityRecord {
  const info = ms.info;
  const closeTimeMs = ms.isRunning ? null : info.closeTimeMs;
  const searchAttributes = info.searchAttributes ? decodeB64(commonv1.SearchAttributes, info.searchAttributes) : null;
  const typed = typedSearchAttributes({ config: namespaceConfig }, searchAttributes);
  if (info.buildIds?.length) typed.BuildIds = { type: 'KeywordList', value: info.buildIds };
  Object.assign(typed, versioningSearchAttributes(info));
  const root = ms.root;
  return {
    namespaceId: info.namespaceId,
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.workflowType,
    taskQueue: info.taskQueue,
    status: info.status,
    startTimeMs: info.startTimeMs,
    executionTimeMs: info.executionTimeMs,
    closeTimeMs,
    executionDurationMs: closeTimeMs === null ? null : Math.max(0, closeTimeMs - info.executionTimeMs),
    historyLength: info.nextEventId - 1,
    historySizeBytes: info.historySizeBytes,
    stateTransitionCount: ms.dbRecordVersion,
    parentWorkflowId: info.parent?.workflowId ?? null,
    parentRunId: info.parent?.runId ?? null,
    rootWorkflowId: root.workflowId,
    rootRunId: root.runId,
    searchAttributes: typed,
    // protobufjs JSON form (bytes as base64), as the frontend's fromObject reads it back.
    data: JSON.stringify({
      memo: info.memo ? commonv1.Memo.toObject(decodeB64(commonv1.Memo, info.memo), { bytes: String }) : undefined,
      searchAttributes: searchAttributes ? commonv1.SearchAttributes.toObject(searchAttributes, { bytes: String }) : undefined,
    }),
  };
}
