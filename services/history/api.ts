// What the frontend (and matching) ask of history. Two implementations: the in-process engine
// (embedded, and a history node's own server) and the gRPC client to remote history nodes.
import type { workflowservice as ws, commonv1 } from '../common/temporal.js';

/** A namespace resolved by the frontend: history works on ids, errors and events name it. */
export interface NamespaceRef {
  id: string;
  name: string;
}

export interface HistoryApi {
  startWorkflowExecution(
    ns: NamespaceRef,
    req: ws.IStartWorkflowExecutionRequest,
  ): Promise<ws.IStartWorkflowExecutionResponse>;
  signalWithStartWorkflowExecution(
    ns: NamespaceRef,
    req: ws.ISignalWithStartWorkflowExecutionRequest,
  ): Promise<ws.ISignalWithStartWorkflowExecutionResponse>;
  signalWorkflowExecution(ns: NamespaceRef, req: ws.ISignalWorkflowExecutionRequest): Promise<void>;
  requestCancelWorkflowExecution(ns: NamespaceRef, req: ws.IRequestCancelWorkflowExecutionRequest): Promise<void>;
  terminateWorkflowExecution(ns: NamespaceRef, req: ws.ITerminateWorkflowExecutionRequest): Promise<void>;
  /** Terminates the run if it is still running, then removes it, its history and its visibility. */
  deleteWorkflowExecution(ns: NamespaceRef, req: ws.IDeleteWorkflowExecutionRequest): Promise<void>;
  describeWorkflowExecution(
    ns: NamespaceRef,
    req: ws.IDescribeWorkflowExecutionRequest,
  ): Promise<ws.IDescribeWorkflowExecutionResponse>;
  /** Long-polls when req.waitNewEvent; resolves with an empty page and a token before `signal` aborts. */
  getWorkflowExecutionHistory(
    ns: NamespaceRef,
    req: ws.IGetWorkflowExecutionHistoryRequest,
    signal: AbortSignal,
  ): Promise<ws.IGetWorkflowExecutionHistoryResponse>;

  // The worker protocol. Task tokens are history's own encoding; the frontend passes them through.
  respondWorkflowTaskCompleted(
    ns: NamespaceRef,
    req: ws.IRespondWorkflowTaskCompletedRequest,
  ): Promise<ws.IRespondWorkflowTaskCompletedResponse>;
  respondWorkflowTaskFailed(ns: NamespaceRef, req: ws.IRespondWorkflowTaskFailedRequest): Promise<void>;
  recordActivityTaskHeartbeat(
    ns: NamespaceRef,
    req: ws.IRecordActivityTaskHeartbeatRequest | ws.IRecordActivityTaskHeartbeatByIdRequest,
  ): Promise<ws.IRecordActivityTaskHeartbeatResponse>;
  respondActivityTaskCompleted(
    ns: NamespaceRef,
    req: ws.IRespondActivityTaskCompletedRequest | ws.IRespondActivityTaskCompletedByIdRequest,
  ): Promise<void>;
  respondActivityTaskFailed(
    ns: NamespaceRef,
    req: ws.IRespondActivityTaskFailedRequest | ws.IRespondActivityTaskFailedByIdRequest,
  ): Promise<ws.IRespondActivityTaskFailedResponse>;
  respondActivityTaskCanceled(
    ns: NamespaceRef,
    req: ws.IRespondActivityTaskCanceledRequest | ws.IRespondActivityTaskCanceledByIdRequest,
  ): Promise<void>;
  queryWorkflow(ns: NamespaceRef, req: ws.IQueryWorkflowRequest, signal: AbortSignal): Promise<ws.IQueryWorkflowResponse>;
  resetStickyTaskQueue(ns: NamespaceRef, execution: commonv1.IWorkflowExecution): Promise<void>;
  /** Worker Versioning: sets or unsets the run's versioning override (the only option Tandem takes). */
  updateWorkflowExecutionOptions(ns: NamespaceRef, req: ws.IUpdateWorkflowExecutionOptionsRequest): Promise<ws.IUpdateWorkflowExecutionOptionsResponse>;
  getWorkflowExecutionHistoryReverse(ns: NamespaceRef, req: ws.IGetWorkflowExecutionHistoryReverseRequest): Promise<ws.IGetWorkflowExecutionHistoryReverseResponse>;
  /** The operator's activity verbs (activity-operator.ts): no event, only the attempt's state. */
  pauseActivity(ns: NamespaceRef, req: ws.IPauseActivityRequest): Promise<void>;
  unpauseActivity(ns: NamespaceRef, req: ws.IUnpauseActivityRequest): Promise<void>;
  resetActivity(ns: NamespaceRef, req: ws.IResetActivityRequest): Promise<void>;
  updateActivityOptions(ns: NamespaceRef, req: ws.IUpdateActivityOptionsRequest): Promise<ws.IUpdateActivityOptionsResponse>;
  /** A new run from the base run's history up to a workflow task, its later signals reapplied (reset.ts). */
  resetWorkflowExecution(ns: NamespaceRef, req: ws.IResetWorkflowExecutionRequest): Promise<ws.IResetWorkflowExecutionResponse>;
  /**
   * Every history node of the region holds the namespace's current record when this resolves
   * (a failover's handover step; DESIGN invariants 4, 10).
   */
  refreshNamespace(namespaceId: string): Promise<void>;
  updateWorkflowExecution(
    ns: NamespaceRef,
    req: ws.IUpdateWorkflowExecutionRequest,
    signal: AbortSignal,
  ): Promise<ws.IUpdateWorkflowExecutionResponse>;
  pollWorkflowExecutionUpdate(
    ns: NamespaceRef,
    req: ws.IPollWorkflowExecutionUpdateRequest,
    signal: AbortSignal,
  ): Promise<ws.IPollWorkflowExecutionUpdateResponse>;
}
