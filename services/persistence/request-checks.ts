// Requests a writer could only get wrong by a bug: both stores refuse them with a TypeError before
// touching anything, so no condition of the store is ever blamed for them.
import type { CreateExecutionRequest, ExecutionRecord, HistoryAppend, UpdateExecutionRequest } from './types.js';

export function checkCreateRequest(req: CreateExecutionRequest): void {
  const what = 'createWorkflowExecution';
  if (req.execution.dbRecordVersion !== 1) throw new TypeError(`${what}: dbRecordVersion must be 1, got ${req.execution.dbRecordVersion}`);
  checkFirstEvents(req.history, req.execution, what);
}

export function checkUpdateRequest(req: UpdateExecutionRequest): void {
  const what = 'updateWorkflowExecution';
  const { execution, newRun } = req;
  if (execution.dbRecordVersion !== req.expectedDbRecordVersion + 1) {
    throw new TypeError(`${what}: dbRecordVersion must be ${req.expectedDbRecordVersion + 1}, got ${execution.dbRecordVersion}`);
  }
  if (newRun && (newRun.key.namespaceId !== execution.key.namespaceId || newRun.key.workflowId !== execution.key.workflowId)) {
    throw new TypeError(`${what}: newRun must have the workflow id of the updated run`);
  }
  if (req.history) checkAppend(req.history, execution, what);
  if (req.newRunHistory) {
    if (!newRun) throw new TypeError(`${what}: newRunHistory without newRun`);
    checkFirstEvents(req.newRunHistory, newRun, `${what} (newRun)`);
  }
}

/** A new run's first events go to the branch its record names. */
function checkFirstEvents(append: HistoryAppend, run: ExecutionRecord, what: string): void {
  checkAppend(append, run, what);
  if (append.branch.branchId !== run.branchId) {
    throw new TypeError(`${what}: the first events go to the run's branch ${run.branchId}, not ${append.branch.branchId}`);
  }
}

/** An append goes to the run's own tree, as one contiguous run of event ids. */
function checkAppend(append: HistoryAppend, run: ExecutionRecord, what: string): void {
  if (append.branch.treeId !== run.key.runId) {
    throw new TypeError(`${what}: history tree ${append.branch.treeId} is not the tree of run ${run.key.runId}`);
  }
  const first = append.events[0]?.eventId;
  append.events.forEach((e, i) => {
    if (e.eventId !== first! + i) throw new TypeError(`${what}: events must be contiguous, got ${e.eventId} at position ${i} after ${first}`);
  });
}

/** A task queue's subqueue: the stores order by it, so a negative or fractional one is a bug. */
export function checkSubqueue(subqueue: number, what: string): void {
  if (!Number.isInteger(subqueue) || subqueue < 0) throw new TypeError(`${what}: subqueue must be a non-negative integer, got ${subqueue}`);
}
