// A workflow run's mutable state. Every change is an event: `addEvent` stamps the event (id,
// time, version), `applyEvent` folds it into the state, and the task generator derives the
// timers and transfer tasks from it. The standby region rebuilds the same state by applying the
// replicated events with the same functions (DESIGN invariant 7).
import { enums, historyv1, commonv1, failure as failurev1 } from '../common/temporal.js';
import { durationFromMs, msFromDuration, msFromTimestamp, optionalDurationMs, timestampFromMs, toNumber, toBigInt, toLong } from '../common/proto-time.js';
import type { ExecutionKey, ExecutionState } from '../persistence/types.js';
import { generateTasks, type NewTask } from './task-generator.js';

const ET = enums.EventType;
const Status = enums.WorkflowExecutionStatus;

export type HistoryEvent = historyv1.IHistoryEvent;

export interface RetryPolicyInfo {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** 0: unlimited. */
  maximumAttempts: number;
  nonRetryableErrorTypes: string[];
}

export interface WorkflowTaskInfo {
  scheduledEventId: number;
  /** 0 until a worker picked the task up. */
  startedEventId: number;
  attempt: number;
  scheduledTimeMs: number;
  startedTimeMs: number;
  startToCloseMs: number;
  taskQueue: string;
  /** 1 normal, 2 sticky. */
  kind: 1 | 2;
  requestId: string;
  identity: string;
  /**
   * A retry (attempt > 1) is transient: its scheduled/started events are not written until it
   * completes, so a workflow task that keeps failing does not grow the history.
   */
  transient?: boolean;
}

export interface ActivityInfo {
  scheduledEventId: number;
  activityId: string;
  activityType: string;
  taskQueue: string;
  scheduledTimeMs: number;
  currentAttemptScheduledTimeMs: number;
  /** Started state is kept here; the started event is written with the outcome. */
  started: boolean;
  startedTimeMs: number;
  requestId: string;
  identity: string;
  attempt: number;
  scheduleToStartMs: number;
  scheduleToCloseMs: number;
  startToCloseMs: number;
  heartbeatTimeoutMs: number;
  lastHeartbeatMs: number;
  /** Base64 Payloads of the last heartbeat. */
  heartbeatDetails: string | null;
  cancelRequested: boolean;
  /** Id of the ActivityTaskCancelRequested event, 0 when none. */
  cancelRequestedEventId: number;
  retryPolicy: RetryPolicyInfo | null;
  /** Base64 Failure of the last failed attempt. */
  lastFailure: string | null;
  lastWorkerIdentity: string;
}

export interface TimerInfo {
  timerId: string;
  startedEventId: number;
  expiryTimeMs: number;
}

export interface ChildInfo {
  initiatedEventId: number;
  startedEventId: number;
  namespace: string;
  namespaceId: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  /** temporal.api.enums.v1.ParentClosePolicy */
  parentClosePolicy: number;
  requestId: string;
}

export interface ExternalRequestInfo {
  initiatedEventId: number;
  namespace: string;
  workflowId: string;
  runId: string;
  requestId: string;
}

/** An update the worker accepted: from then on it is history (admitted ones live in UpdateRegistry). */
export interface UpdateInfo {
  updateId: string;
  stage: 'accepted' | 'completed';
  acceptedEventId: number;
  completedEventId: number;
}

export interface ParentInfo {
  namespaceId: string;
  namespace: string;
  workflowId: string;
  runId: string;
  initiatedEventId: number;
}

