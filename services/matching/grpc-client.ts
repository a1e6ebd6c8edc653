// MatchingApi over internal gRPC, for history nodes and frontends. A task queue lives on one
// matching member: rendezvous hashing of `${namespaceId}/${name}/${type}` over the live matching
// members (sticky queues too). Calls are retried on a new owner while the owner cannot be
// reached, as RemoteHistory does; errors come back as the engine's TandemErrors. Adds to a queue
// made while an earlier one is in flight go in one AddTasks call, each answered with its own outcome.
//
// Two methods of the interface are synchronous and cannot wait for a remote answer:
// - hasRecentPoller answers from a cache of the owner's answers. An entry older than
//   recentPollerRefreshMs is refreshed in the background; a queue asked about for the first time
//   answers false (its query goes to the normal queue, which any worker serves) until the first
//   answer arrives.
// - shutdownWorker is sent in the background; a failure is logged (the sticky queue then idles
//   out on its owner, and history's sticky timeout moves its tasks back).
import { apiError, isTandemError } from '../common/errors.js';
import { GroupCommit } from '../common/group-commit.js';
import type { Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { workflowservice as ws } from '../common/temporal.js';
import type { Membership } from '../membership/membership.js';
import { ownerOf } from '../membership/rendezvous.js';
import { MatchingServiceService } from '../../proto/gen/tandem/internal/v1/matching.js';
import { tandemErrorFromWire } from '../rpc/error-trailers.js';
import { RemoteService, type RemoteCallOptions, type Route } from '../rpc/remote-service.js';
import { encodeTemporal } from '../rpc/temporal-bytes.js';
import { queryTaskToWire, taskQueueToWire, taskToWire } from './task-wire.js';
import type { AddTaskRequest, MatchingApi, QueryTaskRequest, TaskQueueRef } from './api.js';

export interface RemoteMatchingOptions extends RemoteCallOptions {
  /** hasRecentPoller answers from a cached answer at most this old before refreshing it. */
  recentPollerRefreshMs: number;
}

export interface RemoteMatchingConfig {
  membership: Membership;
  logger: Logger;
  options?: Partial<RemoteMatchingOptions>;
}

const defaultRecentPollerRefreshMs = 2_000;
/** Tasks per AddTasks call at most. */
const MAX_TASKS_PER_ADD = 100;
/** Sticky queues live as long as their workers: bound the cache, dropping the least recently refreshed. */
const MAX_RECENT_POLLER_ENTRIES = 10_000;

interface RecentPoller {
  value: boolean;
  checkedAtMs: number;
  refreshing: boolean;
}

type QueueKey = Pick<TaskQueueRef, 'namespaceId' | 'name' | 'type'>;

export class RemoteMatching implements MatchingApi, Service {
  private readonly remote: RemoteService<typeof MatchingServiceService>;
  private readonly log: Logger;
  private readonly recentPollerRefreshMs: number;
  private readonly recentPollers = new Map<string, RecentPoller>();
  /** Per queue and kind of add, while an AddTasks call is in flight (dropped once idle). */
  private readonly adds = new Map<string, GroupCommit<AddTaskRequest>>();

  constructor(config: RemoteMatchingConfig) {
    const { recentPollerRefreshMs = defaultRecentPollerRefreshMs, ...callOptions } = config.options ?? {};
    if (!Number.isInteger(recentPollerRefreshMs) || recentPollerRefreshMs <= 0) {
      throw new Error(`remote matching: recentPollerRefreshMs must be a positive integer, got ${recentPollerRefreshMs}`);
    }
    this.recentPollerRefreshMs = recentPollerRefreshMs;
    this.log = config.logger.child({ service: 'matching-client' });
    this.remote = new RemoteService('matching', MatchingServiceService, config.membership, callOptions, this.log);
  }

  start(): Promise<void> {
    return this.remote.start();
  }

  async stop(): Promise<void> {
    await this.remote.stop();
    this.recentPollers.clear();
  }

  addWorkflowTask(req: AddTaskRequest): Promise<void> {
    return this.add(req, false);
  }

  addActivityTask(req: AddTaskRequest): Promise<void> {
    return this.add(req, true);
  }

  /** One AddTasks call for the adds made to the queue while the previous one was in flight. */
  private async add(req: AddTaskRequest, activity: boolean): Promise<void> {
    const key = `${queueKey(req.taskQueue)}/${activity ? 'activity' : 'workflow'}`;
    let adds = this.adds.get(key);
    if (!adds) {
      const to = route(req.taskQueue);
      adds = new GroupCommit(async (tasks: AddTaskRequest[]) => {
        const { results } = await this.remote.call('addTasks', { tasks: tasks.map(taskToWire), activity }, to);
        return results.map((r) => r.error && tandemErrorFromWire(r.error));
      }, MAX_TASKS_PER_ADD);
      this.adds.set(key, adds);
    }
    try {
      await adds.submit(req);
    } finally {
      if (!adds.busy && this.adds.get(key) === adds) this.adds.delete(key);
    }
  }

  async pollWorkflowTaskQueue(
    namespaceId: string,
    req: ws.IPollWorkflowTaskQueueRequest,
    signal: AbortSignal,
  ): Promise<ws.IPollWorkflowTaskQueueResponse> {
    const taskQueue = polledQueue(namespaceId, req, 1);
    const request = { taskQueue: taskQueueToWire(taskQueue), request: encodeTemporal(ws.PollWorkflowTaskQueueRequest, req) };
    const { response } = await this.remote.call('pollWorkflowTaskQueue', request, route(taskQueue), signal);
    return ws.PollWorkflowTaskQueueResponse.decode(response);
  }

  async pollActivityTaskQueue(
    namespaceId: string,
    req: ws.IPollActivityTaskQueueRequest,
    signal: AbortSignal,
  ): Promise<ws.IPollActivityTaskQueueResponse> {
    const taskQueue = polledQueue(namespaceId, req, 2);
    const request = { taskQueue: taskQueueToWire(taskQueue), request: encodeTemporal(ws.PollActivityTaskQueueRequest, req) };
    const { response } = await this.remote.call('pollActivityTaskQueue', request, route(taskQueue), signal);
    return ws.PollActivityTaskQueueResponse.decode(response);
  }

  async queryWorkflow(req: QueryTaskRequest, signal: AbortSignal): Promise<ws.IRespondQueryTaskCompletedRequest> {
    const { answer } = await this.remote.call('queryWorkflow', { task: queryTaskToWire(req) }, route(req.taskQueue), signal);
    return ws.RespondQueryTaskCompletedRequest.decode(answer);
  }

  /**
   * A query waits on the member that dispatched it and its id does not name the queue: every
   * member is asked once, in parallel. Not found anywhere is the engine's TASK_NOT_FOUND; when a
   * member could not be reached, its error wins (the query may be there).
   */
  async respondQueryTaskCompleted(namespaceId: string, queryId: string, req: ws.IRespondQueryTaskCompletedRequest): Promise<void> {
    const request = { namespaceId, queryId, request: encodeTemporal(ws.RespondQueryTaskCompletedRequest, req) };
    const results = await Promise.allSettled(
      this.remote.members().map((m) => this.remote.callAt(m.address, 'respondQueryTaskCompleted', request)),
    );
    if (results.some((r) => r.status === 'fulfilled')) return;
    const errors = results.map((r) => (r as PromiseRejectedResult).reason as unknown);
    throw errors.find((e) => !isTandemError(e, 'TASK_NOT_FOUND')) ?? errors[0] ?? apiError('UNAVAILABLE', 'no live matching member');
  }

  async describeTaskQueue(namespaceId: string, req: ws.IDescribeTaskQueueRequest): Promise<ws.IDescribeTaskQueueResponse> {
    const taskQueue: TaskQueueRef = {
      namespaceId,
      name: req.taskQueue?.name ?? '',
      type: req.taskQueueType === 2 ? 2 : 1,
      kind: req.taskQueue?.kind === 2 ? 2 : 1,
    };
    const request = { taskQueue: taskQueueToWire(taskQueue), request: encodeTemporal(ws.DescribeTaskQueueRequest, req) };
    const { response } = await this.remote.call('describeTaskQueue', request, route(taskQueue));
    return ws.DescribeTaskQueueResponse.decode(response);
  }

  hasRecentPoller(taskQueue: TaskQueueRef): boolean {
    const key = queueKey(taskQueue);
    const entry = this.recentPollers.get(key);
    if (!entry || (!entry.refreshing && Date.now() - entry.checkedAtMs >= this.recentPollerRefreshMs)) {
      this.refreshRecentPoller(key, taskQueue, entry);
    }
    return entry?.value ?? false;
  }

  shutdownWorker(namespaceId: string, stickyTaskQueue: string): void {
    const sticky: QueueKey = { namespaceId, name: stickyTaskQueue, type: 1 };
    this.remote.call('shutdownWorker', { namespaceId, stickyTaskQueue }, route(sticky)).catch((err: unknown) => {
      this.log.warn({ err, namespaceId, stickyTaskQueue }, 'shutdownWorker did not reach matching');
    });
  }

  private refreshRecentPoller(key: string, taskQueue: TaskQueueRef, existing: RecentPoller | undefined): void {
    const entry = existing ?? { value: false, checkedAtMs: 0, refreshing: false };
    entry.refreshing = true;
    // Re-inserted last: the Map's first key is the least recently refreshed.
    this.recentPollers.delete(key);
    this.recentPollers.set(key, entry);
    if (this.recentPollers.size > MAX_RECENT_POLLER_ENTRIES) this.recentPollers.delete(this.recentPollers.keys().next().value!);
    this.remote
      .call('hasRecentPoller', { taskQueue: taskQueueToWire(taskQueue) }, route(taskQueue))
      .then(
        (r) => {
          entry.value = r.hasRecentPoller;
        },
        (err: unknown) => this.log.debug({ err, taskQueue: taskQueue.name }, 'hasRecentPoller refresh failed; keeping the last answer'),
      )
      .finally(() => {
        entry.checkedAtMs = Date.now();
        entry.refreshing = false;
      });
  }
}

function queueKey(q: QueueKey): string {
  return `${q.namespaceId}/${q.name}/${q.type}`;
}

/** The member owning a task queue. */
function route(q: QueueKey): Route {
  const key = queueKey(q);
  return (members) => ownerOf(key, members);
}

function polledQueue(namespaceId: string, req: { taskQueue?: { name?: string | null; kind?: number | null } | null }, type: 1 | 2): TaskQueueRef {
  return { namespaceId, name: req.taskQueue?.name ?? '', type, kind: req.taskQueue?.kind === 2 ? 2 : 1 };
}
