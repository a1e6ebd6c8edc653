// Workflow RPCs of clients and workers: validate, resolve the namespace, hand to history.
import { apiError } from '../common/errors.js';
import { checkRetryPolicy } from '../common/retry-policy.js';
import type { commonv1, workflowservice as ws } from '../common/temporal.js';
import type { NamespaceRef } from '../history/api.js';
import { checkPriority } from '../matching/priority.js';
import { validateSearchAttributes } from '../namespaces/search-attributes.js';
import { SCHEDULER_WORKFLOW_TYPE } from '../schedules/scheduler-wire.js';
import type { CallContext, FrontendContext, Handlers } from './context.js';
import { checkLength, pageSize, requestIdOrNew, requireString, requireTaskQueueName } from './validation.js';

type Limits = FrontendContext['config'];

function requireExecution(e: commonv1.IWorkflowExecution | null | undefined, limits: Limits): commonv1.IWorkflowExecution {
  requireString(e?.workflowId, 'WorkflowId', limits);
  checkLength(e?.runId, 'RunId', limits);
  return e!;
}

/** The common part of StartWorkflowExecution and SignalWithStartWorkflowExecution. */
function checkStart(
  req: ws.IStartWorkflowExecutionRequest | ws.ISignalWithStartWorkflowExecutionRequest,
  limits: Limits,
): void {
  requireString(req.workflowId, 'WorkflowId', limits);
  requireString(req.workflowType?.name, 'WorkflowType', limits);
  // Scheduler runs are started by CreateSchedule only; history runs them itself.
  if (req.workflowType?.name === SCHEDULER_WORKFLOW_TYPE) throw apiError('INVALID_ARGUMENT', `WorkflowType ${SCHEDULER_WORKFLOW_TYPE} is reserved for schedules.`);
  requireTaskQueueName(req.taskQueue?.name, limits);
  checkLength(req.identity, 'Identity', limits);
  checkLength(req.cronSchedule, 'CronSchedule', limits);
  checkRetryPolicy(req.retryPolicy);
  checkPriority(req.priority);
  req.requestId = requestIdOrNew(req.requestId, limits);
}

type ActivityRequest = { taskToken?: Uint8Array | null; workflowId?: string | null; runId?: string | null; activityId?: string | null; identity?: string | null };

/** Token-addressed activity calls need the token; ById calls name the workflow and the activity. */
function checkActivityTarget(req: ActivityRequest, byId: boolean, limits: Limits): void {
  checkLength(req.identity, 'Identity', limits);
  if (!byId) {
    if (!req.taskToken?.length) throw apiError('REQUIRED', 'TaskToken');
    return;
  }
  requireString(req.workflowId, 'WorkflowId', limits);
  checkLength(req.runId, 'RunId', limits);
  requireString(req.activityId, 'ActivityId', limits);
}

