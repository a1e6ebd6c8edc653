// The history engine: every operation on a workflow run loads its mutable state under the run's
// lock, turns the request into events, and writes them in one conditional batch of the shard.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger.js';
import { apiError, apiErrorWithDetails, isTandemError, TandemError } from '../common/errors.js';
import { enums, commonv1, workflowservice as ws, failure as failurev1 } from '../common/temporal.js';
import { optionalDurationMs, timestampFromMs, durationFromMs, toLong } from '../common/proto-time.js';
import { ConditionFailedError, CurrentWorkflowConditionFailedError } from '../persistence/errors.js';
import type { Persistence } from '../persistence/store.js';
import type { CreateMode, CurrentExecution, ExecutionKey } from '../persistence/types.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import type { MatchingApi, AddTaskRequest, QueryTaskRequest, TaskStarter } from '../matching/api.js';
import type { HistoryApi, NamespaceRef } from './api.js';
import { MutableState, decodeB64, retryBackoffMs, type HistoryEvent } from './mutable-state.js';
import { newRunId, type Shard } from './shard.js';
import type { ShardController } from './shard-controller.js';
import { HistoryNotifier } from './notifier.js';
import { WorkflowTaskHandler } from './workflow-task-handler.js';
import { ActivityHandler } from './activity-handler.js';
import { UpdateHandler } from './update-handler.js';
import type { HistoryConfig } from './config.js';
import { nextCronDelayMs } from './cron.js';
import { encodeQueryTaskToken } from './task-token.js';

const ET = enums.EventType;
const Status = enums.WorkflowExecutionStatus;
const ReusePolicy = enums.WorkflowIdReusePolicy;
const ConflictPolicy = enums.WorkflowIdConflictPolicy;

/** Everything needed to create a run: the start request of a client, a child or a continue-as-new. */
export interface StartParams {
  requestId: string;
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  input?: commonv1.IPayloads | null;
  header?: commonv1.IHeader | null;
  workflowExecutionTimeoutMs: number;
  workflowRunTimeoutMs: number;
  workflowTaskTimeoutMs: number;
  identity: string;
  retryPolicy?: commonv1.IRetryPolicy | null;
  cronSchedule?: string;
  memo?: commonv1.IMemo | null;
  searchAttributes?: commonv1.ISearchAttributes | null;
  firstWorkflowTaskBackoffMs: number;
  /** Set for continue-as-new, retry and cron runs. */
  continued?: {
    previousRunId: string;
    firstRunId: string;
    attempt: number;
    initiator: number;
    failure?: failurev1.IFailure | null;
    lastCompletionResult?: commonv1.IPayloads | null;
    executionExpirationTimeMs: number;
  };
  parent?: { namespaceId: string; namespace: string; workflowId: string; runId: string; initiatedEventId: number };
  /** A signal written right after the started event (signal-with-start). */
  signal?: { name: string; input?: commonv1.IPayloads | null; header?: commonv1.IHeader | null; identity: string; requestId: string };
}

export class HistoryEngine implements HistoryApi, TaskStarter {
  readonly notifier = new HistoryNotifier();
  readonly workflowTasks: WorkflowTaskHandler;
  readonly activities: ActivityHandler;
  readonly updates: UpdateHandler;
  private matchingApi?: MatchingApi;

  constructor(
    readonly config: HistoryConfig,
    readonly store: Persistence,
    readonly namespaces: NamespaceRegistry,
    readonly shards: ShardController,
    readonly log: Logger,
  ) {
    this.workflowTasks = new WorkflowTaskHandler(this);
    this.activities = new ActivityHandler(this);
    this.updates = new UpdateHandler(this);
  }

  /** Matching and history need each other; the process main wires matching in after both exist. */
  setMatching(matching: MatchingApi): void {
    this.matchingApi = matching;
  }

  get matching(): MatchingApi {
    if (!this.matchingApi) throw apiError('UNAVAILABLE', 'matching is not wired to history');
    return this.matchingApi;
  }

  shardFor(namespaceId: string, workflowId: string): Shard {
    return this.shards.shardFor(namespaceId, workflowId);
  }

  // ---- the workflow-run transaction -------------------------------------------------------

