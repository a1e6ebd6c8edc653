// The scheduler's decisions, pure: from the folded state, the spec and the clock, which starts are
// due, buffered, skipped or missed, which running actions to cancel or terminate, and when to wake
// next. The effects (starting workflows, recording the result) are history's (scheduler-runner.ts).
// Semantics follow the reference server's scheduler workflow (service/worker/scheduler).
import { createHash } from 'node:crypto';
import { enums, type commonv1, type failure as failurev1 } from '../common/temporal.js';
import type { CompiledSpec } from './schedule-spec.js';
import { bookkeepingOf, type SchedulerState } from './scheduler-state.js';
import { encodeFailure, encodePayloads, type ActionWorkflow, type Bookkeeping, type BufferedStart } from './scheduler-wire.js';
import { msFromDuration } from '../common/proto-time.js';

const Overlap = enums.ScheduleOverlapPolicy;
const Status = enums.WorkflowExecutionStatus;
export const DEFAULT_CATCHUP_WINDOW_MS = 365 * 24 * 3600_000;
export const MIN_CATCHUP_WINDOW_MS = 10_000;
export const MAX_BUFFER_SIZE = 1000;
export const RECENT_ACTIONS = 10;
/** While a start waits for a running action to close, the scheduler looks again this often. */
export const WATCH_POLL_MS = 1000;

export interface PlannedStart {
  start: BufferedStart;
  workflowId: string;
  /** Derived from the schedule and the start, so a decision taken again after a failover deduplicates. */
  requestId: string;
  /** The non-overlapping start is tracked as running; ALLOW_ALL ones are not (as the reference). */
  tracked: boolean;
}

export interface Plan {
  book: Bookkeeping;
  starts: PlannedStart[];
  cancel: ActionWorkflow[];
  terminate: ActionWorkflow[];
  /** Set when a failed action pauses the schedule (pause on failure): the pause's note. */
  pause?: string;
}

/** A tracked action that closed since the last pass, with its outcome. */
export interface ClosedAction extends ActionWorkflow {
  status: number;
  result?: commonv1.IPayloads | null;
  failure?: failurev1.IFailure | null;
}

const FAILED_STATUSES = new Set([Status.WORKFLOW_EXECUTION_STATUS_FAILED, Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT]);
const STATUS_NAMES: Record<number, string> = { [Status.WORKFLOW_EXECUTION_STATUS_FAILED]: 'Failed', [Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT]: 'TimedOut' };

/**
 * As the reference: a completed action's result becomes the last completion result and clears the
 * failure; a failed or timed-out one's failure is carried; with pause on failure, it pauses the
 * schedule (the note returned).
 */
function applyClosed(state: SchedulerState, book: Bookkeeping, closed: ClosedAction[]): string | undefined {
  let pause: string | undefined;
  for (const c of closed) {
    if (c.status === Status.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
      book.lastCompletionResult = c.result ? encodePayloads(c.result) : undefined;
      book.continuedFailure = undefined;
    } else if (FAILED_STATUSES.has(c.status)) {
      if (c.failure) book.continuedFailure = encodeFailure(c.failure);
      if (state.schedule.policies?.pauseOnFailure && !state.schedule.state?.paused && !pause) {
        pause = `paused due to workflow failure: ${c.workflowId}: ${STATUS_NAMES[c.status]}`;
      }
    }
  }
  return pause;
}

export function catchupWindowMs(state: SchedulerState): number {
  const cw = state.schedule.policies?.catchupWindow;
  if (!cw) return DEFAULT_CATCHUP_WINDOW_MS;
  return Math.max(msFromDuration(cw), MIN_CATCHUP_WINDOW_MS);
}

function resolveOverlap(state: SchedulerState, policy: number): number {
  return policy || state.schedule.policies?.overlapPolicy || Overlap.SCHEDULE_OVERLAP_POLICY_SKIP;
}

