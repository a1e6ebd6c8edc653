// A schedule's state is the fold of its scheduler run's events: the start input, "update" and
// "patch" signals, the bookkeeping marker of each scheduler workflow task, its wake-up timers and
// paused search attribute. Pure, so history's scheduler and the frontend's Describe agree.
import { enums, type api, type commonv1, type historyv1 } from '../common/temporal.js';
import { msFromDuration, msFromTimestamp, toNumber } from '../common/proto-time.js';
import { mergeSearchAttributes } from '../namespaces/search-attributes.js';
import {
  BOOKKEEPING_MARKER,
  SIGNAL_PATCH,
  SIGNAL_UPDATE,
  decodeBookkeeping,
  decodePatch,
  decodeStartArgs,
  decodeUpdateArgs,
  type Bookkeeping,
} from './scheduler-wire.js';

type ISchedule = api.schedule.v1.ISchedule;
const ET = enums.EventType;

/** Trigger-immediately and backfill requests the scheduler has not taken up yet. */
export type PendingRequest =
  | { kind: 'trigger'; atMs: number; overlapPolicy: number }
  | { kind: 'backfill'; startMs: number; endMs: number; overlapPolicy: number };

export interface SchedulerState extends Bookkeeping {
  schedule: ISchedule;
  /** The number of updates applied; an update must name the current one. */
  conflictToken: number;
  createTimeMs: number;
  updateTimeMs: number;
  pending: PendingRequest[];
  memo: commonv1.IMemo | null;
  searchAttributes: commonv1.ISearchAttributes | null;
  /** The scheduler's wake-up timer still pending, if any. */
  timer: { timerId: string; fireAtMs: number } | null;
  /** TemporalSchedulePaused as the run's search attributes hold it. */
  pausedIndexed: boolean | null;
  /** Search attributes and memo an update asked for, until a pass writes them. */
  requestedSearchAttributes: commonv1.ISearchAttributes | null;
  requestedMemo: commonv1.IMemo | null;
}

export const PAUSED_SEARCH_ATTRIBUTE = 'TemporalSchedulePaused';

export function pausedOf(schedule: ISchedule): boolean {
  return schedule.state?.paused === true;
}

function indexedPaused(sa: commonv1.ISearchAttributes | null | undefined): boolean | null {
  const data = sa?.indexedFields?.[PAUSED_SEARCH_ATTRIBUTE]?.data;
  return data ? JSON.parse(Buffer.from(data).toString('utf8')) === true : null;
}

function applyPatch(s: SchedulerState, patch: api.schedule.v1.ISchedulePatch, atMs: number): void {
  const state = (s.schedule.state ??= {});
  if (patch.pause) {
    state.paused = true;
    state.notes = patch.pause;
    s.updateTimeMs = atMs;
  }
  if (patch.unpause) {
    state.paused = false;
    state.notes = patch.unpause;
    s.updateTimeMs = atMs;
  }
  if (patch.triggerImmediately) s.pending.push({ kind: 'trigger', atMs, overlapPolicy: patch.triggerImmediately.overlapPolicy ?? 0 });
  for (const b of patch.backfillRequest ?? []) {
    s.pending.push({ kind: 'backfill', startMs: msFromTimestamp(b.startTime), endMs: msFromTimestamp(b.endTime), overlapPolicy: b.overlapPolicy ?? 0 });
  }
}

function initialState(e: historyv1.IHistoryEvent): SchedulerState {
  const a = e.workflowExecutionStartedEventAttributes!;
  const args = decodeStartArgs(a.input);
  const s: SchedulerState = {
    schedule: args.schedule,
    conflictToken: 0,
    createTimeMs: args.createTimeMs,
    updateTimeMs: 0,
    pending: [],
    memo: a.memo ?? null,
    searchAttributes: a.searchAttributes ?? null,
    timer: null,
    pausedIndexed: indexedPaused(a.searchAttributes),
    requestedSearchAttributes: null,
    requestedMemo: null,
    lastProcessedMs: args.createTimeMs,
    buffered: [],
    running: [],
    recent: [],
    actionCount: 0,
    missedCatchupWindow: 0,
    overlapSkipped: 0,
    bufferDropped: 0,
    remainingActions: toNumber(args.schedule.state?.remainingActions),
  };
  if (args.carried) {
    Object.assign(s, args.carried.bookkeeping);
    s.conflictToken = args.carried.conflictToken;
    s.updateTimeMs = args.carried.updateTimeMs;
  }
  if (args.initialPatch) applyPatch(s, args.initialPatch, args.createTimeMs);
  return s;
}

