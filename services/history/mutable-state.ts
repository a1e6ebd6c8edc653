// A run's mutable state during one transaction: new events are stamped (id, time, version) and
// folded in (event-fold.ts); events from outside wait in the buffer while a workflow task runs;
// the events and explicit tasks of the transaction are collected for the one write that ends it.
import { enums, historyv1 } from '../common/temporal.js';
import { durationFromMs, timestampFromMs, toLong, toNumber } from '../common/proto-time.js';
import type { ExecutionKey, HistoryBranch } from '../persistence/types.js';
import { applyEvent, findActivity, findChild, findUpdate } from './event-fold.js';
import { decodeB64, encodeB64 } from './payload-codec.js';
import {
  emptyState,
  type ActivityInfo,
  type ChildInfo,
  type ExecutionInfo,
  type HistoryEvent,
  type MutableStateData,
  type NonEventState,
  type StartedEventFacts,
  type TimerInfo,
  type UpdateInfo,
  type WorkflowTaskInfo,
} from './state.js';
import type { NewTask } from './tasks.js';

const ET = enums.EventType;

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
  startedAs?: StartedEventFacts;
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

/** The started event's fields; suggest_continue_as_new only when true, as the reference writes it. */
export function startedEventFacts(f: StartedEventFacts | undefined): Pick<historyv1.IWorkflowTaskStartedEventAttributes, 'historySizeBytes' | 'suggestContinueAsNew'> {
  if (!f) return {};
  return { historySizeBytes: toLong(BigInt(f.historySizeBytes)), ...(f.suggestContinueAsNew && { suggestContinueAsNew: true }) };
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
      ...startedEventFacts(t.startedAs),
    },
  };
}

export interface Transaction {
  events: HistoryEvent[];
  /** Tasks of changes no event records (activity started, retries, sticky fallback). */
  tasks: NewTask[];
  /** The run created by continue-as-new / retry / cron, written in the same batch. */
  newRun?: MutableState;
}

export class MutableState {
  readonly data: MutableStateData;
  /** Version of the namespace at the time of this transaction; stamped on every new event. */
  currentVersion: bigint;
  dbRecordVersion: number;
  /** The stored record's nextEventId when loaded: the write is conditional on it. */
  storedNextEventId: number;
  /** State changed without events (activity started, heartbeat): still needs a write. */
  dirty = false;
  /**
   * A run that does not hold its workflow id here (a replicated duplicate run that lost, or is
   * yet to be resolved): its writes leave the current pointer alone. Stored as the record's state.
   */
  zombie = false;
  /**
   * A workflow task that exists only in memory (it carries Workflow Updates): its events are
   * written only if the worker's answer changes the workflow, or another event arrives first.
   */
  speculative: SpeculativeWorkflowTask | null = null;
  private tx: Transaction = { events: [], tasks: [] };

  constructor(data: MutableStateData, dbRecordVersion: number, currentVersion: bigint) {
    this.data = data;
    this.dbRecordVersion = dbRecordVersion;
    this.currentVersion = currentVersion;
    this.storedNextEventId = data.info.nextEventId;
  }

  static empty(key: ExecutionKey, currentVersion: bigint, branchId: string): MutableState {
    return new MutableState(emptyState(key, currentVersion, branchId), 0, currentVersion);
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

  get progress(): NonEventState {
    return this.data.progress;
  }

  get key(): ExecutionKey {
    return { namespaceId: this.info.namespaceId, workflowId: this.info.workflowId, runId: this.info.runId };
  }

  /** The branch the state was folded from: new events are appended to it. */
  get branch(): HistoryBranch {
    return { treeId: this.info.runId, branchId: this.info.branchId, ancestors: this.info.branchAncestors };
  }

  /** The run at the top of its parent chain: itself without a parent; the parent for a child recorded before roots were kept. */
  get root(): { workflowId: string; runId: string } {
    const p = this.info.parent;
    if (!p) return { workflowId: this.info.workflowId, runId: this.info.runId };
    return p.root ?? { workflowId: p.workflowId, runId: p.runId };
  }

  get isRunning(): boolean {
    return this.info.state === 'created' || this.info.state === 'running';
  }

  /** The pending workflow task: the one whose events are written, or a transient retry. */
  get workflowTask(): WorkflowTaskInfo | null {
    const wt = this.info.workflowTask;
    if (!wt) return this.progress.transientWorkflowTask;
    if (this.progress.stickyFallbackScheduledEventId === wt.scheduledEventId) return { ...wt, kind: 1, taskQueue: this.info.taskQueue };
    return wt;
  }

  get hasInFlightWorkflowTask(): boolean {
    const wt = this.workflowTask;
    return wt !== null && wt.startedEventId > 0;
  }

  get hasPendingWorkflowTask(): boolean {
    return this.workflowTask !== null || this.speculative !== null;
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
   * the buffer and get their ids (and the version then in force) when the task finishes.
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
      this.progress.buffered.push(encodeB64(historyv1.HistoryEvent, event));
      // Buffered events are part of the state: the write that acknowledges them must happen.
      this.dirty = true;
      return event;
    }
    return this.commitEvent(event);
  }

