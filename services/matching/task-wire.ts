// The matching contract's own types (api.ts) on the wire, both ways. History's TaskStarter and
// matching's MatchingApi both carry them, so both services' grpc clients and servers use this.
import { commonv1, queryv1 } from '../common/temporal.js';
import { encodeTemporal } from '../rpc/temporal-bytes.js';
import type { QueryTask, Task, TaskQueue } from '../../proto/gen/tandem/internal/v1/common.js';
import type { AddTaskRequest, QueryTaskRequest, TaskQueueRef } from './api.js';

export function taskQueueToWire(ref: TaskQueueRef): TaskQueue {
  return { namespaceId: ref.namespaceId, name: ref.name, type: ref.type, kind: ref.kind };
}

/** Out-of-range types pass through: the engine answers them with its own INVALID_ARGUMENT. */
export function taskQueueFromWire(q: TaskQueue | undefined): TaskQueueRef {
  return { namespaceId: q?.namespaceId ?? '', name: q?.name ?? '', type: (q?.type ?? 0) as 1 | 2, kind: q?.kind === 2 ? 2 : 1 };
}

export function taskToWire(t: AddTaskRequest): Task {
  return {
    taskQueue: taskQueueToWire(t.taskQueue),
    workflowId: t.workflowId,
    runId: t.runId,
    scheduledEventId: BigInt(t.scheduledEventId),
    scheduleToStartTimeoutMs: BigInt(t.scheduleToStartTimeoutMs),
    pinnedVersion: t.pinnedVersion,
    priority: t.priority,
  };
}

export function taskFromWire(t: Task | undefined): AddTaskRequest {
  return {
    taskQueue: taskQueueFromWire(t?.taskQueue),
    workflowId: t?.workflowId ?? '',
    runId: t?.runId ?? '',
    scheduledEventId: Number(t?.scheduledEventId ?? 0n),
    scheduleToStartTimeoutMs: Number(t?.scheduleToStartTimeoutMs ?? 0n),
    ...(t?.pinnedVersion ? { pinnedVersion: t.pinnedVersion } : {}),
    ...(t?.priority ? { priority: t.priority } : {}),
  };
}

export function queryTaskToWire(q: QueryTaskRequest): QueryTask {
  return {
    taskQueue: taskQueueToWire(q.taskQueue),
    execution: encodeTemporal(commonv1.WorkflowExecution, q.execution),
    query: encodeTemporal(queryv1.WorkflowQuery, q.query),
    pinnedVersion: q.pinnedVersion,
  };
}

export function queryTaskFromWire(q: QueryTask | undefined): QueryTaskRequest {
  return {
    taskQueue: taskQueueFromWire(q?.taskQueue),
    execution: commonv1.WorkflowExecution.decode(q?.execution ?? Buffer.alloc(0)),
    query: queryv1.WorkflowQuery.decode(q?.query ?? Buffer.alloc(0)),
    ...(q?.pinnedVersion ? { pinnedVersion: q.pinnedVersion } : {}),
  };
}
