// A replication task on the wire: the events it names, read at send time from the shard's store,
// and the run's non-event state as it is then (DESIGN invariants 4a, 6).
import { isTandemError } from '../services/common/errors.js';
import { historyv1 } from '../services/common/temporal.js';
import type { HistoryEngine } from '../services/history/engine.js';
import { takeNonEventState, type NonEventSnapshot } from '../services/history/non-event-state.js';
import type { HistoryEvent } from '../services/history/state.js';
import type { ExecutionKey } from '../services/persistence/types.js';
import type { ReplicationTask } from '../proto/gen/tandem/replication/v1/replication.js';

export interface TaskRange {
  taskId: bigint;
  key: ExecutionKey;
  firstEventId: number;
  nextEventId: number;
  version: string;
  createdTimeMs: number;
}

/** The task with its events and state; null when the run is gone (deleted by retention). */
export async function readTask(engine: HistoryEngine, r: TaskRange): Promise<ReplicationTask | null> {
  let run;
  try {
    run = await engine.tx.read(r.key.namespaceId, r.key.workflowId, r.key.runId);
  } catch (err) {
    if (isTandemError(err, 'WORKFLOW_NOT_FOUND')) return null;
    throw err;
  }
  const { events, nextEventId, versionHistory } = await engine.tx.eventsForReplication(run, r.firstEventId, r.nextEventId, r.version);
  return {
    taskId: r.taskId,
    namespaceId: r.key.namespaceId,
    workflowId: r.key.workflowId,
    runId: r.key.runId,
    firstEventId: BigInt(r.firstEventId),
    nextEventId: BigInt(nextEventId),
    version: r.version,
    events: events.map((e) => Buffer.from(historyv1.HistoryEvent.encode(e).finish())),
    // The branch's version history rides with the state: where it meets the receiver's branches.
    nonEventJson: JSON.stringify({ ...takeNonEventState(run.data), versionHistory }),
    createdTimeMs: BigInt(r.createdTimeMs),
  };
}

export function keyOf(t: Pick<ReplicationTask, 'namespaceId' | 'workflowId' | 'runId'>): ExecutionKey {
  return { namespaceId: t.namespaceId, workflowId: t.workflowId, runId: t.runId };
}

export function decodeEvents(t: ReplicationTask): HistoryEvent[] {
  return t.events.map((b) => historyv1.HistoryEvent.decode(b));
}

export function decodeSnapshot(t: ReplicationTask): NonEventSnapshot | undefined {
  return t.nonEventJson ? (JSON.parse(t.nonEventJson) as NonEventSnapshot) : undefined;
}