export interface ExecutionInfo {
  namespaceId: string;
  workflowId: string;
  runId: string;
  firstRunId: string;
  workflowType: string;
  taskQueue: string;
  workflowTaskTimeoutMs: number;
  runTimeoutMs: number;
  executionTimeoutMs: number;
  startTimeMs: number;
  /** When the first workflow task is due (start delay, cron or retry backoff). */
  executionTimeMs: number;
  closeTimeMs: number;
  /** Absolute deadlines, 0 for none. */
  runExpirationTimeMs: number;
  executionExpirationTimeMs: number;
  status: number;
  state: ExecutionState;
  nextEventId: number;
  lastCompletedWorkflowTaskStartedEventId: number;
  createRequestId: string;
  startVersion: string;
  lastWriteVersion: string;
  branchId: string;
  /** Version history of the current branch: the last event id written at each version. */
  versionHistory: { eventId: number; version: string }[];
  workflowTask: WorkflowTaskInfo | null;
  stickyTaskQueue: string;
  stickyScheduleToStartMs: number;
  cancelRequested: boolean;
  attempt: number;
  cronSchedule: string;
  retryPolicy: RetryPolicyInfo | null;
  parent: ParentInfo | null;
  completionEventId: number;
  /** Run id of the run this one continued as (continue-as-new, retry, cron). */
  newExecutionRunId: string;
  /** Base64 Memo / SearchAttributes. */
  memo: string | null;
  searchAttributes: string | null;
  signalRequestIds: string[];
  historySizeBytes: number;
}

export interface MutableStateData {
  info: ExecutionInfo;
  activities: ActivityInfo[];
  timers: TimerInfo[];
  children: ChildInfo[];
  signalsOut: ExternalRequestInfo[];
  cancelsOut: ExternalRequestInfo[];
  updates: UpdateInfo[];
  /** Base64 HistoryEvents without ids, waiting for the running workflow task to finish. */
  buffered: string[];
}

/** Events that never wait in the buffer: they are the outcome of the running workflow task itself. */
const unbufferedTypes = new Set<number>([
  ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
  ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
  ET.EVENT_TYPE_WORKFLOW_TASK_STARTED,
  ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  ET.EVENT_TYPE_WORKFLOW_TASK_FAILED,
  ET.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
  ET.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  ET.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
]);

export function encodeB64<T>(type: { encode(m: T): { finish(): Uint8Array } }, msg: T): string {
  return Buffer.from(type.encode(msg).finish()).toString('base64');
}

export function decodeB64<T>(type: { decode(b: Uint8Array): T }, s: string): T {
  return type.decode(Buffer.from(s, 'base64'));
}

export function retryPolicyFromProto(p: commonv1.IRetryPolicy | null | undefined): RetryPolicyInfo | null {
  if (!p) return null;
  return {
    initialIntervalMs: optionalDurationMs(p.initialInterval) || 1000,
    backoffCoefficient: p.backoffCoefficient && p.backoffCoefficient >= 1 ? p.backoffCoefficient : 2,
    maximumIntervalMs: optionalDurationMs(p.maximumInterval),
    maximumAttempts: p.maximumAttempts ?? 0,
    nonRetryableErrorTypes: p.nonRetryableErrorTypes ?? [],
  };
}

export function retryPolicyToProto(p: RetryPolicyInfo | null): commonv1.IRetryPolicy | null {
  if (!p) return null;
  return {
    initialInterval: timestampFromMs(p.initialIntervalMs),
    backoffCoefficient: p.backoffCoefficient,
    maximumInterval: p.maximumIntervalMs ? timestampFromMs(p.maximumIntervalMs) : null,
    maximumAttempts: p.maximumAttempts,
    nonRetryableErrorTypes: p.nonRetryableErrorTypes,
  };
}

/**
 * Backoff before attempt `attempt + 1`, or -1 when the policy says stop: attempts exhausted,
 * a non-retryable failure type, or the next try would start after `deadlineMs` (0: none).
 */
