// A history node's internal gRPC server: tandem.internal.v1.HistoryService over the node's engine,
// for frontends (HistoryApi) and matching (TaskStarter). It adds nothing to the engine's
// behaviour: a shard the node does not own fails in the engine with SHARD_MOVED, which the
// caller (RemoteHistory) retries on the new owner.
import type { Logger } from '../common/logger.js';
import type { Registry } from '../common/metrics.js';
import { commonv1, workflowservice as ws } from '../common/temporal.js';
import type { TaskStarter } from '../matching/api.js';
import { queryTaskFromWire, taskFromWire } from '../matching/task-wire.js';
import { HistoryServiceService, type HistoryRouting } from '../../proto/gen/tandem/internal/v1/history.js';
import { InternalGrpcServer, type InternalServerConfig, type RpcHandlers } from '../rpc/server.js';
import { encodeTemporal, type TemporalType } from '../rpc/temporal-bytes.js';
import type { HistoryApi, NamespaceRef } from './api.js';

export type HistoryGrpcServerConfig = Pick<InternalServerConfig, 'host' | 'port'> & Partial<InternalServerConfig>;

export class HistoryGrpcServer extends InternalGrpcServer<typeof HistoryServiceService> {
  constructor(config: HistoryGrpcServerConfig, engine: HistoryApi & TaskStarter, logger: Logger, registry: Registry) {
    super(
      'tandem.internal.v1.HistoryService',
      HistoryServiceService,
      historyHandlers(engine),
      config,
      logger.child({ service: 'history-rpc' }),
      registry,
    );
  }
}

function nsOf(routing: HistoryRouting | undefined): NamespaceRef {
  return { id: routing?.namespaceId ?? '', name: routing?.namespaceName ?? '' };
}

interface Routed {
  routing?: HistoryRouting | undefined;
  request: Buffer;
}

/** A HistoryApi method whose request and response are one Temporal message each. */
function temporalCall<Req, Res>(
  reqType: TemporalType<Req>,
  resType: TemporalType<Res>,
  fn: (ns: NamespaceRef, req: Req, signal: AbortSignal) => Promise<Res>,
) {
  return async ({ routing, request }: Routed, signal: AbortSignal) => ({
    response: encodeTemporal(resType, await fn(nsOf(routing), reqType.decode(request), signal)),
  });
}

/** The same for methods that answer nothing. */
function temporalCommand<Req>(reqType: TemporalType<Req>, fn: (ns: NamespaceRef, req: Req) => Promise<void>) {
  return async ({ routing, request }: Routed) => {
    await fn(nsOf(routing), reqType.decode(request));
    return {};
  };
}

/** Activity calls come by task token or by id; the oneof says which message the bytes are. */
function tokenOrId<ByToken, ById>(
  byTokenType: TemporalType<ByToken>,
  byIdType: TemporalType<ById>,
  m: { byToken?: Buffer | undefined; byId?: Buffer | undefined },
): ByToken | ById {
  return m.byToken ? byTokenType.decode(m.byToken) : byIdType.decode(m.byId ?? Buffer.alloc(0));
}