/** Scheduled (not manual) actions stop while paused or when the limited actions are used up. */
function canTakeScheduled(state: SchedulerState, book: Bookkeeping): boolean {
  if (state.schedule.state?.paused) return false;
  return !state.schedule.state?.limitedActions || book.remainingActions > 0;
}

/** `<workflowId>-<nominal time, RFC 3339 to the second>`, as the reference names scheduled runs. */
export function actionWorkflowId(base: string, nominalMs: number): string {
  return `${base}-${new Date(Math.floor(nominalMs / 1000) * 1000).toISOString().replace('.000Z', 'Z')}`;
}

function actionRequestId(scheduleId: string, s: BufferedStart): string {
  const h = createHash('sha256').update(`${scheduleId}/${s.nominalMs}/${s.actualMs}/${s.manual}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function addStart(book: Bookkeeping, start: BufferedStart): void {
  if (book.buffered.length >= MAX_BUFFER_SIZE) {
    book.bufferDropped++;
    return;
  }
  book.buffered.push(start);
}

/**
 * Spec times after the nominal time `afterNominalMs` whose actual time is at or before `toMs`.
 * Jitter never moves a time past the next nominal one, so actual times come in nominal order.
 */
function* specTimes(spec: CompiledSpec, afterNominalMs: number, toMs: number): Generator<{ nominalMs: number; actualMs: number }> {
  for (let t = spec.next(afterNominalMs); t && t.actualMs <= toMs; t = spec.next(t.nominalMs)) yield t;
}

interface BufferOutcome {
  overlapping: BufferedStart[];
  nonOverlapping: BufferedStart | null;
  buffer: BufferedStart[];
  needCancel: boolean;
  needTerminate: boolean;
  skipped: number;
}

/** The reference's ProcessBuffer: what may start now given whether an action is running. */
function processBuffer(state: SchedulerState, buffer: BufferedStart[], isRunning: boolean): BufferOutcome {
  const out: BufferOutcome = { overlapping: [], nonOverlapping: null, buffer: [], needCancel: false, needTerminate: false, skipped: 0 };
  for (const start of buffer) {
    const policy = resolveOverlap(state, start.overlapPolicy);
    if (policy === Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL) {
      out.overlapping.push(start);
      continue;
    }
    if (!isRunning && !out.nonOverlapping) {
      out.nonOverlapping = start;
      continue;
    }
    switch (policy) {
      case Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE:
        if (out.buffer.length === 0) out.buffer.push(start);
        else out.skipped++;
        break;
      case Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL:
        out.buffer.push(start);
        break;
      case Overlap.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER:
      case Overlap.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER:
        if (isRunning) {
          if (policy === Overlap.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER) out.needCancel = true;
          else out.needTerminate = true;
          out.buffer.push(start);
        } else {
          out.nonOverlapping = start;
        }
        break;
      default:
        out.skipped++;
    }
  }
  if (out.needCancel || out.needTerminate) out.overlapping = [];
  return out;
}

/**
 * One scheduler pass at `nowMs`: manual requests first, then the spec's times since the last
 * pass (older than the catch-up window: missed), then the buffer against `running` (the action
 * workflows still open).
 */
export function plan(scheduleId: string, planned: SchedulerState, spec: CompiledSpec | null, running: ActionWorkflow[], nowMs: number, closed: ClosedAction[] = []): Plan {
  const book: Bookkeeping = structuredClone({ ...bookkeepingOf(planned), running });
  const pause = applyClosed(planned, book, closed);
  // Paused from this pass on: no scheduled start may slip in before the pause is recorded.
  const state: SchedulerState = pause ? { ...planned, schedule: { ...planned.schedule, state: { ...planned.schedule.state, paused: true, notes: pause } } } : planned;
  for (const p of state.pending) {
    if (p.kind === 'trigger') addStart(book, { nominalMs: p.atMs, actualMs: p.atMs, overlapPolicy: p.overlapPolicy, manual: true });
    else if (spec) {
      // Inclusive of the range's start, as the reference backfills; by nominal time.
      for (let t = spec.next(p.startMs - 1); t && t.nominalMs <= p.endMs; t = spec.next(t.nominalMs)) {
        addStart(book, { ...t, overlapPolicy: p.overlapPolicy, manual: true });
      }
    }
  }
  if (spec && canTakeScheduled(state, book)) {
    const catchup = catchupWindowMs(state);
    for (const t of specTimes(spec, book.lastProcessedMs, nowMs)) {
      book.lastProcessedMs = t.nominalMs;
      // Times before the last update belong to the schedule as it was.
      if (t.actualMs < state.updateTimeMs) continue;
      if (nowMs - t.actualMs > catchup) book.missedCatchupWindow++;
      else addStart(book, { ...t, overlapPolicy: 0, manual: false });
    }
  } else {
    // Times that come while paused (or out of actions) are passed over, not taken on resume.
    book.lastProcessedMs = Math.max(book.lastProcessedMs, nowMs);
  }

  const base = state.schedule.action?.startWorkflow?.workflowId ?? '';
  if (!base) return { book: { ...book, buffered: [] }, starts: [], cancel: [], terminate: [], pause };
  const outcome = processBuffer(state, book.buffered, running.length > 0);
  book.buffered = outcome.buffer;
  book.overlapSkipped += outcome.skipped;
  const starts: PlannedStart[] = [];
  const candidates = [...outcome.overlapping, ...(outcome.nonOverlapping ? [outcome.nonOverlapping] : [])];
  for (const start of candidates) {
    if (!start.manual) {
      // Paused or out of actions since it was buffered: dropped, as the reference drops it.
      if (!canTakeScheduled(state, book)) continue;
      if (state.schedule.state?.limitedActions) book.remainingActions--;
    }
    starts.push({ start, workflowId: actionWorkflowId(base, start.nominalMs), requestId: actionRequestId(scheduleId, start), tracked: start === outcome.nonOverlapping });
  }
  return {
    book,
    starts,
    cancel: outcome.needCancel && !outcome.needTerminate ? [...running] : [],
    terminate: outcome.needTerminate ? [...running] : [],
    pause,
  };
}

/** A planned start is running as `run` (just started, or found already started by an earlier pass). */
export function recordStarted(book: Bookkeeping, p: PlannedStart, run: ActionWorkflow, actualMs: number): void {
  book.actionCount++;
  book.recent = [...book.recent, { scheduleMs: p.start.actualMs, actualMs, ...run }].slice(-RECENT_ACTIONS);
  if (p.tracked) book.running.push(run);
}

/** A planned start failed for a reason other than being started already: it waits for the next pass. */
export function startFailed(state: SchedulerState, book: Bookkeeping, p: PlannedStart): void {
  book.buffered.unshift(p.start);
  if (!p.start.manual && state.schedule.state?.limitedActions) book.remainingActions++;
}

/** When the scheduler must run again; null when nothing can happen until a signal arrives. */
export function wakeAtMs(state: SchedulerState, spec: CompiledSpec | null, book: Bookkeeping, nowMs: number, retry: boolean): number | null {
  const candidates: number[] = [];
  const next = spec && canTakeScheduled(state, book) ? spec.next(book.lastProcessedMs) : null;
  if (next) candidates.push(next.actualMs);
  if (retry || (book.buffered.length > 0 && book.running.length > 0)) candidates.push(nowMs + WATCH_POLL_MS);
  return candidates.length ? Math.min(...candidates) : null;
}

/** The next `count` action times after `fromMs`, for Describe and List. */
export function futureActionTimes(state: SchedulerState, spec: CompiledSpec | null, fromMs: number, count: number): number[] {
  const out: number[] = [];
  if (!spec || state.schedule.state?.paused) return out;
  let remaining = state.schedule.state?.limitedActions ? state.remainingActions : Infinity;
  for (let t = spec.next(fromMs); t && out.length < count && remaining > 0; t = spec.next(t.nominalMs), remaining--) out.push(t.actualMs);
  return out;
}