export function retryBackoffMs(
  policy: RetryPolicyInfo | null,
  attempt: number,
  failure: failurev1.IFailure | null | undefined,
  nowMs: number,
  deadlineMs: number,
): number {
  if (!policy) return -1;
  if (policy.maximumAttempts > 0 && attempt >= policy.maximumAttempts) return -1;
  const app = failure?.applicationFailureInfo;
  if (app?.nonRetryable) return -1;
  if (app?.type && policy.nonRetryableErrorTypes.includes(app.type)) return -1;
  if (failure?.timeoutFailureInfo && policy.nonRetryableErrorTypes.includes('timeout')) return -1;
  let backoff = policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, attempt - 1);
  const max = policy.maximumIntervalMs || policy.initialIntervalMs * 100;
  backoff = Math.min(backoff, max);
  const nextDelay = app?.nextRetryDelay ? msFromDuration(app.nextRetryDelay) : 0;
  if (nextDelay > 0) backoff = nextDelay;
  if (deadlineMs > 0 && nowMs + backoff >= deadlineMs) return -1;
  return Math.round(backoff);
}

export interface SpeculativeWorkflowTask {
  scheduledEventId: number;
  /** 0 until a worker picked it up; then scheduledEventId + 1. */
  startedEventId: number;
  scheduledTimeMs: number;
  startedTimeMs: number;
  taskQueue: string;
  kind: 1 | 2;
  startToCloseMs: number;
  identity: string;
  requestId: string;
}

/** A workflow task whose events exist only in what the worker is shown. */
type UnpersistedTask = SpeculativeWorkflowTask & { attempt?: number };

function unpersistedScheduledEvent(t: UnpersistedTask, version: bigint): HistoryEvent {
  return {
    eventId: toLong(BigInt(t.scheduledEventId)),
    eventTime: timestampFromMs(t.scheduledTimeMs),
    eventType: ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    version: toLong(version),
    workflowTaskScheduledEventAttributes: {
      taskQueue: { name: t.taskQueue, kind: t.kind },
      startToCloseTimeout: durationFromMs(t.startToCloseMs),
      attempt: t.attempt ?? 1,
    },
  };
}

function unpersistedStartedEvent(t: UnpersistedTask, version: bigint): HistoryEvent {
  return {
    eventId: toLong(BigInt(t.startedEventId)),
    eventTime: timestampFromMs(t.startedTimeMs),
    eventType: ET.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    version: toLong(version),
    workflowTaskStartedEventAttributes: {
      scheduledEventId: toLong(BigInt(t.scheduledEventId)),
      identity: t.identity,
      requestId: t.requestId,
    },
  };
}

export interface Transaction {
  events: HistoryEvent[];
  tasks: NewTask[];
  /** Events of the run created by continue-as-new / retry / cron, written in the same batch. */
  newRun?: MutableState;
}

export class MutableState {
  readonly data: MutableStateData;
  /** Version of the namespace at the time of this transaction; stamped on every new event. */
  currentVersion: bigint;
  dbRecordVersion: number;
  /** State changed without events (activity started, heartbeat): still needs a write. */
  dirty = false;
  /**
   * A workflow task that exists only in memory (it carries Workflow Updates): its events are
   * written only if the worker's answer changes the workflow, or another event arrives first.
   */
  speculative: SpeculativeWorkflowTask | null = null;
  /** The namespace's retention, for the deletion timer of a closed run; not persisted. */
  retentionMs = 24 * 3600 * 1000;
  private tx: Transaction = { events: [], tasks: [] };

  constructor(data: MutableStateData, dbRecordVersion: number, currentVersion: bigint) {
    this.data = data;
    this.dbRecordVersion = dbRecordVersion;
    this.currentVersion = currentVersion;
  }

