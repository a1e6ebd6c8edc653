// HistoryApi and TaskStarter over internal gRPC, for frontends and matching nodes. Each call goes
// to the history member that owns its shard (rendezvous hashing over the live history members);
// when that node answers SHARD_MOVED (the shard just moved, or the new owner has not taken it
// yet) or cannot be reached, the call is retried with backoff on whoever owns the shard then,
// for up to retryDeadlineMs and never past the call's AbortSignal. Errors come back as the
// TandemErrors the engine threw, so the frontend maps them exactly as in the embedded process.
import type { Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { commonv1, workflowservice as ws } from '../common/temporal.js';
import type { Membership } from '../membership/membership.js';
import { shardOwner } from '../membership/rendezvous.js';
import type { AddTaskRequest, QueryTaskRequest, TaskStarter } from '../matching/api.js';
import { queryTaskToWire, taskToWire } from '../matching/task-wire.js';
import { HistoryServiceService, type HistoryRouting } from '../../proto/gen/tandem/internal/v1/history.js';
import type { RequestOf, ResponseOf } from '../rpc/definition.js';
import { RemoteService, type RemoteCallOptions, type Route } from '../rpc/remote-service.js';
import { encodeTemporal, type TemporalType } from '../rpc/temporal-bytes.js';
import type { HistoryApi, NamespaceRef } from './api.js';
import { shardIdFor } from './shard-id.js';
import { decodeActivityTaskToken, decodeWorkflowTaskToken } from './task-token.js';

export interface RemoteHistoryConfig {
  membership: Membership;
  /** The cluster's shard count (DESIGN invariant 1): the history nodes use the same. */
  numShards: number;
  logger: Logger;
  options?: Partial<RemoteCallOptions>;
}

type Def = typeof HistoryServiceService;
/** The RPCs whose request is a routing plus one Temporal message. */
type PlainKey = { [K in keyof Def]: RequestOf<Def[K]> extends { request: Buffer } ? K : never }[keyof Def];
/** The activity RPCs: the Temporal message is by task token or by id. */
type ActivityKey = { [K in keyof Def]: RequestOf<Def[K]> extends { byId?: Buffer | undefined } ? K : never }[keyof Def];

interface TokenOrId {
  taskToken?: Uint8Array | null;
  workflowId?: string | null;
}

/** How long a failover waits for every history node to reload a namespace. */
const REFRESH_TIMEOUT_MS = 5_000;

export class RemoteHistory implements HistoryApi, TaskStarter, Service {
  private readonly remote: RemoteService<Def>;
  private readonly numShards: number;

  constructor(config: RemoteHistoryConfig) {
    if (!Number.isInteger(config.numShards) || config.numShards < 1) {
      throw new Error(`remote history: numShards must be a positive integer, got ${config.numShards}`);
    }
    this.numShards = config.numShards;
    const log = config.logger.child({ service: 'history-client' });
    this.remote = new RemoteService('history', HistoryServiceService, config.membership, config.options, log);
  }

  start(): Promise<void> {
    return this.remote.start();
  }

  stop(): Promise<void> {
    return this.remote.stop();
  }

  async startWorkflowExecution(ns: NamespaceRef, req: ws.IStartWorkflowExecutionRequest): Promise<ws.IStartWorkflowExecutionResponse> {
    const { response } = await this.plain('startWorkflowExecution', ns, req.workflowId, ws.StartWorkflowExecutionRequest, req);
    return ws.StartWorkflowExecutionResponse.decode(response);
  }

  async signalWithStartWorkflowExecution(
    ns: NamespaceRef,
    req: ws.ISignalWithStartWorkflowExecutionRequest,
  ): Promise<ws.ISignalWithStartWorkflowExecutionResponse> {
    const { response } = await this.plain('signalWithStartWorkflowExecution', ns, req.workflowId, ws.SignalWithStartWorkflowExecutionRequest, req);
    return ws.SignalWithStartWorkflowExecutionResponse.decode(response);
  }

  async signalWorkflowExecution(ns: NamespaceRef, req: ws.ISignalWorkflowExecutionRequest): Promise<void> {
    await this.plain('signalWorkflowExecution', ns, req.workflowExecution?.workflowId, ws.SignalWorkflowExecutionRequest, req);
  }

  async requestCancelWorkflowExecution(ns: NamespaceRef, req: ws.IRequestCancelWorkflowExecutionRequest): Promise<void> {
    await this.plain('requestCancelWorkflowExecution', ns, req.workflowExecution?.workflowId, ws.RequestCancelWorkflowExecutionRequest, req);
  }

  async terminateWorkflowExecution(ns: NamespaceRef, req: ws.ITerminateWorkflowExecutionRequest): Promise<void> {
    await this.plain('terminateWorkflowExecution', ns, req.workflowExecution?.workflowId, ws.TerminateWorkflowExecutionRequest, req);
  }

  async deleteWorkflowExecution(ns: NamespaceRef, req: ws.IDeleteWorkflowExecutionRequest): Promise<void> {
    await this.plain('deleteWorkflowExecution', ns, req.workflowExecution?.workflowId, ws.DeleteWorkflowExecutionRequest, req);
  }

  async updateWorkflowExecutionOptions(ns: NamespaceRef, req: ws.IUpdateWorkflowExecutionOptionsRequest): Promise<ws.IUpdateWorkflowExecutionOptionsResponse> {
    const { response } = await this.plain('updateWorkflowExecutionOptions', ns, req.workflowExecution?.workflowId, ws.UpdateWorkflowExecutionOptionsRequest, req);
    return ws.UpdateWorkflowExecutionOptionsResponse.decode(response);
  }

  async getWorkflowExecutionHistoryReverse(ns: NamespaceRef, req: ws.IGetWorkflowExecutionHistoryReverseRequest): Promise<ws.IGetWorkflowExecutionHistoryReverseResponse> {
    const { response } = await this.plain('getWorkflowExecutionHistoryReverse', ns, req.execution?.workflowId, ws.GetWorkflowExecutionHistoryReverseRequest, req);
    return ws.GetWorkflowExecutionHistoryReverseResponse.decode(response);
  }

  async pauseActivity(ns: NamespaceRef, req: ws.IPauseActivityRequest): Promise<void> {
    await this.plain('pauseActivity', ns, req.execution?.workflowId, ws.PauseActivityRequest, req);
  }

  async unpauseActivity(ns: NamespaceRef, req: ws.IUnpauseActivityRequest): Promise<void> {
    await this.plain('unpauseActivity', ns, req.execution?.workflowId, ws.UnpauseActivityRequest, req);
  }

  async resetActivity(ns: NamespaceRef, req: ws.IResetActivityRequest): Promise<void> {
    await this.plain('resetActivity', ns, req.execution?.workflowId, ws.ResetActivityRequest, req);
  }

  async updateActivityOptions(ns: NamespaceRef, req: ws.IUpdateActivityOptionsRequest): Promise<ws.IUpdateActivityOptionsResponse> {
    const { response } = await this.plain('updateActivityOptions', ns, req.execution?.workflowId, ws.UpdateActivityOptionsRequest, req);
    return ws.UpdateActivityOptionsResponse.decode(response);
  }

  async resetWorkflowExecution(ns: NamespaceRef, req: ws.IResetWorkflowExecutionRequest): Promise<ws.IResetWorkflowExecutionResponse> {
    const { response } = await this.plain('resetWorkflowExecution', ns, req.workflowExecution?.workflowId, ws.ResetWorkflowExecutionRequest, req);
    return ws.ResetWorkflowExecutionResponse.decode(response);
  }

  async describeWorkflowExecution(
    ns: NamespaceRef,
    req: ws.IDescribeWorkflowExecutionRequest,
  ): Promise<ws.IDescribeWorkflowExecutionResponse> {
    const { response } = await this.plain('describeWorkflowExecution', ns, req.execution?.workflowId, ws.DescribeWorkflowExecutionRequest, req);
    return ws.DescribeWorkflowExecutionResponse.decode(response);
  }

  async getWorkflowExecutionHistory(
    ns: NamespaceRef,
    req: ws.IGetWorkflowExecutionHistoryRequest,
    signal: AbortSignal,
  ): Promise<ws.IGetWorkflowExecutionHistoryResponse> {
    const { response } = await this.plain(
      'getWorkflowExecutionHistory',
      ns,
      req.execution?.workflowId,
      ws.GetWorkflowExecutionHistoryRequest,
      req,
      signal,
    );
    return ws.GetWorkflowExecutionHistoryResponse.decode(response);
  }

  async respondWorkflowTaskCompleted(
    ns: NamespaceRef,
    req: ws.IRespondWorkflowTaskCompletedRequest,
  ): Promise<ws.IRespondWorkflowTaskCompletedResponse> {
    const token = decodeWorkflowTaskToken(req.taskToken);
    const { response } = await this.plain(
      'respondWorkflowTaskCompleted',
      ns,
      token?.workflowId,
      ws.RespondWorkflowTaskCompletedRequest,
      req,
      undefined,
      token?.namespaceId,
    );
    return ws.RespondWorkflowTaskCompletedResponse.decode(response);
  }

  async respondWorkflowTaskFailed(ns: NamespaceRef, req: ws.IRespondWorkflowTaskFailedRequest): Promise<void> {
    const token = decodeWorkflowTaskToken(req.taskToken);
    await this.plain('respondWorkflowTaskFailed', ns, token?.workflowId, ws.RespondWorkflowTaskFailedRequest, req, undefined, token?.namespaceId);
  }

  async recordActivityTaskHeartbeat(
    ns: NamespaceRef,
    req: ws.IRecordActivityTaskHeartbeatRequest | ws.IRecordActivityTaskHeartbeatByIdRequest,
  ): Promise<ws.IRecordActivityTaskHeartbeatResponse> {
    const { response } = await this.activity(
      'recordActivityTaskHeartbeat',
      ns,
      req,
      ws.RecordActivityTaskHeartbeatRequest,
      ws.RecordActivityTaskHeartbeatByIdRequest,
    );
    return ws.RecordActivityTaskHeartbeatResponse.decode(response);
  }

  async respondActivityTaskCompleted(
    ns: NamespaceRef,
    req: ws.IRespondActivityTaskCompletedRequest | ws.IRespondActivityTaskCompletedByIdRequest,
  ): Promise<void> {
    await this.activity('respondActivityTaskCompleted', ns, req, ws.RespondActivityTaskCompletedRequest, ws.RespondActivityTaskCompletedByIdRequest);
  }

  async respondActivityTaskFailed(
    ns: NamespaceRef,
    req: ws.IRespondActivityTaskFailedRequest | ws.IRespondActivityTaskFailedByIdRequest,
  ): Promise<ws.IRespondActivityTaskFailedResponse> {
    const { response } = await this.activity(
      'respondActivityTaskFailed',
      ns,
      req,
      ws.RespondActivityTaskFailedRequest,
      ws.RespondActivityTaskFailedByIdRequest,
    );
    return ws.RespondActivityTaskFailedResponse.decode(response);
  }

  async respondActivityTaskCanceled(
    ns: NamespaceRef,
    req: ws.IRespondActivityTaskCanceledRequest | ws.IRespondActivityTaskCanceledByIdRequest,
  ): Promise<void> {
    await this.activity('respondActivityTaskCanceled', ns, req, ws.RespondActivityTaskCanceledRequest, ws.RespondActivityTaskCanceledByIdRequest);
  }

  async queryWorkflow(ns: NamespaceRef, req: ws.IQueryWorkflowRequest, signal: AbortSignal): Promise<ws.IQueryWorkflowResponse> {
    const { response } = await this.plain('queryWorkflow', ns, req.execution?.workflowId, ws.QueryWorkflowRequest, req, signal);
    return ws.QueryWorkflowResponse.decode(response);
  }

  /**
   * Every live history node reloads the namespace; a node that does not answer fails the call, so
   * a failover stops rather than race a node that might still write under the old version.
   */
  async refreshNamespace(namespaceId: string): Promise<void> {
    const signal = AbortSignal.timeout(REFRESH_TIMEOUT_MS);
    await Promise.all(
      this.remote.members().map((m) => this.remote.call('refreshNamespace', { namespaceId }, (live) => live.find((x) => x.id === m.id), signal)),
    );
  }

  async resetStickyTaskQueue(ns: NamespaceRef, execution: commonv1.IWorkflowExecution): Promise<void> {
    const routing = this.routing(ns, execution.workflowId);
    const request = { routing, execution: encodeTemporal(commonv1.WorkflowExecution, execution) };
    await this.remote.call('resetStickyTaskQueue', request, this.route(routing));
  }

  async updateWorkflowExecution(
    ns: NamespaceRef,
    req: ws.IUpdateWorkflowExecutionRequest,
    signal: AbortSignal,
  ): Promise<ws.IUpdateWorkflowExecutionResponse> {
    const { response } = await this.plain(
      'updateWorkflowExecution',
      ns,
      req.workflowExecution?.workflowId,
      ws.UpdateWorkflowExecutionRequest,
      req,
      signal,
    );
    return ws.UpdateWorkflowExecutionResponse.decode(response);
  }

  async pollWorkflowExecutionUpdate(
    ns: NamespaceRef,
    req: ws.IPollWorkflowExecutionUpdateRequest,
    signal: AbortSignal,
  ): Promise<ws.IPollWorkflowExecutionUpdateResponse> {
    const { response } = await this.plain(
      'pollWorkflowExecutionUpdate',
      ns,
      req.updateRef?.workflowExecution?.workflowId,
      ws.PollWorkflowExecutionUpdateRequest,
      req,
      signal,
    );
    return ws.PollWorkflowExecutionUpdateResponse.decode(response);
  }

  // ---- TaskStarter: matching's calls name the namespace by id only -----------------------------

  async recordWorkflowTaskStarted(task: AddTaskRequest, poll: ws.IPollWorkflowTaskQueueRequest): Promise<ws.IPollWorkflowTaskQueueResponse> {
    const routing = this.routing({ id: task.taskQueue.namespaceId, name: poll.namespace ?? '' }, task.workflowId);
    const request = { routing, task: taskToWire(task), pollRequest: encodeTemporal(ws.PollWorkflowTaskQueueRequest, poll) };
    const { response } = await this.remote.call('recordWorkflowTaskStarted', request, this.route(routing));
    return ws.PollWorkflowTaskQueueResponse.decode(response);
  }

  async recordActivityTaskStarted(task: AddTaskRequest, poll: ws.IPollActivityTaskQueueRequest): Promise<ws.IPollActivityTaskQueueResponse> {
    const routing = this.routing({ id: task.taskQueue.namespaceId, name: poll.namespace ?? '' }, task.workflowId);
    const request = { routing, task: taskToWire(task), pollRequest: encodeTemporal(ws.PollActivityTaskQueueRequest, poll) };
    const { response } = await this.remote.call('recordActivityTaskStarted', request, this.route(routing));
    return ws.PollActivityTaskQueueResponse.decode(response);
  }

  async buildQueryTask(queryId: string, task: QueryTaskRequest, poll: ws.IPollWorkflowTaskQueueRequest): Promise<ws.IPollWorkflowTaskQueueResponse> {
    const routing = this.routing({ id: task.taskQueue.namespaceId, name: poll.namespace ?? '' }, task.execution.workflowId);
    const request = { routing, queryId, task: queryTaskToWire(task), pollRequest: encodeTemporal(ws.PollWorkflowTaskQueueRequest, poll) };
    const { response } = await this.remote.call('buildQueryTask', request, this.route(routing));
    return ws.PollWorkflowTaskQueueResponse.decode(response);
  }

  // ----

  /**
   * The shard is the one the engine will look the run up in: a task token's namespace when the
   * call carries one, the call's namespace otherwise.
   */
  private routing(ns: NamespaceRef, workflowId: string | null | undefined, shardNamespaceId?: string): HistoryRouting {
    const wf = workflowId ?? '';
    return {
      namespaceId: ns.id,
      namespaceName: ns.name,
      workflowId: wf,
      shardId: shardIdFor(shardNamespaceId || ns.id, wf, this.numShards),
    };
  }

  private route(routing: HistoryRouting): Route {
    return (members) => shardOwner(routing.shardId, members);
  }

  private plain<K extends PlainKey, Req>(
    key: K,
    ns: NamespaceRef,
    workflowId: string | null | undefined,
    type: TemporalType<Req>,
    req: unknown,
    signal?: AbortSignal,
    shardNamespaceId?: string,
  ): Promise<ResponseOf<Def[K]>> {
    const routing = this.routing(ns, workflowId, shardNamespaceId);
    const request = { routing, request: encodeTemporal(type, req) } as RequestOf<Def[K]>;
    return this.remote.call(key, request, this.route(routing), signal);
  }

  /** By token when the worker sent one (the engine's own test), by id otherwise. */
  private activity<K extends ActivityKey, ByToken, ById>(
    key: K,
    ns: NamespaceRef,
    req: TokenOrId,
    byTokenType: TemporalType<ByToken>,
    byIdType: TemporalType<ById>,
  ): Promise<ResponseOf<Def[K]>> {
    const byToken = req.taskToken && req.taskToken.length > 0;
    const token = byToken ? decodeActivityTaskToken(req.taskToken) : null;
    const routing = this.routing(ns, byToken ? token?.workflowId : req.workflowId, token?.namespaceId);
    const request = (
      byToken ? { routing, byToken: encodeTemporal(byTokenType, req) } : { routing, byId: encodeTemporal(byIdType, req) }
    ) as RequestOf<Def[K]>;
    return this.remote.call(key, request, this.route(routing));
  }
}
