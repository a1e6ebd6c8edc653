// The history engine: the HistoryApi of one node. It composes the handlers (workflow tasks,
// commands, activities, updates) over the one write path (transaction.ts) and serves the client
// calls and reads itself.
import type { Logger } from '../common/logger.js';
import type { Registry } from '../common/metrics.js';
import { apiError, apiErrorWithDetails, isTandemError, TandemError } from '../common/errors.js';
import { enums, commonv1, workflowservice as ws } from '../common/temporal.js';
import { toLong } from '../common/proto-time.js';
import { CurrentWorkflowConditionFailedError } from '../persistence/errors.js';
import type { Persistence } from '../persistence/store.js';
import type { CreateMode, CurrentExecution } from '../persistence/types.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import type { MatchingApi, AddTaskRequest, QueryTaskRequest, TaskStarter } from '../matching/api.js';
import type { HistoryApi, NamespaceRef } from './api.js';
import { ActivityHandler } from './activity-handler.js';
import { CommandHandler } from './command-handler.js';
import type { HistoryConfig } from './config.js';
import type { HistoryContext } from './context.js';
import { MutableState } from './mutable-state.js';
import { HistoryNotifier } from './notifier.js';
import { RunStarter, startParamsFromRequest, type StartParams } from './run-starter.js';
import { ActivityOperator } from './activity-operator.js';
import { resetWorkflowExecution } from './reset.js';
import { newRunId, type Shard } from './shard.js';
import type { ShardController } from './shard-controller.js';
import { SyncReplication, withoutStandbyWait, type ReplicationAckWaiter } from './sync-replication.js';
import { Transactions } from './transaction.js';
import { UpdateHandler } from './update-handler.js';
import { WorkflowTaskHandler } from './workflow-task-handler.js';
import { WorkflowTaskScheduler } from './workflow-task-scheduler.js';
import { WorkflowReads } from './workflow-reads.js';
import { updateOptions } from './workflow-options.js';

const ET = enums.EventType;
const Status = enums.WorkflowExecutionStatus;
const ReusePolicy = enums.WorkflowIdReusePolicy;
const ConflictPolicy = enums.WorkflowIdConflictPolicy;

export class HistoryEngine implements HistoryApi, TaskStarter, HistoryContext {
  readonly notifier = new HistoryNotifier();
  readonly tx: Transactions;
  readonly scheduler = new WorkflowTaskScheduler();
  readonly starter: RunStarter;
  readonly workflowTasks: WorkflowTaskHandler;
  readonly activities: ActivityHandler;
  readonly updates: UpdateHandler;
  readonly reads: WorkflowReads;
  private readonly activityOperator: ActivityOperator;
  private matchingApi?: MatchingApi;
  private readonly sync: SyncReplication;

  constructor(
    readonly config: HistoryConfig,
    readonly store: Persistence,
    readonly namespaces: NamespaceRegistry,
    readonly shards: ShardController,
    readonly log: Logger,
    registry: Registry,
  ) {
    this.sync = new SyncReplication(namespaces.localRegion, config.syncReplicationTimeoutMs, registry);
    this.tx = new Transactions(shards, store, namespaces, this.sync);
    this.starter = new RunStarter(this.tx, this.scheduler);
    this.updates = new UpdateHandler(this);
    this.activities = new ActivityHandler(this, this.scheduler);
    this.workflowTasks = new WorkflowTaskHandler(this, this.scheduler, new CommandHandler(this, this.starter, this.updates), this.updates, this.activities);
    this.reads = new WorkflowReads(this);
    this.activityOperator = new ActivityOperator(this);
    this.tx.onBeforeActiveWrite((ms, now) => {
      this.scheduler.failStaleRegionTask(ms, now);
      this.enforceHistoryLimits(ms, now);
    });
  }

  /**
   * A running workflow past the history limits is terminated before the write that would grow it
   * further: that write then finds the run closed (a signal gets "workflow execution already
   * completed"), and the history says why in the termination's reason.
   */
  private enforceHistoryLimits(ms: MutableState, now: number): void {
    if (!ms.isRunning) return;
    const events = ms.info.nextEventId - 1;
    const { maxHistorySizeBytes, maxHistoryEvents } = this.config;
    const reason =
      ms.info.historySizeBytes > maxHistorySizeBytes
        ? `Workflow history size exceeds limit: ${ms.info.historySizeBytes} bytes > ${maxHistorySizeBytes} bytes.`
        : events > maxHistoryEvents
          ? `Workflow history count exceeds limit: ${events} events > ${maxHistoryEvents} events.`
          : undefined;
    if (!reason) return;
    this.log.warn({ workflowId: ms.key.workflowId, runId: ms.key.runId, reason }, 'workflow terminated for its history size');
    this.prepareServerClose(ms, now);
    ms.addEvent(ET.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, { workflowExecutionTerminatedEventAttributes: { reason, identity: 'history-service' } }, now);
  }