  static empty(key: ExecutionKey, currentVersion: bigint, branchId: string): MutableState {
    const info: ExecutionInfo = {
      namespaceId: key.namespaceId,
      workflowId: key.workflowId,
      runId: key.runId,
      firstRunId: key.runId,
      workflowType: '',
      taskQueue: '',
      workflowTaskTimeoutMs: 10_000,
      runTimeoutMs: 0,
      executionTimeoutMs: 0,
      startTimeMs: 0,
      executionTimeMs: 0,
      closeTimeMs: 0,
      runExpirationTimeMs: 0,
      executionExpirationTimeMs: 0,
      status: Status.WORKFLOW_EXECUTION_STATUS_RUNNING,
      state: 'created',
      nextEventId: 1,
      lastCompletedWorkflowTaskStartedEventId: 0,
      createRequestId: '',
      startVersion: currentVersion.toString(),
      lastWriteVersion: currentVersion.toString(),
      branchId,
      versionHistory: [],
      workflowTask: null,
      stickyTaskQueue: '',
      stickyScheduleToStartMs: 0,
      cancelRequested: false,
      attempt: 1,
      cronSchedule: '',
      retryPolicy: null,
      parent: null,
      completionEventId: 0,
      newExecutionRunId: '',
      memo: null,
      searchAttributes: null,
      signalRequestIds: [],
      historySizeBytes: 0,
    };
    return new MutableState(
      { info, activities: [], timers: [], children: [], signalsOut: [], cancelsOut: [], updates: [], buffered: [] },
      0,
      currentVersion,
    );
  }

  static fromBlob(blob: Uint8Array, dbRecordVersion: number, currentVersion: bigint): MutableState {
    return new MutableState(JSON.parse(Buffer.from(blob).toString('utf8')) as MutableStateData, dbRecordVersion, currentVersion);
  }

  toBlob(): Uint8Array {
    return Buffer.from(JSON.stringify(this.data), 'utf8');
  }

  get info(): ExecutionInfo {
    return this.data.info;
  }

  get key(): ExecutionKey {
    return { namespaceId: this.info.namespaceId, workflowId: this.info.workflowId, runId: this.info.runId };
  }

  get isRunning(): boolean {
    return this.info.state === 'created' || this.info.state === 'running';
  }

  get hasInFlightWorkflowTask(): boolean {
    return this.info.workflowTask !== null && this.info.workflowTask.startedEventId > 0;
  }

  get hasPendingWorkflowTask(): boolean {
    return this.info.workflowTask !== null || this.speculative !== null;
  }

  /** Takes the events and tasks produced since the last call. */
  takeTransaction(): Transaction {
    const tx = this.tx;
    this.tx = { events: [], tasks: [] };
    return tx;
  }

  get pendingTransaction(): Readonly<Transaction> {
    return this.tx;
  }

  addTask(task: NewTask): void {
    this.tx.tasks.push(task);
  }

  setNewRun(ms: MutableState): void {
    this.tx.newRun = ms;
  }

  /**
   * Stamps and records a new event. While a workflow task runs, events from outside are kept in
   * the buffer and get their ids when the task finishes (`flushBuffered`).
   */
  addEvent(eventType: number, attrs: Partial<HistoryEvent>, nowMs: number, opts: { noBuffer?: boolean } = {}): HistoryEvent {
    if (this.unpersistedTask) this.materializeUnpersistedTask();
    const event: HistoryEvent = {
      eventTime: timestampFromMs(nowMs),
      eventType,
      version: toLong(this.currentVersion),
      ...attrs,
    };
    if (!opts.noBuffer && this.hasInFlightWorkflowTask && !unbufferedTypes.has(eventType)) {
      this.data.buffered.push(encodeB64(historyv1.HistoryEvent, event));
      // Buffered events are part of the state: the write that acknowledges them must happen.
      this.dirty = true;
      return event;
    }
    return this.commitEvent(event);
  }

  /** The pending task when its events are not written: speculative (in memory) or transient. */
  private get unpersistedTask(): UnpersistedTask | null {
    if (this.speculative) return this.speculative;
    const wt = this.info.workflowTask;
    return wt?.transient ? wt : null;
  }

  /** A speculative or transient task's events as the worker sees them (not in the store). */
  unpersistedTaskEvents(): HistoryEvent[] {
    const t = this.unpersistedTask;
    if (!t) return [];
    const events = [unpersistedScheduledEvent(t, this.currentVersion)];
    if (t.startedEventId > 0) events.push(unpersistedStartedEvent(t, this.currentVersion));
    return events;
  }