function historyHandlers(e: HistoryApi & TaskStarter): RpcHandlers<typeof HistoryServiceService> {
  return {
    startWorkflowExecution: temporalCall(ws.StartWorkflowExecutionRequest, ws.StartWorkflowExecutionResponse, (ns, req) =>
      e.startWorkflowExecution(ns, req),
    ),
    signalWithStartWorkflowExecution: temporalCall(
      ws.SignalWithStartWorkflowExecutionRequest,
      ws.SignalWithStartWorkflowExecutionResponse,
      (ns, req) => e.signalWithStartWorkflowExecution(ns, req),
    ),
    signalWorkflowExecution: temporalCommand(ws.SignalWorkflowExecutionRequest, (ns, req) => e.signalWorkflowExecution(ns, req)),
    requestCancelWorkflowExecution: temporalCommand(ws.RequestCancelWorkflowExecutionRequest, (ns, req) =>
      e.requestCancelWorkflowExecution(ns, req),
    ),
    terminateWorkflowExecution: temporalCommand(ws.TerminateWorkflowExecutionRequest, (ns, req) => e.terminateWorkflowExecution(ns, req)),
    deleteWorkflowExecution: temporalCommand(ws.DeleteWorkflowExecutionRequest, (ns, req) => e.deleteWorkflowExecution(ns, req)),
    describeWorkflowExecution: temporalCall(ws.DescribeWorkflowExecutionRequest, ws.DescribeWorkflowExecutionResponse, (ns, req) =>
      e.describeWorkflowExecution(ns, req),
    ),
    updateWorkflowExecutionOptions: temporalCall(ws.UpdateWorkflowExecutionOptionsRequest, ws.UpdateWorkflowExecutionOptionsResponse, (ns, req) =>
      e.updateWorkflowExecutionOptions(ns, req),
    ),
    getWorkflowExecutionHistoryReverse: temporalCall(ws.GetWorkflowExecutionHistoryReverseRequest, ws.GetWorkflowExecutionHistoryReverseResponse, (ns, req) =>
      e.getWorkflowExecutionHistoryReverse(ns, req),
    ),
    pauseActivity: temporalCommand(ws.PauseActivityRequest, (ns, req) => e.pauseActivity(ns, req)),
    unpauseActivity: temporalCommand(ws.UnpauseActivityRequest, (ns, req) => e.unpauseActivity(ns, req)),
    resetActivity: temporalCommand(ws.ResetActivityRequest, (ns, req) => e.resetActivity(ns, req)),
    updateActivityOptions: temporalCall(ws.UpdateActivityOptionsRequest, ws.UpdateActivityOptionsResponse, (ns, req) => e.updateActivityOptions(ns, req)),
    resetWorkflowExecution: temporalCall(ws.ResetWorkflowExecutionRequest, ws.ResetWorkflowExecutionResponse, (ns, req) => e.resetWorkflowExecution(ns, req)),
    getWorkflowExecutionHistory: temporalCall(
      ws.GetWorkflowExecutionHistoryRequest,
      ws.GetWorkflowExecutionHistoryResponse,
      (ns, req, signal) => e.getWorkflowExecutionHistory(ns, req, signal),
    ),
    respondWorkflowTaskCompleted: temporalCall(
      ws.RespondWorkflowTaskCompletedRequest,
      ws.RespondWorkflowTaskCompletedResponse,
      (ns, req) => e.respondWorkflowTaskCompleted(ns, req),
    ),
    respondWorkflowTaskFailed: temporalCommand(ws.RespondWorkflowTaskFailedRequest, (ns, req) => e.respondWorkflowTaskFailed(ns, req)),
    recordActivityTaskHeartbeat: async (m) => ({
      response: encodeTemporal(
        ws.RecordActivityTaskHeartbeatResponse,
        await e.recordActivityTaskHeartbeat(
          nsOf(m.routing),
          tokenOrId(ws.RecordActivityTaskHeartbeatRequest, ws.RecordActivityTaskHeartbeatByIdRequest, m),
        ),
      ),
    }),
    respondActivityTaskCompleted: async (m) => {
      await e.respondActivityTaskCompleted(
        nsOf(m.routing),
        tokenOrId(ws.RespondActivityTaskCompletedRequest, ws.RespondActivityTaskCompletedByIdRequest, m),
      );
      return {};
    },
    respondActivityTaskFailed: async (m) => ({
      response: encodeTemporal(
        ws.RespondActivityTaskFailedResponse,
        await e.respondActivityTaskFailed(nsOf(m.routing), tokenOrId(ws.RespondActivityTaskFailedRequest, ws.RespondActivityTaskFailedByIdRequest, m)),
      ),
    }),
    respondActivityTaskCanceled: async (m) => {
      await e.respondActivityTaskCanceled(
        nsOf(m.routing),
        tokenOrId(ws.RespondActivityTaskCanceledRequest, ws.RespondActivityTaskCanceledByIdRequest, m),
      );
      return {};
    },
    queryWorkflow: temporalCall(ws.QueryWorkflowRequest, ws.QueryWorkflowResponse, (ns, req, signal) => e.queryWorkflow(ns, req, signal)),
    updateWorkflowExecution: temporalCall(
      ws.UpdateWorkflowExecutionRequest,
      ws.UpdateWorkflowExecutionResponse,
      (ns, req, signal) => e.updateWorkflowExecution(ns, req, signal),
    ),
    pollWorkflowExecutionUpdate: temporalCall(
      ws.PollWorkflowExecutionUpdateRequest,
      ws.PollWorkflowExecutionUpdateResponse,
      (ns, req, signal) => e.pollWorkflowExecutionUpdate(ns, req, signal),
    ),
    resetStickyTaskQueue: async ({ routing, execution }) => {
      await e.resetStickyTaskQueue(nsOf(routing), commonv1.WorkflowExecution.decode(execution));
      return {};
    },
    recordWorkflowTaskStarted: async ({ task, pollRequest }) => ({
      response: encodeTemporal(
        ws.PollWorkflowTaskQueueResponse,
        await e.recordWorkflowTaskStarted(taskFromWire(task), ws.PollWorkflowTaskQueueRequest.decode(pollRequest)),
      ),
    }),
    recordActivityTaskStarted: async ({ task, pollRequest }) => ({
      response: encodeTemporal(
        ws.PollActivityTaskQueueResponse,
        await e.recordActivityTaskStarted(taskFromWire(task), ws.PollActivityTaskQueueRequest.decode(pollRequest)),
      ),
    }),
    refreshNamespace: async ({ namespaceId }) => {
      await e.refreshNamespace(namespaceId);
      return {};
    },
    buildQueryTask: async ({ queryId, task, pollRequest }) => ({
      response: encodeTemporal(
        ws.PollWorkflowTaskQueueResponse,
        await e.buildQueryTask(queryId, queryTaskFromWire(task), ws.PollWorkflowTaskQueueRequest.decode(pollRequest)),
      ),
    }),
  };
}
