// Conditions that failed in the store. History maps them to its own decisions; nothing here is
// a gRPC status.
import type { CurrentExecution, Int64 } from './types.js';

export class PersistenceError extends Error {
  override name = 'PersistenceError';
}

/** The shard's range_id moved on: another owner took the shard. The writer must drop it. */
export class ShardOwnershipLostError extends PersistenceError {
  override name = 'ShardOwnershipLostError';
  constructor(
    readonly shardId: number,
    readonly expectedRangeId: Int64,
    readonly actualRangeId: Int64 | null,
  ) {
    super(`shard ${shardId}: range_id is ${actualRangeId ?? 'unknown'}, writer holds ${expectedRangeId}`);
  }
}

/** A conditional write on an execution, a namespace or a task queue found another version. */
export class ConditionFailedError extends PersistenceError {
  override name = 'ConditionFailedError';
}

/** A write would replace a committed history event: events are appended, never overwritten. */
export class HistoryConflictError extends ConditionFailedError {
  override name = 'HistoryConflictError';
}

/** Creating a run found a current run the create mode did not expect. */
export class CurrentWorkflowConditionFailedError extends PersistenceError {
  override name = 'CurrentWorkflowConditionFailedError';
  constructor(readonly current: CurrentExecution | null) {
    super(
      current
        ? `workflow ${current.workflowId} has current run ${current.runId} in state ${current.state}`
        : 'no current run',
    );
  }
}

export class NamespaceAlreadyExistsError extends PersistenceError {
  override name = 'NamespaceAlreadyExistsError';
  constructor(readonly namespace: string) {
    super(`namespace ${namespace} already exists`);
  }
}

/** The store could not be reached or timed out: the outcome of a write is unknown. */
export class StoreUnavailableError extends PersistenceError {
  override name = 'StoreUnavailableError';
}