  /**
   * Runs fn on the run's mutable state under the workflow's lock and writes what it produced.
   * An empty runId means the current run. A lost race on the record version retries from a
   * fresh load.
   */
  async withRun<T>(
    namespaceId: string,
    workflowId: string,
    runId: string,
    fn: (ms: MutableState, shard: Shard) => Promise<T> | T,
  ): Promise<T> {
    const shard = this.shardFor(namespaceId, workflowId);
    const ns = await this.namespaces.requireById(namespaceId);
    return shard.workflowLocks.run(`${namespaceId}/${workflowId}`, async () => {
      for (let attempt = 1; ; attempt++) {
        const ms = await this.loadRun(shard, namespaceId, workflowId, runId, ns.failoverVersion);
        ms.retentionMs = ns.retentionMs;
        try {
          const result = await fn(ms, shard);
          await shard.updateExecution(ms);
          return result;
        } catch (err) {
          if (err instanceof ConditionFailedError && attempt < 3) {
            shard.invalidate(ms.key);
            continue;
          }
          // A failed handler may have changed the cached state half-way: reload next time.
          const untouched = ms.pendingTransaction.events.length === 0 && ms.pendingTransaction.tasks.length === 0 && !ms.dirty;
          if (!(isTandemError(err) && untouched)) shard.invalidate(ms.key);
          ms.takeTransaction();
          throw err;
        }
      }
    });
  }

  /** Reads a run without writing anything. */
  async readRun(namespaceId: string, workflowId: string, runId: string): Promise<MutableState> {
    const shard = this.shardFor(namespaceId, workflowId);
    const ns = await this.namespaces.requireById(namespaceId);
    return shard.workflowLocks.run(`${namespaceId}/${workflowId}`, () =>
      this.loadRun(shard, namespaceId, workflowId, runId, ns.failoverVersion),
    );
  }

  private async loadRun(shard: Shard, namespaceId: string, workflowId: string, runId: string, version: bigint): Promise<MutableState> {
    let rid = runId;
    if (!rid) {
      const current = await this.store.executions.getCurrentExecution(shard.shardId, namespaceId, workflowId);
      if (!current) throw apiError('WORKFLOW_NOT_FOUND', workflowId);
      rid = current.runId;
    }
    const ms = await shard.loadExecution({ namespaceId, workflowId, runId: rid }, version);
    if (!ms) throw apiError('WORKFLOW_NOT_FOUND', workflowId, runId);
    return ms;
  }

  // ---- starting runs ----------------------------------------------------------------------

  async startWorkflowExecution(ns: NamespaceRef, req: ws.IStartWorkflowExecutionRequest): Promise<ws.IStartWorkflowExecutionResponse> {
    const params = startParamsFromRequest(req);
    return this.startRun(ns, params, req.workflowIdReusePolicy ?? 0, req.workflowIdConflictPolicy ?? 0);
  }

  async signalWithStartWorkflowExecution(
    ns: NamespaceRef,
    req: ws.ISignalWithStartWorkflowExecutionRequest,
  ): Promise<ws.ISignalWithStartWorkflowExecutionResponse> {
    const params = startParamsFromRequest(req);
    params.signal = {
      name: req.signalName ?? '',
      input: req.signalInput,
      header: req.header,
      identity: req.identity ?? '',
      requestId: req.requestId ?? '',
    };
    // Signal-with-start signals a running workflow and starts one otherwise: a running current run
    // is never an error here.
    const shard = this.shardFor(ns.id, params.workflowId);
    const current = await this.store.executions.getCurrentExecution(shard.shardId, ns.id, params.workflowId);
    if (current && (current.state === 'created' || current.state === 'running')) {
      try {
        await this.signalRun(ns, params.workflowId, current.runId, params.signal);
        return { runId: current.runId, started: false };
      } catch (err) {
        if (!isTandemError(err, 'WORKFLOW_ALREADY_COMPLETED')) throw err;
      }
    }
    const conflict = req.workflowIdConflictPolicy || ConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING;
    return this.startRun(ns, params, req.workflowIdReusePolicy ?? 0, conflict);
  }

  /** Creates a run, honouring the workflow-id reuse and conflict policies against the current run. */
  async startRun(ns: NamespaceRef, params: StartParams, reusePolicy: number, conflictPolicy: number): Promise<ws.IStartWorkflowExecutionResponse> {
    const shard = this.shardFor(ns.id, params.workflowId);
    const nsRecord = await this.namespaces.requireById(ns.id);
    for (let attempt = 1; ; attempt++) {
      const current = await this.store.executions.getCurrentExecution(shard.shardId, ns.id, params.workflowId);
      let mode: CreateMode = { kind: 'brandNew' };
      if (current) {
        const decided = await this.decideOnCurrent(ns, params, current, reusePolicy, conflictPolicy);
        if ('response' in decided) return decided.response;
        mode = decided.mode;
      }
      const runId = newRunId();
      const ms = MutableState.empty({ namespaceId: ns.id, workflowId: params.workflowId, runId }, nsRecord.failoverVersion, runId);
      ms.retentionMs = nsRecord.retentionMs;
      this.addStartEvents(ms, params, Date.now());
      try {
        await shard.workflowLocks.run(`${ns.id}/${params.workflowId}`, () => shard.createExecution(ms, mode));
        return { runId, started: true, status: Status.WORKFLOW_EXECUTION_STATUS_RUNNING };
      } catch (err) {
        if (err instanceof CurrentWorkflowConditionFailedError && attempt < 3) continue;
        throw err;
      }
    }
  }

