// Task-queue RPCs of workers: long polls and query answers go to matching.
import { apiError } from '../common/errors.js';
import { enums, type taskqueuev1, type workflowservice as ws } from '../common/temporal.js';
import { decodeQueryTaskToken } from '../history/task-token.js';
import type { FrontendContext, Handlers } from './context.js';
import { checkDeploymentOptions, checkLength, requireTaskQueueName } from './validation.js';
import { VersionRegistrar } from './version-registrar.js';

type PollRequest = ws.IPollWorkflowTaskQueueRequest | ws.IPollActivityTaskQueueRequest;

const ENHANCED = enums.DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED;
/** The types an enhanced describe reports when it names none (nexus queues are not served). */
const DEFAULT_TYPES = [enums.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, enums.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY];

export function taskHandlers(ctx: FrontendContext): Handlers {
  const limits = ctx.config;
  const versions = new VersionRegistrar(ctx.namespaces, ctx.deps.logger);

  /**
   * DescribeTaskQueue's enhanced mode (what `temporal task-queue describe` asks): pollers and
   * stats per task queue type, under the unversioned key "" (every version's sub-queue counted in).
   */
  const describeEnhanced = async (namespaceId: string, req: ws.DescribeTaskQueueRequest): Promise<ws.IDescribeTaskQueueResponse> => {
    const types = req.taskQueueTypes?.length ? req.taskQueueTypes : DEFAULT_TYPES;
    const typesInfo: Record<string, taskqueuev1.ITaskQueueTypeInfo> = {};
    for (const type of types.filter((t) => DEFAULT_TYPES.includes(t))) {
      const r = await ctx.matching.describeTaskQueue(namespaceId, { taskQueue: req.taskQueue, taskQueueType: type, reportStats: req.reportStats });
      typesInfo[type] = { pollers: req.reportPollers ? r.pollers : [], stats: req.reportStats ? r.stats : null };
    }
    return { versionsInfo: { '': { typesInfo } } };
  };

  const checkPoll = (req: PollRequest) => {
    requireTaskQueueName(req.taskQueue?.name, limits);
    checkLength(req.identity, 'Identity', limits);
    checkDeploymentOptions(req.deploymentOptions, limits);
  };

  return {
    PollWorkflowTaskQueue: async (req: ws.PollWorkflowTaskQueueRequest, call) => {
      checkPoll(req);
      return ctx.serveLongPoll(req, call, 'worker', limits.pollMaxMs, (ns, signal) => {
        versions.notePoll(ns, req.taskQueue!, 1, req.deploymentOptions);
        return ctx.matching.pollWorkflowTaskQueue(ns.id, req, signal);
      });
    },

    PollActivityTaskQueue: async (req: ws.PollActivityTaskQueueRequest, call) => {
      checkPoll(req);
      return ctx.serveLongPoll(req, call, 'worker', limits.pollMaxMs, (ns, signal) => {
        versions.notePoll(ns, req.taskQueue!, 2, req.deploymentOptions);
        return ctx.matching.pollActivityTaskQueue(ns.id, req, signal);
      });
    },

    RespondQueryTaskCompleted: async (req: ws.RespondQueryTaskCompletedRequest, call) => {
      if (!req.taskToken?.length) throw apiError('REQUIRED', 'TaskToken');
      const token = decodeQueryTaskToken(req.taskToken);
      if (!token || typeof token.queryId !== 'string' || typeof token.namespaceId !== 'string') {
        throw apiError('INVALID_ARGUMENT', 'TaskToken is not a query task token.');
      }
      return ctx.serve(req, call, 'worker', async (ns) => {
        if (token.namespaceId !== ns.id) throw apiError('INVALID_ARGUMENT', `TaskToken belongs to another namespace than ${ns.name}.`);
        await ctx.matching.respondQueryTaskCompleted(ns.id, token.queryId, req);
        return {};
      });
    },

    DescribeTaskQueue: async (req: ws.DescribeTaskQueueRequest, call) => {
      requireTaskQueueName(req.taskQueue?.name, limits);
      if (req.apiMode !== ENHANCED) return ctx.serve(req, call, 'read', (ns) => ctx.matching.describeTaskQueue(ns.id, req));
      return ctx.serve(req, call, 'read', (ns) => describeEnhanced(ns.id, req));
    },

    ShutdownWorker: async (req: ws.ShutdownWorkerRequest, call) => {
      checkLength(req.stickyTaskQueue, 'StickyTaskQueue', limits);
      checkLength(req.identity, 'Identity', limits);
      // A read, so any region accepts it: a worker shutting down must not fail because of a
      // failover. Its sticky queue lives where its polls went: the active region, when reachable.
      return ctx.serve(req, call, 'read', async (ns) => {
        if (req.stickyTaskQueue) ctx.matching.shutdownWorker(ns.id, req.stickyTaskQueue);
        return {};
      });
    },
  };
}
