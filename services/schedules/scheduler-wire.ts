// How a schedule lives in its scheduler run's events: the run's ids and type, the start input, the
// "update" and "patch" signals the frontend sends, and the bookkeeping marker each of the
// scheduler's workflow tasks records. Frontend and history both read and write these shapes.
import { api, commonv1, failure as failurev1 } from '../common/temporal.js';

export const schedulev1 = api.schedule.v1;
// The ids, type and search-attribute values the reference server uses, so tools that know them
// (the Web UI, `temporal schedule`) recognise a scheduler run.
export const SCHEDULER_WORKFLOW_ID_PREFIX = 'temporal-sys-scheduler:';
export const SCHEDULER_WORKFLOW_TYPE = 'temporal-sys-scheduler-workflow';
export const SCHEDULER_TASK_QUEUE = 'temporal-sys-scheduler-tq';
export const SCHEDULER_NAMESPACE_DIVISION = 'TemporalScheduler';
export const SIGNAL_UPDATE = 'update';
export const SIGNAL_PATCH = 'patch';
export const BOOKKEEPING_MARKER = 'tandem-scheduler-bookkeeping';
/** The scheduler run's own search attributes, beside the ones the schedule's owner sets. */
export const SCHEDULER_SEARCH_ATTRIBUTES = new Set(['TemporalNamespaceDivision', 'TemporalSchedulePaused']);

export const schedulerWorkflowId = (scheduleId: string) => SCHEDULER_WORKFLOW_ID_PREFIX + scheduleId;
export const isSchedulerWorkflowId = (workflowId: string) => workflowId.startsWith(SCHEDULER_WORKFLOW_ID_PREFIX);
export const scheduleIdOf = (workflowId: string) => workflowId.slice(SCHEDULER_WORKFLOW_ID_PREFIX.length);

/** A start waiting for its turn under the overlap policy (times in ms since the epoch). */
export interface BufferedStart {
  nominalMs: number;
  actualMs: number;
  overlapPolicy: number;
  manual: boolean;
}

export interface ActionWorkflow {
  workflowId: string;
  runId: string;
}

export interface ScheduleActionResult extends ActionWorkflow {
  scheduleMs: number;
  actualMs: number;
}

/** What the scheduler's own decisions change; recorded whole by each of its workflow tasks. */
export interface Bookkeeping {
  /** Spec times of this nominal time or earlier are handled (started, buffered, missed or passed over while paused). */
  lastProcessedMs: number;
  buffered: BufferedStart[];
  running: ActionWorkflow[];
  recent: ScheduleActionResult[];
  actionCount: number;
  missedCatchupWindow: number;
  overlapSkipped: number;
  bufferDropped: number;
  remainingActions: number;
  /**
   * The last completed action's result and the failure of a failed or timed-out one since, handed
   * to the next action's start (base64 of Payloads and Failure; absent until an action closes).
   */
  lastCompletionResult?: string;
  continuedFailure?: string;
}

/** What a scheduler run hands to the run it continues as new with, beside the schedule. */
export interface CarriedState {
  bookkeeping: Bookkeeping;
  conflictToken: number;
  updateTimeMs: number;
}

export interface StartArgs {
  schedule: api.schedule.v1.ISchedule;
  initialPatch: api.schedule.v1.ISchedulePatch | null;
  createTimeMs: number;
  /** Null for the first run of a schedule. */
  carried: CarriedState | null;
}

export interface UpdateArgs {
  schedule: api.schedule.v1.ISchedule;
  /** The token the caller read; an update made against an older one is ignored. */
  conflictToken: number;
  /** The schedule's own search attributes from now on (absent ones removed); null keeps them. */
  searchAttributes: commonv1.ISearchAttributes | null;
  /** Memo fields to set; null keeps the memo. */
  memo: commonv1.IMemo | null;
}

function jsonPayload(value: unknown): commonv1.IPayloads {
  return { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) }] };
}