  private async decideOnCurrent(
    ns: NamespaceRef,
    params: StartParams,
    current: CurrentExecution,
    reusePolicy: number,
    conflictPolicy: number,
  ): Promise<{ response: ws.IStartWorkflowExecutionResponse } | { mode: CreateMode }> {
    const replace: CreateMode = {
      kind: 'replaceCurrent',
      previousRunId: current.runId,
      previousLastWriteVersion: current.lastWriteVersion,
    };
    if (current.createRequestId === params.requestId) {
      return { response: { runId: current.runId, started: false, status: current.status } };
    }
    const running = current.state === 'created' || current.state === 'running';
    if (running) {
      if (conflictPolicy === ConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING) {
        return { response: { runId: current.runId, started: false, status: current.status } };
      }
      const terminate =
        conflictPolicy === ConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING ||
        reusePolicy === ReusePolicy.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING;
      if (!terminate) throw alreadyStarted(params, current);
      await this.terminateRun(ns, params.workflowId, current.runId, 'terminated by a start with the same workflow id', params.identity);
      return { mode: replace };
    }
    const failedStatuses: number[] = [
      Status.WORKFLOW_EXECUTION_STATUS_FAILED,
      Status.WORKFLOW_EXECUTION_STATUS_CANCELED,
      Status.WORKFLOW_EXECUTION_STATUS_TERMINATED,
      Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
    ];
    if (reusePolicy === ReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE) {
      throw alreadyStarted(params, current, 'Workflow execution already finished and WorkflowIdReusePolicy is REJECT_DUPLICATE.');
    }
    if (reusePolicy === ReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY && !failedStatuses.includes(current.status)) {
      throw alreadyStarted(
        params,
        current,
        'Workflow execution already finished successfully and WorkflowIdReusePolicy is ALLOW_DUPLICATE_FAILED_ONLY.',
      );
    }
    return { mode: replace };
  }

