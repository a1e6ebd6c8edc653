// User input found only on a losing branch or a superseded run (DESIGN invariant 5): signals,
// accepted updates (the accepted event, and the completed one when there is one) and cancel
// requests are written again to the winner as new events at the winner's version, never dropped.
// Reapplying twice changes nothing: a signal is known by its request id (one is made up from its
// origin when it had none), an update by its id, a cancel request by the flag it sets.
import { toLong } from '../common/proto-time.js';
import { enums } from '../common/temporal.js';
import type { MutableState } from './mutable-state.js';
import type { HistoryEvent } from './state.js';
import type { WorkflowTaskScheduler } from './workflow-task-scheduler.js';

const ET = enums.EventType;

const userInputTypes = new Set<number>([
  ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
  ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
]);

export function isUserInput(e: HistoryEvent): boolean {
  return userInputTypes.has(e.eventType ?? 0);
}

export function isSignal(e: HistoryEvent): boolean {
  return e.eventType === ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;
}

/** The request id a reapplied signal carries: its own, or one naming where it came from. */
export function signalRequestId(e: HistoryEvent, originRunId: string): string {
  const own = e.workflowExecutionSignaledEventAttributes?.requestId;
  return own || `reapplied:${originRunId}:${String(e.eventId)}:${String(e.version)}`;
}

/**
 * Adds the user input among `events` (read from run originRunId) to ms, a running winner, and
 * schedules a workflow task for it. Returns how many events it added.
 */
export function reapplyUserInput(ms: MutableState, events: HistoryEvent[], originRunId: string, now: number, scheduler: WorkflowTaskScheduler): number {
  if (!ms.isRunning) return 0;
  let added = 0;
  const add = (eventType: number, attrs: Partial<HistoryEvent>) => {
    added++;
    return ms.addEvent(eventType, attrs, now);
  };
  for (const e of events) {
    switch (e.eventType) {
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
        const requestId = signalRequestId(e, originRunId);
        if (ms.hasSignal(requestId)) break;
        add(ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, { workflowExecutionSignaledEventAttributes: { ...e.workflowExecutionSignaledEventAttributes, requestId } });
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
        const a = e.workflowExecutionUpdateAcceptedEventAttributes!;
        if (ms.update(a.acceptedRequest?.meta?.updateId ?? a.protocolInstanceId ?? '')) break;
        add(ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, { workflowExecutionUpdateAcceptedEventAttributes: a });
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
        const a = e.workflowExecutionUpdateCompletedEventAttributes!;
        const known = ms.update(a.meta?.updateId ?? '');
        if (known?.stage === 'completed') break;
        // The accepted event's id on the winner; unknown (0) while it waits in the buffer.
        add(ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED, {
          workflowExecutionUpdateCompletedEventAttributes: { ...a, acceptedEventId: toLong(BigInt(known?.acceptedEventId ?? 0)) },
        });
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
        if (ms.cancelRequested) break;
        add(ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, { workflowExecutionCancelRequestedEventAttributes: e.workflowExecutionCancelRequestedEventAttributes });
        break;
      default:
        break;
    }
  }
  if (added > 0) scheduler.scheduleIfIdle(ms, now);
  return added;
}