  /** Matching and history need each other; the process main wires matching in after both exist. */
  setMatching(matching: MatchingApi): void {
    this.matchingApi = matching;
  }

  /**
   * Replication's acks, for sync namespaces (sync-replication.ts): the process main passes them in
   * when it composes replication, which history does not import.
   */
  useReplicationAcks(waiter: ReplicationAckWaiter): void {
    this.sync.use(waiter);
  }

  get matching(): MatchingApi {
    if (!this.matchingApi) throw apiError('UNAVAILABLE', 'matching is not wired to history');
    return this.matchingApi;
  }

  shardFor(namespaceId: string, workflowId: string): Shard {
    return this.shards.shardFor(namespaceId, workflowId);
  }

  /** The workflow id's current run, as its shard records it; null when it never ran. */
  currentExecution(namespaceId: string, workflowId: string): Promise<CurrentExecution | null> {
    return this.store.executions.getCurrentExecution(this.shardFor(namespaceId, workflowId).shardId, namespaceId, workflowId);
  }

  // ---- starting runs ----------------------------------------------------------------------

  async startWorkflowExecution(ns: NamespaceRef, req: ws.IStartWorkflowExecutionRequest): Promise<ws.IStartWorkflowExecutionResponse> {
    const params = startParamsFromRequest(req);
    // Eager start (the caller's client and worker share a connection): the first task is started
    // in the start's own write and answered with it. A delayed or cron start is not eager.
    const eager = Boolean(req.requestEagerExecution) && params.firstWorkflowTaskBackoffMs === 0;
    if (eager) params.eagerIdentity = req.identity ?? '';
    const resp = await this.startRun(ns, params, req.workflowIdReusePolicy ?? 0, req.workflowIdConflictPolicy ?? 0);
    if (eager && resp.started) {
      resp.eagerWorkflowTask = await this.workflowTasks.startedTaskResponse(await this.tx.read(ns.id, params.workflowId, resp.runId ?? ''));
    }
    return resp;
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
    const current = await this.currentExecution(ns.id, params.workflowId);
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
    // Refused before the dedup answer too: a passive region cannot know the start is done.
    await this.tx.activeNamespace(ns.id);
    // Written first as a new workflow id, no read before: when the id has a current run, the
    // create's failed condition returns it, and the policies decide from there.
    let current: CurrentExecution | null = null;
    for (let attempt = 1; ; attempt++) {
      let mode: CreateMode = { kind: 'brandNew' };
      if (current) {
        const decided = await this.decideOnCurrent(ns, params, current, reusePolicy, conflictPolicy);
        if ('response' in decided) {
          // An existing run (a retried start): answered like its own start, once replicated.
          await this.tx.awaitStandbys(ns.id, params.workflowId);
          return decided.response;
        }
        mode = decided.mode;
      }
      const runId = newRunId();
      try {
        await this.tx.create(ns.id, params.workflowId, mode, (version, now) => {
          const ms = MutableState.empty({ namespaceId: ns.id, workflowId: params.workflowId, runId }, version, runId);
          this.starter.addStartEvents(ms, params, now);
          return ms;
        });
        return { runId, started: true, status: Status.WORKFLOW_EXECUTION_STATUS_RUNNING };
      } catch (err) {
        // Three decisions on a current run, as many as when each attempt read it first.
        if (!(err instanceof CurrentWorkflowConditionFailedError) || attempt > 3) throw err;
        current = err.current;
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
    await this.tx.update(ns.id, workflowId, runId, (ms) => {
      if (!ms.isRunning) throw apiError('WORKFLOW_ALREADY_COMPLETED');
      if (signal.requestId && ms.hasSignal(signal.requestId)) return;
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
      this.scheduler.scheduleIfIdle(ms, now);
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
    await this.tx.update(ns.id, workflowId, runId, (ms) => {
      if (!ms.isRunning) throw apiError('WORKFLOW_ALREADY_COMPLETED');
      if (ms.cancelRequested) return;
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
      this.scheduler.scheduleIfIdle(ms, now);
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
    await this.tx.update(ns.id, workflowId, runId, (ms) => {
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
      runId = (await this.tx.read(ns.id, workflowId, runId)).info.runId;
      await this.terminateRun(ns, workflowId, runId, 'Delete workflow execution', 'history-service');
    } catch (err) {
      if (!isTandemError(err, 'WORKFLOW_ALREADY_COMPLETED')) throw err;
    }
    await this.tx.deleteRun({ namespaceId: ns.id, workflowId, runId });
  }

  /**
   * Before the server closes a run on its own (terminate, timeout): a running workflow task is
   * failed and buffered events get their ids, so nothing that arrived is dropped.
   */
  prepareServerClose(ms: MutableState, now: number): void {
    const wt = ms.workflowTask;
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

  // ---- reads (workflow-reads.ts) -------------------------------------------------------------

  describeWorkflowExecution(ns: NamespaceRef, req: ws.IDescribeWorkflowExecutionRequest): Promise<ws.IDescribeWorkflowExecutionResponse> {
    return this.reads.describe(ns, req);
  }

  getWorkflowExecutionHistory(ns: NamespaceRef, req: ws.IGetWorkflowExecutionHistoryRequest, signal: AbortSignal): Promise<ws.IGetWorkflowExecutionHistoryResponse> {
    return this.reads.history(ns, req, signal);
  }

  getWorkflowExecutionHistoryReverse(ns: NamespaceRef, req: ws.IGetWorkflowExecutionHistoryReverseRequest): Promise<ws.IGetWorkflowExecutionHistoryReverseResponse> {
    return this.reads.historyReverse(ns, req);
  }

  queryWorkflow(ns: NamespaceRef, req: ws.IQueryWorkflowRequest, signal: AbortSignal): Promise<ws.IQueryWorkflowResponse> {
    return this.reads.query(ns, req, signal);
  }

  buildQueryTask(queryId: string, task: QueryTaskRequest, poll: ws.IPollWorkflowTaskQueueRequest): Promise<ws.IPollWorkflowTaskQueueResponse> {
    return this.reads.queryTask(queryId, task, poll);
  }

  async refreshNamespace(namespaceId: string): Promise<void> {
    await this.namespaces.refreshNamespace(namespaceId);
  }

  async resetStickyTaskQueue(ns: NamespaceRef, execution: commonv1.IWorkflowExecution): Promise<void> {
    await this.tx.update(ns.id, execution.workflowId ?? '', execution.runId ?? '', (ms) => {
      if (ms.progress.stickyTaskQueue) {
        ms.progress.stickyTaskQueue = '';
        ms.dirty = true;
      }
    });
  }

  async updateWorkflowExecutionOptions(ns: NamespaceRef, req: ws.IUpdateWorkflowExecutionOptionsRequest): Promise<ws.IUpdateWorkflowExecutionOptionsResponse> {
    let resp: ws.IUpdateWorkflowExecutionOptionsResponse = {};
    await this.tx.update(ns.id, req.workflowExecution?.workflowId ?? '', req.workflowExecution?.runId ?? '', (ms) => {
      resp = updateOptions(ms, req, Date.now());
    });
    return resp;
  }

  pauseActivity(ns: NamespaceRef, req: ws.IPauseActivityRequest): Promise<void> {
    return this.activityOperator.pause(ns, req);
  }

  unpauseActivity(ns: NamespaceRef, req: ws.IUnpauseActivityRequest): Promise<void> {
    return this.activityOperator.unpause(ns, req);
  }

  resetActivity(ns: NamespaceRef, req: ws.IResetActivityRequest): Promise<void> {
    return this.activityOperator.reset(ns, req);
  }

  updateActivityOptions(ns: NamespaceRef, req: ws.IUpdateActivityOptionsRequest): Promise<ws.IUpdateActivityOptionsResponse> {
    return this.activityOperator.updateOptions(ns, req);
  }

  resetWorkflowExecution(ns: NamespaceRef, req: ws.IResetWorkflowExecutionRequest): Promise<ws.IResetWorkflowExecutionResponse> {
    return resetWorkflowExecution(this, this, ns, req);
  }

  // ---- worker protocol (delegated) -----------------------------------------------------------

  // A poll's started write is answered on commit even for a sync namespace: the worker's
  // completion, which waits for the standbys, covers it.
  recordWorkflowTaskStarted(task: AddTaskRequest, poll: ws.IPollWorkflowTaskQueueRequest): Promise<ws.IPollWorkflowTaskQueueResponse> {
    return withoutStandbyWait(() => this.workflowTasks.recordStarted(task, poll));
  }

  respondWorkflowTaskCompleted(ns: NamespaceRef, req: ws.IRespondWorkflowTaskCompletedRequest): Promise<ws.IRespondWorkflowTaskCompletedResponse> {
    return this.workflowTasks.completed(ns, req);
  }

  respondWorkflowTaskFailed(ns: NamespaceRef, req: ws.IRespondWorkflowTaskFailedRequest): Promise<void> {
    return this.workflowTasks.failed(ns, req);
  }

  recordActivityTaskStarted(task: AddTaskRequest, poll: ws.IPollActivityTaskQueueRequest): Promise<ws.IPollActivityTaskQueueResponse> {
    return withoutStandbyWait(() => this.activities.recordStarted(task, poll));
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

