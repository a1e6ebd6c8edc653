// A replicated batch that cannot be applied yet: events before it are missing here (the run's
// next event id, or the point where its branch leaves the local ones). FAILED_PRECONDITION, so the
// receiver asks the sender to resend from resendFromEventId (DESIGN invariant 6).
import { TandemError, apiError } from '../common/errors.js';
import type { ExecutionKey } from '../persistence/types.js';

export class ReplicationGap extends TandemError {
  constructor(
    key: ExecutionKey,
    readonly resendFromEventId: number,
    gotEventId: number,
  ) {
    const e = apiError('FAILED_PRECONDITION', `replication gap on ${key.workflowId}/${key.runId}: need events from ${resendFromEventId}, got ${gotEventId}`);
    super(e.code, e.grpcStatus, e.message);
  }
}

/** Where the sender must resend from, when err is a ReplicationGap. */
export function resendFromOf(err: unknown): number | undefined {
  return err instanceof ReplicationGap ? err.resendFromEventId : undefined;
}