  /** The pending task when its events are not written: speculative (in memory) or transient. */
  private get unpersistedTask(): UnpersistedTask | null {
    return this.speculative ?? this.progress.transientWorkflowTask;
  }

  /** A speculative or transient task's events as the worker sees them (not in the store). */
  unpersistedTaskEvents(): HistoryEvent[] {
    const t = this.unpersistedTask;
    if (!t) return [];
    const events = [unpersistedScheduledEvent(t, this.currentVersion)];
    if (t.startedEventId > 0) events.push(unpersistedStartedEvent(t, this.currentVersion));
    return events;
  }

  /**
   * Whether a signal with this request id is in the run already: in history (the fold's window of
   * recent ids) or still buffered behind the workflow task in flight, which the fold has not seen
   * yet. A retried signal whose first attempt was buffered must not be buffered twice.
   */
  hasSignal(requestId: string): boolean {
    if (this.info.signalRequestIds.includes(requestId)) return true;
    return this.bufferedEvents().some((e) => e.workflowExecutionSignaledEventAttributes?.requestId === requestId);
  }

  /** Whether cancellation was requested: in history, or buffered behind the workflow task in flight. */
  get cancelRequested(): boolean {
    return this.info.cancelRequested || this.bufferedEvents().some((e) => e.eventType === ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
  }

  private bufferedEvents(): HistoryEvent[] {
    return this.progress.buffered.map((b) => decodeB64(historyv1.HistoryEvent, b));
  }

  /** Writes a speculative or transient task's scheduled (and started) events: it becomes normal. */
  materializeUnpersistedTask(): void {
    const t = this.unpersistedTask;
    if (!t) return;
    this.speculative = null;
    this.progress.transientWorkflowTask = null;
    this.commitEvent(unpersistedScheduledEvent(t, this.currentVersion));
    if (t.startedEventId > 0) this.commitEvent(unpersistedStartedEvent(t, this.currentVersion));
  }

  /** Gives the buffered events their ids and the current version, in arrival order. */
  flushBuffered(): HistoryEvent[] {
    const buffered = this.progress.buffered;
    this.progress.buffered = [];
    // An activity's outcome names its started event, whose id is only known now.
    const startedIds = new Map<number, HistoryEvent['eventId']>();
    return buffered.map((b) => {
      const e = decodeB64(historyv1.HistoryEvent, b);
      e.version = toLong(this.currentVersion);
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
    applyEvent(this.data, event);
    this.tx.events.push(event);
    return event;
  }

  /** Folds a replicated event, which keeps its own id and version. */
  applyReplicated(event: HistoryEvent): void {
    applyEvent(this.data, event);
    this.tx.events.push(event);
  }

  activity(scheduledEventId: number): ActivityInfo | undefined {
    return findActivity(this.data, scheduledEventId);
  }

  activityById(activityId: string): ActivityInfo | undefined {
    return this.data.activities.find((a) => a.activityId === activityId);
  }

  timer(timerId: string): TimerInfo | undefined {
    return this.data.timers.find((t) => t.timerId === timerId);
  }

  child(initiatedEventId: number): ChildInfo | undefined {
    return findChild(this.data, initiatedEventId);
  }

  update(updateId: string): UpdateInfo | undefined {
    return findUpdate(this.data, updateId);
  }
}
