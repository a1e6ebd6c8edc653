// The reads of a run: describe, its history (long-polled until the run moves or closes), and
// queries, which wait for the workflow task in flight so they see every accepted signal.
import { apiError, apiErrorWithDetails } from '../common/errors.js';
import { enums, workflowservice as ws } from '../common/temporal.js';
import { toLong } from '../common/proto-time.js';
import type { QueryTaskRequest } from '../matching/api.js';
import type { NamespaceRef } from './api.js';
import type { HistoryContext } from './context.js';
import { describe } from './describe.js';
import { decodeHistoryPageToken, encodeHistoryPageToken } from './history-page-token.js';
import type { MutableState } from './mutable-state.js';
import { encodeQueryTaskToken } from './task-token.js';
import { pinnedVersion } from './versioning.js';

const Status = enums.WorkflowExecutionStatus;

export class WorkflowReads {
  constructor(private readonly ctx: HistoryContext) {}

  async describe(ns: NamespaceRef, req: ws.IDescribeWorkflowExecutionRequest): Promise<ws.IDescribeWorkflowExecutionResponse> {
    const ms = await this.ctx.tx.read(ns.id, req.execution?.workflowId ?? '', req.execution?.runId ?? '');
    return describe(ms);
  }

  /** GetWorkflowExecutionHistoryReverse: the run's events newest first, a page at a time (never a long poll). */
  async historyReverse(ns: NamespaceRef, req: ws.IGetWorkflowExecutionHistoryReverseRequest): Promise<ws.IGetWorkflowExecutionHistoryReverseResponse> {
    const token = decodeHistoryPageToken(req.nextPageToken);
    const ms = await this.ctx.tx.read(ns.id, req.execution?.workflowId ?? '', token?.runId ?? req.execution?.runId ?? '');
    const pageSize = req.maximumPageSize && req.maximumPageSize > 0 ? Math.min(req.maximumPageSize, 1000) : 1000;
    // The token's nextEventId is the page's exclusive upper end here.
    const upTo = Math.min(token?.nextEventId ?? ms.info.nextEventId, ms.info.nextEventId);
    const from = Math.max(1, upTo - pageSize);
    const events = await this.ctx.tx.readAllEvents(ms, from, upTo);
    return {
      history: { events: events.reverse() },
      nextPageToken: from > 1 ? encodeHistoryPageToken({ runId: ms.key.runId, nextEventId: from }) : null,
    };
  }

  async history(
    ns: NamespaceRef,
    req: ws.IGetWorkflowExecutionHistoryRequest,
    signal: AbortSignal,
  ): Promise<ws.IGetWorkflowExecutionHistoryResponse> {
    const workflowId = req.execution?.workflowId ?? '';
    const token = decodeHistoryPageToken(req.nextPageToken);
    const runId = token?.runId ?? req.execution?.runId ?? '';
    const closeOnly = req.historyEventFilterType === enums.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT;
    const pageSize = req.maximumPageSize && req.maximumPageSize > 0 ? Math.min(req.maximumPageSize, 1000) : 1000;
    for (;;) {
      const sub = this.ctx.notifier.subscribe(ns.id, workflowId);
      let ms: MutableState;
      try {
        ms = await this.ctx.tx.read(ns.id, workflowId, runId);
      } catch (err) {
        sub.cancel();
        throw err;
      }
      const key = ms.key;
      if (closeOnly) {
        if (!ms.isRunning) {
          sub.cancel();
          const events = await this.ctx.tx.readEvents(ms, ms.info.completionEventId, ms.info.completionEventId + 1, 1);
          return { history: { events } };
        }
      } else {
        const from = token?.nextEventId ?? 1;
        const to = ms.info.nextEventId;
        if (from < to || !req.waitNewEvent || !ms.isRunning) {
          sub.cancel();
          const events = await this.ctx.tx.readEvents(ms, from, to, pageSize);
          const next = from + events.length;
          const more = next < to || (req.waitNewEvent && ms.isRunning);
          return {
            history: { events },
            nextPageToken: more ? encodeHistoryPageToken({ runId: key.runId, nextEventId: next }) : null,
          };
        }
      }
      if (!req.waitNewEvent) {
        sub.cancel();
        return { history: { events: [] } };
      }
      // Long poll: wait for a new event (or the close) until shortly before the client gives up.
      const woke = await sub.wait(signal);
      if (!woke) {
        return {
          history: { events: [] },
          nextPageToken: encodeHistoryPageToken({ runId: key.runId, nextEventId: closeOnly ? 0 : token?.nextEventId ?? 1 }),
        };
      }
      if (!runId) {
        // Keep following the run we started waiting on.
        return this.history(ns, { ...req, execution: { workflowId, runId: key.runId } }, signal);
      }
    }
  }