function applyEvent(s: SchedulerState, e: historyv1.IHistoryEvent): void {
  const atMs = msFromTimestamp(e.eventTime);
  switch (e.eventType) {
    case ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
      const a = e.workflowExecutionSignaledEventAttributes!;
      // Anyone may signal the run: a signal the frontend did not write is ignored, never fatal.
      try {
        if (a.signalName === SIGNAL_UPDATE) {
          const update = decodeUpdateArgs(a.input);
          if (update.conflictToken !== s.conflictToken) return;
          s.schedule = update.schedule;
          s.conflictToken++;
          s.updateTimeMs = atMs;
          s.remainingActions = toNumber(update.schedule.state?.remainingActions);
          if (update.searchAttributes) s.requestedSearchAttributes = update.searchAttributes;
          if (update.memo) s.requestedMemo = update.memo;
        } else if (a.signalName === SIGNAL_PATCH) {
          applyPatch(s, decodePatch(a.input), atMs);
        }
      } catch {
        return;
      }
      return;
    }
    case ET.EVENT_TYPE_MARKER_RECORDED: {
      const a = e.markerRecordedEventAttributes!;
      if (a.markerName !== BOOKKEEPING_MARKER) return;
      // The task that wrote it saw every signal written before it.
      Object.assign(s, decodeBookkeeping(a.details as Record<string, commonv1.IPayloads>));
      s.pending = [];
      s.requestedSearchAttributes = null;
      s.requestedMemo = null;
      (s.schedule.state ??= {}).remainingActions = s.remainingActions as never;
      return;
    }
    case ET.EVENT_TYPE_TIMER_STARTED: {
      const a = e.timerStartedEventAttributes!;
      s.timer = { timerId: a.timerId ?? '', fireAtMs: atMs + msFromDuration(a.startToFireTimeout) };
      return;
    }
    case ET.EVENT_TYPE_TIMER_FIRED:
    case ET.EVENT_TYPE_TIMER_CANCELED: {
      const id = e.timerFiredEventAttributes?.timerId ?? e.timerCanceledEventAttributes?.timerId;
      if (s.timer?.timerId === id) s.timer = null;
      return;
    }
    case ET.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
      const upserted = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes;
      const paused = indexedPaused(upserted);
      if (paused !== null) s.pausedIndexed = paused;
      s.searchAttributes = mergeSearchAttributes(s.searchAttributes, upserted);
      return;
    }
    case ET.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: {
      s.memo = { fields: { ...(s.memo?.fields ?? {}), ...(e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields ?? {}) } };
      return;
    }
  }
}

/** The part of the state the scheduler's own passes write. */
export function bookkeepingOf(s: SchedulerState): Bookkeeping {
  return {
    lastProcessedMs: s.lastProcessedMs,
    buffered: s.buffered,
    running: s.running,
    recent: s.recent,
    actionCount: s.actionCount,
    missedCatchupWindow: s.missedCatchupWindow,
    overlapSkipped: s.overlapSkipped,
    bufferDropped: s.bufferDropped,
    remainingActions: s.remainingActions,
    lastCompletionResult: s.lastCompletionResult,
    continuedFailure: s.continuedFailure,
  };
}

/** The state after `events`, which must begin with the run's started event. */
export function foldSchedulerState(events: historyv1.IHistoryEvent[]): SchedulerState {
  const first = events[0];
  if (first?.eventType !== ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) throw new Error('a scheduler history starts with its started event');
  const s = initialState(first);
  for (let i = 1; i < events.length; i++) applyEvent(s, events[i]!);
  return s;
}