export function workflowHandlers(ctx: FrontendContext): Handlers {
  const limits = ctx.config;

  const activity =
    <R extends ActivityRequest & { namespace?: string | null }>(byId: boolean, respond: (ns: NamespaceRef, req: R) => Promise<object | void>) =>
    async (req: R, call: CallContext) => {
      checkActivityTarget(req, byId, limits);
      return ctx.serve(req, call, 'worker', async (ns) => (await respond(ns, req)) ?? {});
    };

  /** A start served where its namespace is active, with its search attributes checked against that namespace's. */
  const serveStart = <R extends ws.IStartWorkflowExecutionRequest | ws.ISignalWithStartWorkflowExecutionRequest>(
    req: R,
    call: CallContext,
    start: (ns: NamespaceRef) => Promise<object>,
  ) =>
    ctx.serve(req, call, 'write', async (ns) => {
      validateSearchAttributes(await ctx.namespaces.requireById(ns.id), req.searchAttributes);
      return start(ns);
    });

  return {
    StartWorkflowExecution: async (req: ws.StartWorkflowExecutionRequest, call) => {
      checkStart(req, limits);
      return serveStart(req, call, (ns) => ctx.history.startWorkflowExecution(ns, req));
    },

    SignalWithStartWorkflowExecution: async (req: ws.SignalWithStartWorkflowExecutionRequest, call) => {
      checkStart(req, limits);
      requireString(req.signalName, 'SignalName', limits);
      return serveStart(req, call, (ns) => ctx.history.signalWithStartWorkflowExecution(ns, req));
    },

    SignalWorkflowExecution: async (req: ws.SignalWorkflowExecutionRequest, call) => {
      requireExecution(req.workflowExecution, limits);
      requireString(req.signalName, 'SignalName', limits);
      checkLength(req.identity, 'Identity', limits);
      req.requestId = requestIdOrNew(req.requestId, limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        await ctx.history.signalWorkflowExecution(ns, req);
        return {};
      });
    },

    RequestCancelWorkflowExecution: async (req: ws.RequestCancelWorkflowExecutionRequest, call) => {
      requireExecution(req.workflowExecution, limits);
      checkLength(req.identity, 'Identity', limits);
      req.requestId = requestIdOrNew(req.requestId, limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        await ctx.history.requestCancelWorkflowExecution(ns, req);
        return {};
      });
    },

    TerminateWorkflowExecution: async (req: ws.TerminateWorkflowExecutionRequest, call) => {
      requireExecution(req.workflowExecution, limits);
      checkLength(req.identity, 'Identity', limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        await ctx.history.terminateWorkflowExecution(ns, req);
        return {};
      });
    },

    PauseActivity: async (req: ws.PauseActivityRequest, call) => {
      requireExecution(req.execution, limits);
      checkLength(req.identity, 'Identity', limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        await ctx.history.pauseActivity(ns, req);
        return {};
      });
    },

    UnpauseActivity: async (req: ws.UnpauseActivityRequest, call) => {
      requireExecution(req.execution, limits);
      checkLength(req.identity, 'Identity', limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        await ctx.history.unpauseActivity(ns, req);
        return {};
      });
    },

    ResetActivity: async (req: ws.ResetActivityRequest, call) => {
      requireExecution(req.execution, limits);
      checkLength(req.identity, 'Identity', limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        await ctx.history.resetActivity(ns, req);
        return {};
      });
    },

    UpdateActivityOptions: async (req: ws.UpdateActivityOptionsRequest, call) => {
      requireExecution(req.execution, limits);
      checkLength(req.identity, 'Identity', limits);
      const queue = req.activityOptions?.taskQueue?.name;
      if (queue) requireTaskQueueName(queue, limits);
      return ctx.serve(req, call, 'write', (ns) => ctx.history.updateActivityOptions(ns, req));
    },

    ResetWorkflowExecution: async (req: ws.ResetWorkflowExecutionRequest, call) => {
      requireExecution(req.workflowExecution, limits);
      checkLength(req.reason, 'Reason', limits);
      req.requestId = requestIdOrNew(req.requestId, limits);
      return ctx.serve(req, call, 'write', (ns) => ctx.history.resetWorkflowExecution(ns, req));
    },

    UpdateWorkflowExecutionOptions: async (req: ws.UpdateWorkflowExecutionOptionsRequest, call) => {
      requireExecution(req.workflowExecution, limits);
      checkPriority(req.workflowExecutionOptions?.priority);
      return ctx.serve(req, call, 'write', (ns) => ctx.history.updateWorkflowExecutionOptions(ns, req));
    },

    DescribeWorkflowExecution: async (req: ws.DescribeWorkflowExecutionRequest, call) => {
      requireExecution(req.execution, limits);
      return ctx.serve(req, call, 'read', (ns) => ctx.history.describeWorkflowExecution(ns, req));
    },

    GetWorkflowExecutionHistory: async (req: ws.GetWorkflowExecutionHistoryRequest, call) => {
      requireExecution(req.execution, limits);
      pageSize(req.maximumPageSize, 'MaximumPageSize', limits);
      return ctx.serveLongPoll(req, call, 'read', limits.longPollMaxMs, (ns, signal) => ctx.history.getWorkflowExecutionHistory(ns, req, signal));
    },

    GetWorkflowExecutionHistoryReverse: async (req: ws.GetWorkflowExecutionHistoryReverseRequest, call) => {
      requireExecution(req.execution, limits);
      pageSize(req.maximumPageSize, 'MaximumPageSize', limits);
      return ctx.serve(req, call, 'read', (ns) => ctx.history.getWorkflowExecutionHistoryReverse(ns, req));
    },

    UpdateWorkflowExecution: async (req: ws.UpdateWorkflowExecutionRequest, call) => {
      requireExecution(req.workflowExecution, limits);
      requireString(req.request?.meta?.updateId, 'UpdateId', limits);
      requireString(req.request?.input?.name, 'UpdateName', limits);
      return ctx.serveLongPoll(req, call, 'write', limits.longPollMaxMs, (ns, signal) => ctx.history.updateWorkflowExecution(ns, req, signal));
    },

    // Update-with-start: the one combination Temporal supports, [startWorkflow, updateWorkflow].
    DeleteWorkflowExecution: async (req: ws.DeleteWorkflowExecutionRequest, call) => {
      requireExecution(req.workflowExecution, limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        await ctx.history.deleteWorkflowExecution(ns, req);
        return {};
      });
    },

    ExecuteMultiOperation: async (req: ws.ExecuteMultiOperationRequest, call) => {
      const [first, second, ...rest] = req.operations ?? [];
      const start = first?.startWorkflow;
      const update = second?.updateWorkflow;
      if (!start || !update || rest.length > 0) {
        throw apiError('INVALID_ARGUMENT', 'ExecuteMultiOperation supports exactly [StartWorkflow, UpdateWorkflow].');
      }
      start.namespace ||= req.namespace;
      checkStart(start, limits);
      if (update.workflowExecution?.workflowId !== start.workflowId) {
        throw apiError('INVALID_ARGUMENT', 'The update must name the workflow id of the start.');
      }
      if (update.workflowExecution?.runId) throw apiError('INVALID_ARGUMENT', 'The update of update-with-start cannot name a run id.');
      if (!start.workflowIdConflictPolicy) {
        throw apiError('INVALID_ARGUMENT', 'Update-with-start needs a WorkflowIdConflictPolicy on the start.');
      }
      requireString(update.request?.meta?.updateId, 'UpdateId', limits);
      requireString(update.request?.input?.name, 'UpdateName', limits);
      return ctx.serveLongPoll(req, call, 'write', limits.longPollMaxMs, async (ns, signal) => {
        const started = await ctx.history.startWorkflowExecution(ns, start);
        const updated = await ctx.history.updateWorkflowExecution(
          ns,
          { ...update, workflowExecution: { workflowId: start.workflowId, runId: started.runId } },
          signal,
        );
        return { responses: [{ startWorkflow: started }, { updateWorkflow: updated }] };
      });
    },

    PollWorkflowExecutionUpdate: async (req: ws.PollWorkflowExecutionUpdateRequest, call) => {
      requireExecution(req.updateRef?.workflowExecution, limits);
      requireString(req.updateRef?.updateId, 'UpdateId', limits);
      return ctx.serveLongPoll(req, call, 'worker', limits.longPollMaxMs, (ns, signal) => ctx.history.pollWorkflowExecutionUpdate(ns, req, signal));
    },

    QueryWorkflow: async (req: ws.QueryWorkflowRequest, call) => {
      requireExecution(req.execution, limits);
      requireString(req.query?.queryType, 'QueryType', limits);
      return ctx.serveLongPoll(req, call, 'worker', limits.longPollMaxMs, (ns, signal) => ctx.history.queryWorkflow(ns, req, signal));
    },

    ResetStickyTaskQueue: async (req: ws.ResetStickyTaskQueueRequest, call) => {
      const execution = requireExecution(req.execution, limits);
      return ctx.serve(req, call, 'worker', async (ns) => {
        await ctx.history.resetStickyTaskQueue(ns, execution);
        return {};
      });
    },

    RespondWorkflowTaskCompleted: async (req: ws.RespondWorkflowTaskCompletedRequest, call) => {
      if (!req.taskToken?.length) throw apiError('REQUIRED', 'TaskToken');
      checkLength(req.identity, 'Identity', limits);
      return ctx.serve(req, call, 'worker', (ns) => ctx.history.respondWorkflowTaskCompleted(ns, req));
    },

    RespondWorkflowTaskFailed: async (req: ws.RespondWorkflowTaskFailedRequest, call) => {
      if (!req.taskToken?.length) throw apiError('REQUIRED', 'TaskToken');
      checkLength(req.identity, 'Identity', limits);
      return ctx.serve(req, call, 'worker', async (ns) => {
        await ctx.history.respondWorkflowTaskFailed(ns, req);
        return {};
      });
    },

    RecordActivityTaskHeartbeat: activity(false, (ns, req: ws.RecordActivityTaskHeartbeatRequest) =>
      ctx.history.recordActivityTaskHeartbeat(ns, req),
    ),
    RecordActivityTaskHeartbeatById: activity(true, (ns, req: ws.RecordActivityTaskHeartbeatByIdRequest) =>
      ctx.history.recordActivityTaskHeartbeat(ns, req),
    ),
    RespondActivityTaskCompleted: activity(false, (ns, req: ws.RespondActivityTaskCompletedRequest) =>
      ctx.history.respondActivityTaskCompleted(ns, req),
    ),
    RespondActivityTaskCompletedById: activity(true, (ns, req: ws.RespondActivityTaskCompletedByIdRequest) =>
      ctx.history.respondActivityTaskCompleted(ns, req),
    ),
    RespondActivityTaskFailed: activity(false, (ns, req: ws.RespondActivityTaskFailedRequest) =>
      ctx.history.respondActivityTaskFailed(ns, req),
    ),
    RespondActivityTaskFailedById: activity(true, (ns, req: ws.RespondActivityTaskFailedByIdRequest) =>
      ctx.history.respondActivityTaskFailed(ns, req),
    ),
    RespondActivityTaskCanceled: activity(false, (ns, req: ws.RespondActivityTaskCanceledRequest) =>
      ctx.history.respondActivityTaskCanceled(ns, req),
    ),
    RespondActivityTaskCanceledById: activity(true, (ns, req: ws.RespondActivityTaskCanceledByIdRequest) =>
      ctx.history.respondActivityTaskCanceled(ns, req),
    ),
  };
}