  /** Writes a speculative or transient task's scheduled (and started) events: it becomes normal. */
  materializeUnpersistedTask(): void {
    const t = this.unpersistedTask;
    if (!t) return;
    this.speculative = null;
    if (this.info.workflowTask?.transient) this.info.workflowTask = null;
    this.commitEvent(unpersistedScheduledEvent(t, this.currentVersion));
    if (t.startedEventId > 0) this.commitEvent(unpersistedStartedEvent(t, this.currentVersion));
  }

  /** Gives the buffered events their ids, in arrival order. */
  flushBuffered(): HistoryEvent[] {
    const buffered = this.data.buffered;
    this.data.buffered = [];
    // An activity's outcome names its started event, whose id is only known now.
    const startedIds = new Map<number, HistoryEvent['eventId']>();
    return buffered.map((b) => {
      const e = decodeB64(historyv1.HistoryEvent, b);
      const outcome =
        e.activityTaskCompletedEventAttributes ??
        e.activityTaskFailedEventAttributes ??
        e.activityTaskTimedOutEventAttributes ??
        e.activityTaskCanceledEventAttributes;
      if (outcome) {
        const started = startedIds.get(toNumber(outcome.scheduledEventId));
        if (started) outcome.startedEventId = started;
      }
      const committed = this.commitEvent(e);
      if (e.activityTaskStartedEventAttributes) {
        startedIds.set(toNumber(e.activityTaskStartedEventAttributes.scheduledEventId), committed.eventId);
      }
      return committed;
    });
  }

  private commitEvent(event: HistoryEvent): HistoryEvent {
    event.eventId = toLong(BigInt(this.info.nextEventId));
    this.applyEvent(event);
    this.tx.events.push(event);
    for (const t of generateTasks(this, event)) this.tx.tasks.push(t);
    return event;
  }