  async query(ns: NamespaceRef, req: ws.IQueryWorkflowRequest, signal: AbortSignal): Promise<ws.IQueryWorkflowResponse> {
    const ms = await this.settledRun(ns.id, req.execution?.workflowId ?? '', req.execution?.runId ?? '', signal);
    const rejectCondition = req.queryRejectCondition ?? 0;
    if (
      (rejectCondition === enums.QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN && !ms.isRunning) ||
      (rejectCondition === enums.QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY &&
        !ms.isRunning &&
        ms.info.status !== Status.WORKFLOW_EXECUTION_STATUS_COMPLETED)
    ) {
      return { queryRejected: { status: ms.info.status } };
    }
    const sticky = ms.progress.stickyTaskQueue;
    const useSticky =
      sticky !== '' &&
      this.ctx.matching.hasRecentPoller({ namespaceId: ns.id, name: sticky, type: 1, kind: 2 });
    const task: QueryTaskRequest = {
      taskQueue: { namespaceId: ns.id, name: useSticky ? sticky : ms.info.taskQueue, type: 1, kind: useSticky ? 2 : 1 },
      execution: { workflowId: ms.info.workflowId, runId: ms.info.runId },
      query: req.query ?? {},
      pinnedVersion: pinnedVersion(ms.info),
    };
    const answer = await this.ctx.matching.queryWorkflow(task, signal);
    if (answer.completedType === enums.QueryResultType.QUERY_RESULT_TYPE_FAILED) {
      throw apiErrorWithDetails(
        'INVALID_ARGUMENT',
        [{ typeName: 'temporal.api.errordetails.v1.QueryFailedFailure', value: { failure: answer.failure } }],
        answer.errorMessage || 'query failed',
      );
    }
    return { queryResult: answer.queryResult };
  }

  /**
   * The run once no workflow task is pending: a query must see every event accepted before it
   * (signals included), so it waits for the task that delivers them to the worker.
   */
  private async settledRun(namespaceId: string, workflowId: string, runId: string, signal: AbortSignal): Promise<MutableState> {
    for (;;) {
      const sub = this.ctx.notifier.subscribe(namespaceId, workflowId);
      try {
        const ms = await this.ctx.tx.read(namespaceId, workflowId, runId);
        if (!ms.isRunning || !ms.hasPendingWorkflowTask) return ms;
        if (!(await sub.wait(signal))) {
          throw apiError('DEADLINE_EXCEEDED', 'query timed out waiting for the workflow task in flight to complete');
        }
      } finally {
        sub.cancel();
      }
    }
  }

  async queryTask(queryId: string, task: QueryTaskRequest, _poll: ws.IPollWorkflowTaskQueueRequest): Promise<ws.IPollWorkflowTaskQueueResponse> {
    const ms = await this.ctx.tx.read(task.taskQueue.namespaceId, task.execution.workflowId ?? '', task.execution.runId ?? '');
    const events = await this.ctx.tx.readAllEvents(ms, 1, ms.info.nextEventId);
    return {
      taskToken: encodeQueryTaskToken({ namespaceId: ms.info.namespaceId, queryId }),
      workflowExecution: { workflowId: ms.info.workflowId, runId: ms.info.runId },
      workflowType: { name: ms.info.workflowType },
      previousStartedEventId: toLong(BigInt(ms.info.lastCompletedWorkflowTaskStartedEventId)),
      history: { events },
      query: task.query,
      workflowExecutionTaskQueue: { name: ms.info.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      attempt: 1,
    };
  }
}
