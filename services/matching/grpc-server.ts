// A matching node's internal gRPC server: tandem.internal.v1.MatchingService over its engine, for
// history (adds, queries) and frontends (polls, query answers, describe, shutdown).
import type { Logger } from '../common/logger.js';
import type { Registry } from '../common/metrics.js';
import { workflowservice as ws } from '../common/temporal.js';
import { MatchingServiceService } from '../../proto/gen/tandem/internal/v1/matching.js';
import { InternalGrpcServer, type InternalServerConfig, type RpcHandlers } from '../rpc/server.js';
import { toWireError } from '../rpc/error-trailers.js';
import { encodeTemporal } from '../rpc/temporal-bytes.js';
import { queryTaskFromWire, taskFromWire, taskQueueFromWire } from './task-wire.js';
import type { MatchingApi } from './api.js';

export type MatchingGrpcServerConfig = Pick<InternalServerConfig, 'host' | 'port'> & Partial<InternalServerConfig>;

export class MatchingGrpcServer extends InternalGrpcServer<typeof MatchingServiceService> {
  constructor(config: MatchingGrpcServerConfig, engine: MatchingApi, logger: Logger, registry: Registry) {
    super(
      'tandem.internal.v1.MatchingService',
      MatchingServiceService,
      matchingHandlers(engine, logger),
      config,
      logger.child({ service: 'matching-rpc' }),
      registry,
    );
  }
}

function matchingHandlers(e: MatchingApi, log: Logger): RpcHandlers<typeof MatchingServiceService> {
  return {
    // Each task is added on its own; one that fails answers its own error, the others stand.
    addTasks: async ({ tasks, activity }) => ({
      results: await Promise.all(
        tasks.map((t) => {
          const req = taskFromWire(t);
          return (activity ? e.addActivityTask(req) : e.addWorkflowTask(req)).then(
            () => ({}),
            (err: unknown) => ({ error: toWireError(err, 'AddTasks', log) }),
          );
        }),
      ),
    }),
    pollWorkflowTaskQueue: async ({ taskQueue, request }, signal) => ({
      response: encodeTemporal(
        ws.PollWorkflowTaskQueueResponse,
        await e.pollWorkflowTaskQueue(taskQueue?.namespaceId ?? '', ws.PollWorkflowTaskQueueRequest.decode(request), signal),
      ),
    }),
    pollActivityTaskQueue: async ({ taskQueue, request }, signal) => ({
      response: encodeTemporal(
        ws.PollActivityTaskQueueResponse,
        await e.pollActivityTaskQueue(taskQueue?.namespaceId ?? '', ws.PollActivityTaskQueueRequest.decode(request), signal),
      ),
    }),
    queryWorkflow: async ({ task }, signal) => ({
      answer: encodeTemporal(ws.RespondQueryTaskCompletedRequest, await e.queryWorkflow(queryTaskFromWire(task), signal)),
    }),
    respondQueryTaskCompleted: async ({ namespaceId, queryId, request }) => {
      await e.respondQueryTaskCompleted(namespaceId, queryId, ws.RespondQueryTaskCompletedRequest.decode(request));
      return {};
    },
    describeTaskQueue: async ({ taskQueue, request }) => ({
      response: encodeTemporal(
        ws.DescribeTaskQueueResponse,
        await e.describeTaskQueue(taskQueue?.namespaceId ?? '', ws.DescribeTaskQueueRequest.decode(request)),
      ),
    }),
    hasRecentPoller: async ({ taskQueue }) => ({ hasRecentPoller: e.hasRecentPoller(taskQueueFromWire(taskQueue)) }),
    shutdownWorker: async ({ namespaceId, stickyTaskQueue }) => {
      e.shutdownWorker(namespaceId, stickyTaskQueue);
      return {};
    },
  };
}