  /** The started event, a signal of signal-with-start, and the first workflow task unless delayed. */
  addStartEvents(ms: MutableState, p: StartParams, now: number): void {
    ms.info.createRequestId = p.requestId;
    const executionExpiration =
      p.continued?.executionExpirationTimeMs ?? (p.workflowExecutionTimeoutMs ? now + p.workflowExecutionTimeoutMs : 0);
    ms.addEvent(
      ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      {
        workflowExecutionStartedEventAttributes: {
          workflowType: { name: p.workflowType },
          taskQueue: { name: p.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          input: p.input,
          header: p.header,
          workflowExecutionTimeout: p.workflowExecutionTimeoutMs ? durationFromMs(p.workflowExecutionTimeoutMs) : null,
          workflowRunTimeout: p.workflowRunTimeoutMs ? durationFromMs(p.workflowRunTimeoutMs) : null,
          workflowTaskTimeout: durationFromMs(p.workflowTaskTimeoutMs),
          identity: p.identity,
          originalExecutionRunId: ms.info.runId,
          firstExecutionRunId: p.continued?.firstRunId ?? ms.info.runId,
          continuedExecutionRunId: p.continued?.previousRunId ?? '',
          initiator: p.continued?.initiator ?? 0,
          continuedFailure: p.continued?.failure,
          lastCompletionResult: p.continued?.lastCompletionResult,
          attempt: p.continued?.attempt ?? 1,
          retryPolicy: p.retryPolicy,
          cronSchedule: p.cronSchedule ?? '',
          memo: p.memo,
          searchAttributes: p.searchAttributes,
          firstWorkflowTaskBackoff: p.firstWorkflowTaskBackoffMs > 0 ? durationFromMs(p.firstWorkflowTaskBackoffMs) : null,
          workflowExecutionExpirationTime: executionExpiration ? timestampFromMs(executionExpiration) : null,
          parentWorkflowNamespace: p.parent?.namespace ?? '',
          parentWorkflowNamespaceId: p.parent?.namespaceId ?? '',
          parentWorkflowExecution: p.parent ? { workflowId: p.parent.workflowId, runId: p.parent.runId } : null,
          parentInitiatedEventId: p.parent ? toLong(BigInt(p.parent.initiatedEventId)) : null,
          workflowId: ms.info.workflowId,
        },
      },
      now,
    );
    if (p.signal) {
      ms.addEvent(
        ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        {
          workflowExecutionSignaledEventAttributes: {
            signalName: p.signal.name,
            input: p.signal.input,
            header: p.signal.header,
            identity: p.signal.identity,
            requestId: p.signal.requestId,
          },
        },
        now,
      );
      if (p.signal.requestId) ms.info.signalRequestIds.push(p.signal.requestId);
    }
    if (p.firstWorkflowTaskBackoffMs <= 0) this.workflowTasks.schedule(ms, now);
  }

  // ---- operations on a running workflow ----------------------------------------------------

  async signalWorkflowExecution(ns: NamespaceRef, req: ws.ISignalWorkflowExecutionRequest): Promise<void> {
    await this.signalRun(ns, req.workflowExecution?.workflowId ?? '', req.workflowExecution?.runId ?? '', {
      name: req.signalName ?? '',
      input: req.input,
      header: req.header,
      identity: req.identity ?? '',
      requestId: req.requestId ?? '',
    });
  }

  async signalRun(ns: NamespaceRef, workflowId: string, runId: string, signal: NonNullable<StartParams['signal']>, external?: commonv1.IWorkflowExecution): Promise<void> {
    await this.withRun(ns.id, workflowId, runId, (ms) => {
      if (!ms.isRunning) throw apiError('WORKFLOW_ALREADY_COMPLETED');
      if (signal.requestId && ms.info.signalRequestIds.includes(signal.requestId)) return;
      const now = Date.now();
      ms.addEvent(
        ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        {
          workflowExecutionSignaledEventAttributes: {
            signalName: signal.name,
            input: signal.input,
            header: signal.header,
            identity: signal.identity,
            requestId: signal.requestId,
            externalWorkflowExecution: external,
          },
        },
        now,
      );
      if (signal.requestId) {
        ms.info.signalRequestIds.push(signal.requestId);
        if (ms.info.signalRequestIds.length > 1000) ms.info.signalRequestIds.shift();
      }
      this.workflowTasks.scheduleIfIdle(ms, now);
    });
  }

  async requestCancelWorkflowExecution(ns: NamespaceRef, req: ws.IRequestCancelWorkflowExecutionRequest): Promise<void> {
    await this.cancelRun(ns, req.workflowExecution?.workflowId ?? '', req.workflowExecution?.runId ?? '', {
      identity: req.identity ?? '',
      cause: req.reason ?? '',
    });
  }

  async cancelRun(
    ns: NamespaceRef,
    workflowId: string,
    runId: string,
    opts: { identity: string; cause: string; externalInitiatedEventId?: number; external?: commonv1.IWorkflowExecution },
  ): Promise<void> {
    await this.withRun(ns.id, workflowId, runId, (ms) => {
      if (!ms.isRunning) throw apiError('WORKFLOW_ALREADY_COMPLETED');
      if (ms.info.cancelRequested) return;
      const now = Date.now();
      ms.addEvent(
        ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        {
          workflowExecutionCancelRequestedEventAttributes: {
            cause: opts.cause,
            identity: opts.identity,
            externalInitiatedEventId: opts.externalInitiatedEventId ? toLong(BigInt(opts.externalInitiatedEventId)) : null,
            externalWorkflowExecution: opts.external,
          },
        },
        now,
      );
      this.workflowTasks.scheduleIfIdle(ms, now);
    });
  }

  async terminateWorkflowExecution(ns: NamespaceRef, req: ws.ITerminateWorkflowExecutionRequest): Promise<void> {
    await this.terminateRun(
      ns,
      req.workflowExecution?.workflowId ?? '',
      req.workflowExecution?.runId ?? '',
      req.reason ?? '',
      req.identity ?? '',
      req.details,
    );
  }

  async terminateRun(ns: NamespaceRef, workflowId: string, runId: string, reason: string, identity: string, details?: commonv1.IPayloads | null): Promise<void> {
    await this.withRun(ns.id, workflowId, runId, (ms) => {
      if (!ms.isRunning) throw apiError('WORKFLOW_ALREADY_COMPLETED');
      const now = Date.now();
      this.prepareServerClose(ms, now);
      ms.addEvent(
        ET.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        { workflowExecutionTerminatedEventAttributes: { reason, identity, details } },
        now,
      );
    });
  }

  async deleteWorkflowExecution(ns: NamespaceRef, req: ws.IDeleteWorkflowExecutionRequest): Promise<void> {
    const workflowId = req.workflowExecution?.workflowId ?? '';
    let runId = req.workflowExecution?.runId ?? '';
    try {
      runId = (await this.readRun(ns.id, workflowId, runId)).info.runId;
      await this.terminateRun(ns, workflowId, runId, 'Delete workflow execution', 'history-service');
    } catch (err) {
      if (!isTandemError(err, 'WORKFLOW_ALREADY_COMPLETED')) throw err;
    }
    await this.deleteRun({ namespaceId: ns.id, workflowId, runId });
  }

  /** Removes a closed run: its record, history and visibility. */
  async deleteRun(key: ExecutionKey): Promise<void> {
    const shard = this.shardFor(key.namespaceId, key.workflowId);
    await shard.workflowLocks.run(`${key.namespaceId}/${key.workflowId}`, async () => {
      await this.store.executions.deleteWorkflowExecution(shard.shardId, key);
      shard.invalidate(key);
    });
    await this.store.visibility.deleteVisibility(key.namespaceId, key.runId);
  }

  /**
   * Before the server closes a run on its own (terminate, timeout): a running workflow task is
   * failed and buffered events get their ids, so nothing that arrived is dropped.
   */
  prepareServerClose(ms: MutableState, now: number): void {
    const wt = ms.info.workflowTask;
    if (wt && wt.startedEventId > 0) {
      ms.addEvent(
        ET.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        {
          workflowTaskFailedEventAttributes: {
            scheduledEventId: toLong(BigInt(wt.scheduledEventId)),
            startedEventId: toLong(BigInt(wt.startedEventId)),
            cause: enums.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND,
            identity: 'history-service',
          },
        },
        now,
      );
    }
    ms.flushBuffered();
  }

  // ---- reads ---------------------------------------------------------------------------------

  async describeWorkflowExecution(ns: NamespaceRef, req: ws.IDescribeWorkflowExecutionRequest): Promise<ws.IDescribeWorkflowExecutionResponse> {
    const ms = await this.readRun(ns.id, req.execution?.workflowId ?? '', req.execution?.runId ?? '');
    return describe(ms);
  }

  async getWorkflowExecutionHistory(
    ns: NamespaceRef,
    req: ws.IGetWorkflowExecutionHistoryRequest,
    signal: AbortSignal,
  ): Promise<ws.IGetWorkflowExecutionHistoryResponse> {
    const workflowId = req.execution?.workflowId ?? '';
    const token = decodeHistoryPageToken(req.nextPageToken);
    const runId = token?.runId ?? req.execution?.runId ?? '';
    const closeOnly = req.historyEventFilterType === enums.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT;
    const pageSize = req.maximumPageSize && req.maximumPageSize > 0 ? Math.min(req.maximumPageSize, 1000) : 1000;
    for (;;) {
      const sub = this.notifier.subscribe(ns.id, workflowId);
      let ms: MutableState;
      try {
        ms = await this.readRun(ns.id, workflowId, runId);
      } catch (err) {
        sub.cancel();
        throw err;
      }
      const key = ms.key;
      const shard = this.shardFor(ns.id, workflowId);
      if (closeOnly) {
        if (!ms.isRunning) {
          sub.cancel();
          const events = await shard.readEvents(key, ms.info.branchId, ms.info.completionEventId, ms.info.completionEventId + 1, 1);
          return { history: { events } };
        }
      } else {
        const from = token?.nextEventId ?? 1;
        const to = ms.info.nextEventId;
        if (from < to || !req.waitNewEvent || !ms.isRunning) {
          sub.cancel();
          const events = await shard.readEvents(key, ms.info.branchId, from, to, pageSize);
          const next = from + events.length;
          const more = next < to || (req.waitNewEvent && ms.isRunning);
          return {
            history: { events },
            nextPageToken: more ? encodeHistoryPageToken({ runId: key.runId, nextEventId: next }) : null,
          };
        }
      }
      if (!req.waitNewEvent) {
        sub.cancel();
        return { history: { events: [] } };
      }
      // Long poll: wait for a new event (or the close) until shortly before the client gives up.
      const woke = await sub.wait(signal);
      if (!woke) {
        return {
          history: { events: [] },
          nextPageToken: encodeHistoryPageToken({ runId: key.runId, nextEventId: closeOnly ? 0 : token?.nextEventId ?? 1 }),
        };
      }
      if (!runId) {
        // Keep following the run we started waiting on.
        return this.getWorkflowExecutionHistory(ns, { ...req, execution: { workflowId, runId: key.runId } }, signal);
      }
    }
  }

  async queryWorkflow(ns: NamespaceRef, req: ws.IQueryWorkflowRequest, signal: AbortSignal): Promise<ws.IQueryWorkflowResponse> {
    const ms = await this.settledRun(ns.id, req.execution?.workflowId ?? '', req.execution?.runId ?? '', signal);
    const rejectCondition = req.queryRejectCondition ?? 0;
    if (
      (rejectCondition === enums.QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN && !ms.isRunning) ||
      (rejectCondition === enums.QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY &&
        !ms.isRunning &&
        ms.info.status !== Status.WORKFLOW_EXECUTION_STATUS_COMPLETED)
    ) {
      return { queryRejected: { status: ms.info.status } };
    }
    const sticky = ms.info.stickyTaskQueue;
    const useSticky =
      sticky !== '' &&
      this.matching.hasRecentPoller({ namespaceId: ns.id, name: sticky, type: 1, kind: 2 });
    const task: QueryTaskRequest = {
      taskQueue: { namespaceId: ns.id, name: useSticky ? sticky : ms.info.taskQueue, type: 1, kind: useSticky ? 2 : 1 },
      execution: { workflowId: ms.info.workflowId, runId: ms.info.runId },
      query: req.query ?? {},
    };
    const answer = await this.matching.queryWorkflow(task, signal);
    if (answer.completedType === enums.QueryResultType.QUERY_RESULT_TYPE_FAILED) {
      throw apiErrorWithDetails(
        'INVALID_ARGUMENT',
        [{ typeName: 'temporal.api.errordetails.v1.QueryFailedFailure', value: { failure: answer.failure } }],
        answer.errorMessage || 'query failed',
      );
    }
    return { queryResult: answer.queryResult };
  }

  /**
   * The run once no workflow task is pending: a query must see every event accepted before it
   * (signals included), so it waits for the task that delivers them to the worker.
   */
  private async settledRun(namespaceId: string, workflowId: string, runId: string, signal: AbortSignal): Promise<MutableState> {
    for (;;) {
      const sub = this.notifier.subscribe(namespaceId, workflowId);
      try {
        const ms = await this.readRun(namespaceId, workflowId, runId);
        if (!ms.isRunning || !ms.hasPendingWorkflowTask) return ms;
        if (!(await sub.wait(signal))) {
          throw apiError('DEADLINE_EXCEEDED', 'query timed out waiting for the workflow task in flight to complete');
        }
      } finally {
        sub.cancel();
      }
    }
  }

  async buildQueryTask(queryId: string, task: QueryTaskRequest, _poll: ws.IPollWorkflowTaskQueueRequest): Promise<ws.IPollWorkflowTaskQueueResponse> {
    const ms = await this.readRun(task.taskQueue.namespaceId, task.execution.workflowId ?? '', task.execution.runId ?? '');
    const shard = this.shardFor(ms.info.namespaceId, ms.info.workflowId);
    const events = await shard.readAllEvents(ms.key, ms.info.branchId, 1, ms.info.nextEventId);
    return {
      taskToken: encodeQueryTaskToken({ namespaceId: ms.info.namespaceId, queryId }),
      workflowExecution: { workflowId: ms.info.workflowId, runId: ms.info.runId },
      workflowType: { name: ms.info.workflowType },
      previousStartedEventId: toLong(BigInt(ms.info.lastCompletedWorkflowTaskStartedEventId)),
      history: { events },
      query: task.query,
      workflowExecutionTaskQueue: { name: ms.info.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      attempt: 1,
    };
  }

  async resetStickyTaskQueue(ns: NamespaceRef, execution: commonv1.IWorkflowExecution): Promise<void> {
    await this.withRun(ns.id, execution.workflowId ?? '', execution.runId ?? '', (ms) => {
      if (ms.info.stickyTaskQueue) {
        ms.info.stickyTaskQueue = '';
        ms.dirty = true;
      }
    });
  }

  // ---- worker protocol (delegated) -----------------------------------------------------------

  recordWorkflowTaskStarted(task: AddTaskRequest, poll: ws.IPollWorkflowTaskQueueRequest): Promise<ws.IPollWorkflowTaskQueueResponse> {
    return this.workflowTasks.recordStarted(task, poll);
  }

  respondWorkflowTaskCompleted(ns: NamespaceRef, req: ws.IRespondWorkflowTaskCompletedRequest): Promise<ws.IRespondWorkflowTaskCompletedResponse> {
    return this.workflowTasks.completed(ns, req);
  }

  respondWorkflowTaskFailed(ns: NamespaceRef, req: ws.IRespondWorkflowTaskFailedRequest): Promise<void> {
    return this.workflowTasks.failed(ns, req);
  }

  recordActivityTaskStarted(task: AddTaskRequest, poll: ws.IPollActivityTaskQueueRequest): Promise<ws.IPollActivityTaskQueueResponse> {
    return this.activities.recordStarted(task, poll);
  }

  recordActivityTaskHeartbeat(
    ns: NamespaceRef,
    req: ws.IRecordActivityTaskHeartbeatRequest | ws.IRecordActivityTaskHeartbeatByIdRequest,
  ): Promise<ws.IRecordActivityTaskHeartbeatResponse> {
    return this.activities.heartbeat(ns, req);
  }

  respondActivityTaskCompleted(
    ns: NamespaceRef,
    req: ws.IRespondActivityTaskCompletedRequest | ws.IRespondActivityTaskCompletedByIdRequest,
  ): Promise<void> {
    return this.activities.completed(ns, req);
  }

  respondActivityTaskFailed(
    ns: NamespaceRef,
    req: ws.IRespondActivityTaskFailedRequest | ws.IRespondActivityTaskFailedByIdRequest,
  ): Promise<ws.IRespondActivityTaskFailedResponse> {
    return this.activities.failed(ns, req);
  }

  respondActivityTaskCanceled(
    ns: NamespaceRef,
    req: ws.IRespondActivityTaskCanceledRequest | ws.IRespondActivityTaskCanceledByIdRequest,
  ): Promise<void> {
    return this.activities.canceled(ns, req);
  }

  updateWorkflowExecution(ns: NamespaceRef, req: ws.IUpdateWorkflowExecutionRequest, signal: AbortSignal): Promise<ws.IUpdateWorkflowExecutionResponse> {
    return this.updates.update(ns, req, signal);
  }

  pollWorkflowExecutionUpdate(ns: NamespaceRef, req: ws.IPollWorkflowExecutionUpdateRequest, signal: AbortSignal): Promise<ws.IPollWorkflowExecutionUpdateResponse> {
    return this.updates.poll(ns, req, signal);
  }

  /** Reads one event of a run (e.g. an activity's scheduled event, for its input). */
  async readEvent(ms: MutableState, eventId: number): Promise<HistoryEvent | undefined> {
    const shard = this.shardFor(ms.info.namespaceId, ms.info.workflowId);
    const [e] = await shard.readEvents(ms.key, ms.info.branchId, eventId, eventId + 1, 1);
    return e;
  }

  /**
   * The run that follows a closed one (continue-as-new, retry, cron) shares the workflow id and
   * is written in the same batch; this builds its mutable state.
   */
  newRunAfter(ms: MutableState, params: StartParams, now: number): MutableState {
    const runId = newRunId();
    const next = MutableState.empty(
      { namespaceId: ms.info.namespaceId, workflowId: ms.info.workflowId, runId },
      ms.currentVersion,
      runId,
    );
    next.retentionMs = ms.retentionMs;
    this.addStartEvents(next, params, now);
    return next;
  }

  /** Start params for a retry or cron run of ms, or null when neither applies. */
  async nextRunParams(
    ms: MutableState,
    kind: 'retry' | 'cron',
    now: number,
    failure: failurev1.IFailure | null,
    lastResult: commonv1.IPayloads | null,
  ): Promise<StartParams | null> {
    const info = ms.info;
    let backoff = -1;
    let attempt = info.attempt;
    let initiator = enums.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY;
    if (kind === 'retry') {
      backoff = retryBackoffMs(info.retryPolicy, info.attempt, failure, now, info.executionExpirationTimeMs);
      attempt = info.attempt + 1;
    } else if (info.cronSchedule) {
      backoff = nextCronDelayMs(info.cronSchedule, now);
      attempt = 1;
      initiator = enums.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE;
    }
    if (backoff < 0) return null;
    const started = (await this.readEvent(ms, 1))?.workflowExecutionStartedEventAttributes;
    if (!started) return null;
    return {
      requestId: randomUUID(),
      workflowId: info.workflowId,
      workflowType: info.workflowType,
      taskQueue: info.taskQueue,
      input: started.input,
      header: started.header,
      workflowExecutionTimeoutMs: info.executionTimeoutMs,
      workflowRunTimeoutMs: info.runTimeoutMs,
      workflowTaskTimeoutMs: info.workflowTaskTimeoutMs,
      identity: 'history-service',
      retryPolicy: started.retryPolicy,
      cronSchedule: info.cronSchedule,
      memo: info.memo ? decodeB64(commonv1.Memo, info.memo) : null,
      searchAttributes: info.searchAttributes ? decodeB64(commonv1.SearchAttributes, info.searchAttributes) : null,
      firstWorkflowTaskBackoffMs: backoff,
      continued: {
        previousRunId: info.runId,
        firstRunId: info.firstRunId,
        attempt,
        initiator,
        failure,
        lastCompletionResult: lastResult,
        executionExpirationTimeMs: info.executionExpirationTimeMs,
      },
      parent: info.parent ?? undefined,
    };
  }
}

function alreadyStarted(params: StartParams, current: CurrentExecution, message?: string): TandemError {
  const details = [
    {
      typeName: 'temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure',
      value: { startRequestId: current.createRequestId, runId: current.runId },
    },
  ];
  const err = apiErrorWithDetails('WORKFLOW_ALREADY_STARTED', details, params.workflowId, current.runId);
  return message ? new TandemError(err.code, err.grpcStatus, message, details) : err;
}

export function startParamsFromRequest(req: ws.IStartWorkflowExecutionRequest | ws.ISignalWithStartWorkflowExecutionRequest): StartParams {
  const executionTimeoutMs = optionalDurationMs(req.workflowExecutionTimeout);
  let runTimeoutMs = optionalDurationMs(req.workflowRunTimeout);
  if (executionTimeoutMs && (!runTimeoutMs || runTimeoutMs > executionTimeoutMs)) runTimeoutMs = executionTimeoutMs;
  const cron = req.cronSchedule ?? '';
  const delayMs = optionalDurationMs(req.workflowStartDelay);
  return {
    requestId: req.requestId || randomUUID(),
    workflowId: req.workflowId ?? '',
    workflowType: req.workflowType?.name ?? '',
    taskQueue: req.taskQueue?.name ?? '',
    input: req.input,
    header: req.header,
    workflowExecutionTimeoutMs: executionTimeoutMs,
    workflowRunTimeoutMs: runTimeoutMs,
    workflowTaskTimeoutMs: Math.min(optionalDurationMs(req.workflowTaskTimeout) || 10_000, 120_000),
    identity: req.identity ?? '',
    retryPolicy: req.retryPolicy,
    cronSchedule: cron,
    memo: req.memo,
    searchAttributes: req.searchAttributes,
    firstWorkflowTaskBackoffMs: cron ? nextCronDelayMs(cron, Date.now()) : delayMs,
  };
}

interface HistoryPageToken {
  runId: string;
  nextEventId: number;
}

export function encodeHistoryPageToken(t: HistoryPageToken): Uint8Array {
  return Buffer.from(JSON.stringify(t), 'utf8');
}

export function decodeHistoryPageToken(b: Uint8Array | null | undefined): HistoryPageToken | null {
  if (!b || b.length === 0) return null;
  try {
    const t = JSON.parse(Buffer.from(b).toString('utf8')) as HistoryPageToken;
    if (typeof t.runId !== 'string' || typeof t.nextEventId !== 'number') throw new Error('bad token');
    return t;
  } catch {
    throw apiError('INVALID_ARGUMENT', 'Invalid NextPageToken.');
  }
}

function describe(ms: MutableState): ws.IDescribeWorkflowExecutionResponse {
  const info = ms.info;
  const wt = info.workflowTask;
  return {
    executionConfig: {
      taskQueue: { name: info.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      workflowExecutionTimeout: durationFromMs(info.executionTimeoutMs),
      workflowRunTimeout: durationFromMs(info.runTimeoutMs),
      defaultWorkflowTaskTimeout: durationFromMs(info.workflowTaskTimeoutMs),
    },
    workflowExecutionInfo: {
      execution: { workflowId: info.workflowId, runId: info.runId },
      type: { name: info.workflowType },
      startTime: timestampFromMs(info.startTimeMs),
      closeTime: info.closeTimeMs ? timestampFromMs(info.closeTimeMs) : null,
      executionTime: timestampFromMs(info.executionTimeMs),
      status: info.status,
      historyLength: toLong(BigInt(info.nextEventId - 1)),
      historySizeBytes: toLong(BigInt(info.historySizeBytes)),
      taskQueue: info.taskQueue,
      memo: info.memo ? decodeB64(commonv1.Memo, info.memo) : null,
      searchAttributes: info.searchAttributes ? decodeB64(commonv1.SearchAttributes, info.searchAttributes) : null,
      parentNamespaceId: info.parent?.namespaceId ?? '',
      parentExecution: info.parent ? { workflowId: info.parent.workflowId, runId: info.parent.runId } : null,
      firstRunId: info.firstRunId,
      stateTransitionCount: toLong(BigInt(ms.dbRecordVersion)),
      executionDuration: info.closeTimeMs ? durationFromMs(info.closeTimeMs - info.startTimeMs) : null,
    },
    pendingActivities: ms.data.activities.map((a) => ({
      activityId: a.activityId,
      activityType: { name: a.activityType },
      state: a.cancelRequested
        ? enums.PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
        : a.started
          ? enums.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
          : enums.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
      heartbeatDetails: a.heartbeatDetails ? decodeB64(commonv1.Payloads, a.heartbeatDetails) : null,
      lastHeartbeatTime: a.lastHeartbeatMs ? timestampFromMs(a.lastHeartbeatMs) : null,
      lastStartedTime: a.startedTimeMs ? timestampFromMs(a.startedTimeMs) : null,
      attempt: a.attempt,
      maximumAttempts: a.retryPolicy?.maximumAttempts ?? 0,
      scheduledTime: timestampFromMs(a.currentAttemptScheduledTimeMs),
      expirationTime: a.scheduleToCloseMs ? timestampFromMs(a.scheduledTimeMs + a.scheduleToCloseMs) : null,
      lastFailure: a.lastFailure ? decodeB64(failurev1.Failure, a.lastFailure) : null,
      lastWorkerIdentity: a.lastWorkerIdentity,
    })),
    pendingChildren: ms.data.children.map((c) => ({
      workflowId: c.workflowId,
      runId: c.runId,
      workflowTypeName: c.workflowType,
      initiatedId: toLong(BigInt(c.initiatedEventId)),
      parentClosePolicy: c.parentClosePolicy,
    })),
    pendingWorkflowTask: wt
      ? {
          state:
            wt.startedEventId > 0
              ? enums.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
              : enums.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED,
          scheduledTime: timestampFromMs(wt.scheduledTimeMs),
          originalScheduledTime: timestampFromMs(wt.scheduledTimeMs),
          startedTime: wt.startedTimeMs ? timestampFromMs(wt.startedTimeMs) : null,
          attempt: wt.attempt,
        }
      : null,
  };
}