function fromJsonPayload<T>(p: commonv1.IPayloads | null | undefined): T {
  const data = p?.payloads?.[0]?.data;
  if (!data) throw new Error('scheduler payload is missing');
  return JSON.parse(Buffer.from(data).toString('utf8')) as T;
}

// Protobuf messages travel inside the JSON as base64 of their binary form: no Long or bytes
// fields lose precision on the way.
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64');
const encodeSchedule = (s: api.schedule.v1.ISchedule) => b64(schedulev1.Schedule.encode(s).finish());
const decodeSchedule = (s: string) => schedulev1.Schedule.decode(unb64(s));

export const encodePayloads = (p: commonv1.IPayloads) => b64(commonv1.Payloads.encode(p).finish());
export const decodePayloads = (s: string) => commonv1.Payloads.decode(unb64(s));
export const encodeFailure = (f: failurev1.IFailure) => b64(failurev1.Failure.encode(f).finish());
export const decodeFailure = (s: string) => failurev1.Failure.decode(unb64(s));

export function encodeStartArgs(a: StartArgs): commonv1.IPayloads {
  return jsonPayload({
    schedule: encodeSchedule(a.schedule),
    initialPatch: a.initialPatch ? b64(schedulev1.SchedulePatch.encode(a.initialPatch).finish()) : null,
    createTimeMs: a.createTimeMs,
    carried: a.carried,
  });
}

export function decodeStartArgs(p: commonv1.IPayloads | null | undefined): StartArgs {
  const raw = fromJsonPayload<{ schedule: string; initialPatch: string | null; createTimeMs: number; carried?: CarriedState | null }>(p);
  return {
    schedule: decodeSchedule(raw.schedule),
    initialPatch: raw.initialPatch ? schedulev1.SchedulePatch.decode(unb64(raw.initialPatch)) : null,
    createTimeMs: raw.createTimeMs,
    carried: raw.carried ?? null,
  };
}

export function encodeUpdateArgs(a: UpdateArgs): commonv1.IPayloads {
  return jsonPayload({
    schedule: encodeSchedule(a.schedule),
    conflictToken: a.conflictToken,
    searchAttributes: a.searchAttributes ? b64(api.common.v1.SearchAttributes.encode(a.searchAttributes).finish()) : null,
    memo: a.memo ? b64(api.common.v1.Memo.encode(a.memo).finish()) : null,
  });
}

export function decodeUpdateArgs(p: commonv1.IPayloads | null | undefined): UpdateArgs {
  const raw = fromJsonPayload<{ schedule: string; conflictToken: number; searchAttributes?: string | null; memo?: string | null }>(p);
  return {
    schedule: decodeSchedule(raw.schedule),
    conflictToken: raw.conflictToken,
    searchAttributes: raw.searchAttributes ? api.common.v1.SearchAttributes.decode(unb64(raw.searchAttributes)) : null,
    memo: raw.memo ? api.common.v1.Memo.decode(unb64(raw.memo)) : null,
  };
}

export function encodePatch(patch: api.schedule.v1.ISchedulePatch): commonv1.IPayloads {
  return jsonPayload(b64(schedulev1.SchedulePatch.encode(patch).finish()));
}

export function decodePatch(p: commonv1.IPayloads | null | undefined): api.schedule.v1.SchedulePatch {
  return schedulev1.SchedulePatch.decode(unb64(fromJsonPayload<string>(p)));
}

export function encodeBookkeeping(b: Bookkeeping): Record<string, commonv1.IPayloads> {
  return { bookkeeping: jsonPayload(b) };
}

export function decodeBookkeeping(details: Record<string, commonv1.IPayloads> | null | undefined): Bookkeeping {
  return fromJsonPayload<Bookkeeping>(details?.bookkeeping);
}

/** Conflict tokens on the wire are the decimal count of updates. */
export const encodeConflictToken = (n: number) => Buffer.from(String(n));
export const decodeConflictToken = (b: Uint8Array | null | undefined) => (b?.length ? Number(Buffer.from(b).toString('utf8')) : NaN);
