// Every error a client can see: one table of code -> gRPC status and message. Handlers throw
// `apiError(code, ...)`; the frontend turns a TandemError into a gRPC status with details.
import { status } from '@grpc/grpc-js';

export interface ErrorDetail {
  /** Fully-qualified protobuf type, e.g. temporal.api.errordetails.v1.NotFoundFailure */
  typeName: string;
  value: Record<string, unknown>;
}

const table = {
  INVALID_ARGUMENT: { status: status.INVALID_ARGUMENT, message: (what: string) => what },
  REQUIRED: { status: status.INVALID_ARGUMENT, message: (field: string) => `${field} is not set on request.` },
  TOO_LONG: {
    status: status.INVALID_ARGUMENT,
    message: (field: string, max: number) => `${field} exceeds length limit ${max}.`,
  },
  PAYLOAD_TOO_LARGE: {
    // INVALID_ARGUMENT, as Temporal answers: every SDK retries RESOURCE_EXHAUSTED as "server
    // busy" (the TS client for ~40 s), so a payload that can never fit would hang the caller.
    status: status.INVALID_ARGUMENT,
    message: (what: string, size: number, max: number) => `${what} size ${size} bytes exceeds the limit of ${max} bytes.`,
  },
  NAMESPACE_NOT_FOUND: { status: status.NOT_FOUND, message: (ns: string) => `Namespace ${ns} is not found.` },
  NAMESPACE_ALREADY_EXISTS: {
    status: status.ALREADY_EXISTS,
    message: (ns: string) => `Namespace ${ns} already exists.`,
  },
  NAMESPACE_NOT_ACTIVE: {
    status: status.FAILED_PRECONDITION,
    message: (ns: string, active: string, current: string) =>
      `Namespace: ${ns} is active in cluster: ${active}, while current cluster ${current} is a standby cluster.`,
  },
  NAMESPACE_HANDOVER: {
    // Retryable on purpose: a graceful failover lasts seconds and the SDKs retry UNAVAILABLE.
    status: status.UNAVAILABLE,
    message: (ns: string) => `Namespace ${ns} is in handover to another region; retry.`,
  },
  WORKFLOW_NOT_FOUND: {
    status: status.NOT_FOUND,
    message: (workflowId: string, runId?: string) =>
      `workflow execution not found: workflowId=${workflowId}${runId ? ` runId=${runId}` : ''}`,
  },
  WORKFLOW_ALREADY_STARTED: {
    status: status.ALREADY_EXISTS,
    message: (workflowId: string, runId: string) =>
      `Workflow execution is already running. WorkflowId: ${workflowId}, RunId: ${runId}.`,
  },
  WORKFLOW_ALREADY_COMPLETED: {
    status: status.NOT_FOUND,
    message: () => 'workflow execution already completed',
  },
  /** An update admitted but never accepted when its run closed (the reference's wording). */
  UPDATE_ABORTED_BY_CLOSE: { status: status.NOT_FOUND, message: () => 'workflow update was aborted by closing workflow' },
  TASK_NOT_FOUND: { status: status.NOT_FOUND, message: (what: string) => what },
  NOT_FOUND: { status: status.NOT_FOUND, message: (what: string) => what },
  ALREADY_EXISTS: { status: status.ALREADY_EXISTS, message: (what: string) => what },
  SCHEDULE_NOT_FOUND: { status: status.NOT_FOUND, message: (scheduleId: string) => `schedule not found: ${scheduleId}` },
  SCHEDULE_ALREADY_EXISTS: { status: status.ALREADY_EXISTS, message: () => 'schedule with this ID is already registered' },
  SEARCH_ATTRIBUTE_NOT_FOUND: { status: status.NOT_FOUND, message: (name: string) => `Search attribute ${name} doesn't exist.` },
  SEARCH_ATTRIBUTE_ALREADY_EXISTS: {
    status: status.ALREADY_EXISTS,
    message: (name: string, type: string) => `Search attribute ${name} already exists with type ${type}.`,
  },
  CLUSTER_NOT_FOUND: { status: status.NOT_FOUND, message: (name: string) => `Cluster ${name} is not a known remote cluster.` },
  SHARD_MOVED: {
    status: status.UNAVAILABLE,
    message: (shardId: number) => `shard ${shardId} is not owned by this host; retry`,
  },
  BUSY: { status: status.RESOURCE_EXHAUSTED, message: (what: string) => what },
  UNAVAILABLE: { status: status.UNAVAILABLE, message: (what: string) => what },
  PERMISSION_DENIED: { status: status.PERMISSION_DENIED, message: (what: string) => what },
  UNAUTHENTICATED: { status: status.UNAUTHENTICATED, message: (what: string) => what },
  RATE_LIMITED: {
    // RESOURCE_EXHAUSTED with Temporal's ResourceExhaustedFailure detail: the SDKs back off and retry.
    status: status.RESOURCE_EXHAUSTED,
    message: (scope: string, rps: number, retryAfterMs: number) => `${scope} exceeds its rate limit of ${rps} requests/s; retry after ${retryAfterMs} ms.`,
  },
  UNIMPLEMENTED: { status: status.UNIMPLEMENTED, message: (method: string) => `${method} is not implemented by tandem` },
  INTERNAL: { status: status.INTERNAL, message: (what: string) => what },
  FAILED_PRECONDITION: { status: status.FAILED_PRECONDITION, message: (what: string) => what },
  DEADLINE_EXCEEDED: { status: status.DEADLINE_EXCEEDED, message: (what: string) => what },
} as const;

export type ErrorCode = keyof typeof table;
type Args<C extends ErrorCode> = Parameters<(typeof table)[C]['message']>;

export class TandemError extends Error {
  override name = 'TandemError';
  constructor(
    readonly code: ErrorCode,
    readonly grpcStatus: status,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

export function apiError<C extends ErrorCode>(code: C, ...args: Args<C>): TandemError {
  const entry = table[code];
  const message = (entry.message as (...a: unknown[]) => string)(...args);
  return new TandemError(code, entry.status, message);
}

/** Same as apiError, with Temporal failure details for grpc-status-details-bin. */
export function apiErrorWithDetails<C extends ErrorCode>(code: C, details: ErrorDetail[], ...args: Args<C>): TandemError {
  const e = apiError(code, ...args);
  return new TandemError(e.code, e.grpcStatus, e.message, details);
}

export function isTandemError(err: unknown, code?: ErrorCode): err is TandemError {
  return err instanceof TandemError && (code === undefined || err.code === code);
}