  /**
   * Folds one event into the state. Used for new events and for replicated ones, so it must
   * depend only on the event and the state before it.
   */
  applyEvent(e: HistoryEvent): void {
    const info = this.info;
    const id = toNumber(e.eventId);
    const version = toBigInt(e.version);
    const at = msFromTimestamp(e.eventTime);
    info.nextEventId = id + 1;
    info.lastWriteVersion = version.toString();
    const vh = info.versionHistory;
    if (vh.length > 0 && vh[vh.length - 1]!.version === version.toString()) vh[vh.length - 1]!.eventId = id;
    else vh.push({ eventId: id, version: version.toString() });
    info.historySizeBytes += historyv1.HistoryEvent.encode(e).len;

    switch (e.eventType) {
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const a = e.workflowExecutionStartedEventAttributes!;
        info.workflowType = a.workflowType?.name ?? '';
        info.taskQueue = a.taskQueue?.name ?? '';
        info.workflowTaskTimeoutMs = optionalDurationMs(a.workflowTaskTimeout) || 10_000;
        info.runTimeoutMs = optionalDurationMs(a.workflowRunTimeout);
        info.executionTimeoutMs = optionalDurationMs(a.workflowExecutionTimeout);
        info.startTimeMs = at;
        info.executionTimeMs = at + optionalDurationMs(a.firstWorkflowTaskBackoff);
        info.runExpirationTimeMs = info.runTimeoutMs ? info.executionTimeMs + info.runTimeoutMs : 0;
        info.executionExpirationTimeMs = msFromTimestamp(a.workflowExecutionExpirationTime);
        info.firstRunId = a.firstExecutionRunId || info.runId;
        info.attempt = a.attempt || 1;
        info.cronSchedule = a.cronSchedule ?? '';
        info.retryPolicy = retryPolicyFromProto(a.retryPolicy);
        info.startVersion = version.toString();
        info.state = 'created';
        info.status = Status.WORKFLOW_EXECUTION_STATUS_RUNNING;
        info.memo = a.memo ? encodeB64(commonv1.Memo, a.memo) : null;
        info.searchAttributes = a.searchAttributes ? encodeB64(commonv1.SearchAttributes, a.searchAttributes) : null;
        if (a.parentWorkflowExecution?.workflowId) {
          info.parent = {
            namespaceId: a.parentWorkflowNamespaceId ?? '',
            namespace: a.parentWorkflowNamespace ?? '',
            workflowId: a.parentWorkflowExecution.workflowId,
            runId: a.parentWorkflowExecution.runId ?? '',
            initiatedEventId: toNumber(a.parentInitiatedEventId),
          };
        }
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED: {
        const a = e.workflowTaskScheduledEventAttributes!;
        const sticky = a.taskQueue?.kind === enums.TaskQueueKind.TASK_QUEUE_KIND_STICKY;
        info.workflowTask = {
          scheduledEventId: id,
          startedEventId: 0,
          attempt: a.attempt || 1,
          scheduledTimeMs: at,
          startedTimeMs: 0,
          startToCloseMs: optionalDurationMs(a.startToCloseTimeout) || info.workflowTaskTimeoutMs,
          taskQueue: a.taskQueue?.name ?? info.taskQueue,
          kind: sticky ? 2 : 1,
          requestId: '',
          identity: '',
        };
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
        const a = e.workflowTaskStartedEventAttributes!;
        const wt = info.workflowTask;
        if (wt) {
          wt.startedEventId = id;
          wt.startedTimeMs = at;
          wt.requestId = a.requestId ?? '';
          wt.identity = a.identity ?? '';
        }
        info.state = 'running';
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const wt = info.workflowTask;
        if (wt) info.lastCompletedWorkflowTaskStartedEventId = wt.startedEventId;
        info.workflowTask = null;
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      case ET.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        info.workflowTask = null;
        break;
      case ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const a = e.activityTaskScheduledEventAttributes!;
        this.data.activities.push({
          scheduledEventId: id,
          activityId: a.activityId ?? '',
          activityType: a.activityType?.name ?? '',
          taskQueue: a.taskQueue?.name ?? info.taskQueue,
          scheduledTimeMs: at,
          currentAttemptScheduledTimeMs: at,
          started: false,
          startedTimeMs: 0,
          requestId: '',
          identity: '',
          attempt: 1,
          scheduleToStartMs: optionalDurationMs(a.scheduleToStartTimeout),
          scheduleToCloseMs: optionalDurationMs(a.scheduleToCloseTimeout),
          startToCloseMs: optionalDurationMs(a.startToCloseTimeout),
          heartbeatTimeoutMs: optionalDurationMs(a.heartbeatTimeout),
          lastHeartbeatMs: 0,
          heartbeatDetails: null,
          cancelRequested: false,
          cancelRequestedEventId: 0,
          retryPolicy: retryPolicyFromProto(a.retryPolicy),
          lastFailure: null,
          lastWorkerIdentity: '',
        });
        break;
      }
      case ET.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const a = e.activityTaskStartedEventAttributes!;
        const act = this.activity(toNumber(a.scheduledEventId));
        if (act) {
          act.started = true;
          act.startedTimeMs = at;
          act.attempt = a.attempt || act.attempt;
          act.identity = a.identity ?? '';
        }
        break;
      }
      case ET.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        this.removeActivity(toNumber(e.activityTaskCompletedEventAttributes!.scheduledEventId));
        break;
      case ET.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        this.removeActivity(toNumber(e.activityTaskFailedEventAttributes!.scheduledEventId));
        break;
      case ET.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        this.removeActivity(toNumber(e.activityTaskTimedOutEventAttributes!.scheduledEventId));
        break;
      case ET.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
        this.removeActivity(toNumber(e.activityTaskCanceledEventAttributes!.scheduledEventId));
        break;
      case ET.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED: {
        const act = this.activity(toNumber(e.activityTaskCancelRequestedEventAttributes!.scheduledEventId));
        if (act) {
          act.cancelRequested = true;
          act.cancelRequestedEventId = id;
        }
        break;
      }
      case ET.EVENT_TYPE_TIMER_STARTED: {
        const a = e.timerStartedEventAttributes!;
        this.data.timers.push({
          timerId: a.timerId ?? '',
          startedEventId: id,
          expiryTimeMs: at + msFromDuration(a.startToFireTimeout),
        });
        break;
      }
      case ET.EVENT_TYPE_TIMER_FIRED:
        this.removeTimer(e.timerFiredEventAttributes!.timerId ?? '');
        break;
      case ET.EVENT_TYPE_TIMER_CANCELED:
        this.removeTimer(e.timerCanceledEventAttributes!.timerId ?? '');
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
        info.cancelRequested = true;
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        this.close(Status.WORKFLOW_EXECUTION_STATUS_COMPLETED, id, at);
        info.newExecutionRunId = e.workflowExecutionCompletedEventAttributes?.newExecutionRunId ?? '';
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        this.close(Status.WORKFLOW_EXECUTION_STATUS_FAILED, id, at);
        info.newExecutionRunId = e.workflowExecutionFailedEventAttributes?.newExecutionRunId ?? '';
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
        this.close(Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, id, at);
        info.newExecutionRunId = e.workflowExecutionTimedOutEventAttributes?.newExecutionRunId ?? '';
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        this.close(Status.WORKFLOW_EXECUTION_STATUS_CANCELED, id, at);
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        this.close(Status.WORKFLOW_EXECUTION_STATUS_TERMINATED, id, at);
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        this.close(Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, id, at);
        info.newExecutionRunId = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? '';
        break;
      case ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: {
        const a = e.startChildWorkflowExecutionInitiatedEventAttributes!;
        this.data.children.push({
          initiatedEventId: id,
          startedEventId: 0,
          namespace: a.namespace ?? '',
          namespaceId: a.namespaceId ?? '',
          workflowId: a.workflowId ?? '',
          runId: '',
          workflowType: a.workflowType?.name ?? '',
          parentClosePolicy: a.parentClosePolicy ?? 0,
          requestId: '',
        });
        break;
      }
      case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: {
        const a = e.childWorkflowExecutionStartedEventAttributes!;
        const c = this.child(toNumber(a.initiatedEventId));
        if (c) {
          c.startedEventId = id;
          c.runId = a.workflowExecution?.runId ?? '';
        }
        break;
      }
      case ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
        this.removeChild(toNumber(e.startChildWorkflowExecutionFailedEventAttributes!.initiatedEventId));
        break;
      case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
        this.removeChild(toNumber(e.childWorkflowExecutionCompletedEventAttributes!.initiatedEventId));
        break;
      case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
        this.removeChild(toNumber(e.childWorkflowExecutionFailedEventAttributes!.initiatedEventId));
        break;
      case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
        this.removeChild(toNumber(e.childWorkflowExecutionCanceledEventAttributes!.initiatedEventId));
        break;
      case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
        this.removeChild(toNumber(e.childWorkflowExecutionTimedOutEventAttributes!.initiatedEventId));
        break;
      case ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
        this.removeChild(toNumber(e.childWorkflowExecutionTerminatedEventAttributes!.initiatedEventId));
        break;
      case ET.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: {
        const a = e.signalExternalWorkflowExecutionInitiatedEventAttributes!;
        this.data.signalsOut.push({
          initiatedEventId: id,
          namespace: a.namespace ?? '',
          workflowId: a.workflowExecution?.workflowId ?? '',
          runId: a.workflowExecution?.runId ?? '',
          requestId: `${info.runId}-signal-${id}`,
        });
        break;
      }
      case ET.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED:
        this.removeExternal(this.data.signalsOut, toNumber(e.externalWorkflowExecutionSignaledEventAttributes!.initiatedEventId));
        break;
      case ET.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
        this.removeExternal(this.data.signalsOut, toNumber(e.signalExternalWorkflowExecutionFailedEventAttributes!.initiatedEventId));
        break;
      case ET.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: {
        const a = e.requestCancelExternalWorkflowExecutionInitiatedEventAttributes!;
        this.data.cancelsOut.push({
          initiatedEventId: id,
          namespace: a.namespace ?? '',
          workflowId: a.workflowExecution?.workflowId ?? '',
          runId: a.workflowExecution?.runId ?? '',
          requestId: `${info.runId}-cancel-${id}`,
        });
        break;
      }
      case ET.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
        this.removeExternal(
          this.data.cancelsOut,
          toNumber(e.externalWorkflowExecutionCancelRequestedEventAttributes!.initiatedEventId),
        );
        break;
      case ET.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
        this.removeExternal(
          this.data.cancelsOut,
          toNumber(e.requestCancelExternalWorkflowExecutionFailedEventAttributes!.initiatedEventId),
        );
        break;
      case ET.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
        const current = info.searchAttributes ? decodeB64(commonv1.SearchAttributes, info.searchAttributes) : { indexedFields: {} };
        const merged = { indexedFields: { ...(current.indexedFields ?? {}), ...fields } };
        info.searchAttributes = encodeB64(commonv1.SearchAttributes, merged);
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: {
        const fields = e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields ?? {};
        const current = info.memo ? decodeB64(commonv1.Memo, info.memo) : { fields: {} };
        info.memo = encodeB64(commonv1.Memo, { fields: { ...(current.fields ?? {}), ...fields } });
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
        const a = e.workflowExecutionUpdateAcceptedEventAttributes!;
        const updateId = a.acceptedRequest?.meta?.updateId ?? a.protocolInstanceId ?? '';
        this.data.updates.push({ updateId, stage: 'accepted', acceptedEventId: id, completedEventId: 0 });
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
        const a = e.workflowExecutionUpdateCompletedEventAttributes!;
        const updateId = a.meta?.updateId ?? '';
        const u = this.update(updateId);
        if (u) {
          u.stage = 'completed';
          u.completedEventId = id;
        } else {
          this.data.updates.push({ updateId, stage: 'completed', acceptedEventId: 0, completedEventId: id });
        }
        break;
      }
      default:
        break;
    }
  }

  private close(status: number, eventId: number, at: number): void {
    const info = this.info;
    info.status = status;
    info.state = 'completed';
    info.completionEventId = eventId;
    info.closeTimeMs = at;
    info.workflowTask = null;
    info.stickyTaskQueue = '';
  }

  activity(scheduledEventId: number): ActivityInfo | undefined {
    return this.data.activities.find((a) => a.scheduledEventId === scheduledEventId);
  }

  activityById(activityId: string): ActivityInfo | undefined {
    return this.data.activities.find((a) => a.activityId === activityId);
  }

  private removeActivity(scheduledEventId: number): void {
    this.data.activities = this.data.activities.filter((a) => a.scheduledEventId !== scheduledEventId);
  }

  timer(timerId: string): TimerInfo | undefined {
    return this.data.timers.find((t) => t.timerId === timerId);
  }

  private removeTimer(timerId: string): void {
    this.data.timers = this.data.timers.filter((t) => t.timerId !== timerId);
  }

  child(initiatedEventId: number): ChildInfo | undefined {
    return this.data.children.find((c) => c.initiatedEventId === initiatedEventId);
  }

  private removeChild(initiatedEventId: number): void {
    this.data.children = this.data.children.filter((c) => c.initiatedEventId !== initiatedEventId);
  }

  private removeExternal(list: ExternalRequestInfo[], initiatedEventId: number): void {
    const i = list.findIndex((r) => r.initiatedEventId === initiatedEventId);
    if (i >= 0) list.splice(i, 1);
  }

  update(updateId: string): UpdateInfo | undefined {
    return this.data.updates.find((u) => u.updateId === updateId);
  }
}
