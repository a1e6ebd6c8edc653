// The conditions a workflow write is refused on, the same in both stores: SQLite checks them inside
// its transaction; Cassandra writes them as the batch's conditions and uses these to explain a
// refusal (and checks an append off the stored branch's end before writing it).
import { ConditionFailedError, HistoryConflictError } from './errors.js';
import { startsAtStoredEnd } from './history-tree.js';
import type { CreateMode, CurrentExecution, ExecutionState, UpdateExecutionRequest } from './types.js';

/** The state of a current run that may be replaced: closed. (A zombie is never current: its create leaves the pointer alone.) */
export const REPLACEABLE_STATE: ExecutionState = 'completed';

export function currentAllowsCreate(mode: CreateMode, current: CurrentExecution | null): boolean {
  switch (mode.kind) {
    case 'brandNew':
      return current === null;
    case 'replaceCurrent':
      return (
        current !== null &&
        current.state === REPLACEABLE_STATE &&
        current.runId === mode.previousRunId &&
        current.lastWriteVersion === mode.previousLastWriteVersion
      );
    case 'zombie':
      return true;
  }
}

/** What an update's conditions compare on the stored execution. */
export interface StoredHead {
  dbRecordVersion: number;
  nextEventId: number;
  branchId: string;
}

/**
 * The run exists, is the version the writer loaded, and the append does not rewrite its branch:
 * appends to the stored branch continue it at nextEventId, anything else there would replace
 * committed events or leave a gap. Appends to another branch (a fork) may start anywhere.
 */
export function checkStoredRun(req: UpdateExecutionRequest, stored: StoredHead | null): void {
  const { workflowId, runId } = req.execution.key;
  if (!stored) throw new ConditionFailedError(`execution ${workflowId}/${runId} does not exist`);
  if (stored.dbRecordVersion !== req.expectedDbRecordVersion || stored.nextEventId !== req.expectedNextEventId) {
    throw new ConditionFailedError(
      `execution ${workflowId}/${runId} is at dbRecordVersion ${stored.dbRecordVersion} nextEventId ${stored.nextEventId}, ` +
        `writer expected ${req.expectedDbRecordVersion} ${req.expectedNextEventId}`,
    );
  }
  const append = req.history;
  if (append && !startsAtStoredEnd(append, req.expectedNextEventId) && append.branch.branchId === stored.branchId) {
    throw new HistoryConflictError(
      `run ${runId} branch ${stored.branchId}: append starts at event ${append.events[0]!.eventId}, the branch continues at ${req.expectedNextEventId}`,
    );
  }
}
