// The matching service: routes adds, polls and queries to one TaskQueueManager per
// (namespace, name, type), keeps the queries in flight until the worker answers, and runs the
// periodic upkeep (ack flushes, expiry, unloading idle queues).
import { randomUUID } from 'node:crypto';
import Long from 'long';
import { apiError } from '../common/errors.js';
import type { Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import type { Registry } from '../common/metrics.js';
import type { workflowservice as ws } from '../common/temporal.js';
import type { TaskQueueStore } from '../persistence/store.js';
import type { AddTaskRequest, MatchingApi, QueryTaskRequest, TaskQueueRef, TaskStarter } from './api.js';
import { resolveMatchingConfig, type MatchingConfig } from './config.js';
import { MatchingMetrics, taskTypeLabel } from './metrics.js';
import { TaskQueueManager, type PollRequest, type QueryTask } from './taskQueue.js';

export interface MatchingDeps {
  store: TaskQueueStore;
  /** History's side of the hand-off. */
  starter: TaskStarter;
  logger: Logger;
  registry: Registry;
  config?: Partial<MatchingConfig>;
  /** Wall clock in ms (task expiry, poller liveness); tests move it forward. */
  clock?: () => number;
}

export class MatchingEngine implements MatchingApi, Service {
  readonly config: MatchingConfig;
  private readonly store: TaskQueueStore;
  private readonly starter: TaskStarter;
  private readonly log: Logger;
  private readonly metrics: MatchingMetrics;
  private readonly clock: () => number;
  private readonly managers = new Map<string, TaskQueueManager>();
  /** Managers unloaded and still flushing; a new manager of the same queue leases after them. */
  private readonly unloading = new Map<string, Promise<void>>();
  private readonly queries = new Map<string, QueryTask>();
  private running = false;
  private ticker: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;

  constructor(deps: MatchingDeps) {
    this.config = resolveMatchingConfig(deps.config);
    this.store = deps.store;
    this.starter = deps.starter;
    this.log = deps.logger.child({ service: 'matching' });
    this.metrics = new MatchingMetrics(deps.registry);
    this.clock = deps.clock ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.ticker = setInterval(() => {
      this.ticking ??= this.tick()
        .catch((err: unknown) => this.log.error({ err }, 'matching upkeep failed'))
        .finally(() => {
          this.ticking = null;
        });
    }, this.config.ackFlushIntervalMs);
    this.ticker.unref();
    this.log.info('matching started');
  }

  /** Ends outstanding polls empty, fails pending queries, lets in-flight starts finish, flushes ack levels. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.ticker);
    await this.ticking;
    const managers = [...this.managers.values()];
    this.managers.clear();
    await Promise.all([...managers.map((m) => m.close()), ...this.unloading.values()]);
    for (const q of this.queries.values()) q.fail(apiError('UNAVAILABLE', 'matching is shutting down'));
    this.log.info('matching stopped');
  }

  addWorkflowTask(req: AddTaskRequest): Promise<void> {
    return this.addTask(req, 1);
  }

  addActivityTask(req: AddTaskRequest): Promise<void> {
    return this.addTask(req, 2);
  }

  async pollWorkflowTaskQueue(
    namespaceId: string,
    req: ws.IPollWorkflowTaskQueueRequest,
    signal: AbortSignal,
  ): Promise<ws.IPollWorkflowTaskQueueResponse> {
    return this.poll(namespaceId, req, 1, signal);
  }

  async pollActivityTaskQueue(
    namespaceId: string,
    req: ws.IPollActivityTaskQueueRequest,
    signal: AbortSignal,
  ): Promise<ws.IPollActivityTaskQueueResponse> {
    return this.poll(namespaceId, req, 2, signal);
  }

  async queryWorkflow(req: QueryTaskRequest, signal: AbortSignal): Promise<ws.IRespondQueryTaskCompletedRequest> {
    this.checkRunning();
    validateRef(req.taskQueue);
    if (req.taskQueue.type !== 1) throw apiError('INVALID_ARGUMENT', 'query tasks go to workflow task queues');
    const queueName = req.taskQueue.name;
    return new Promise((resolve, reject) => {
      const id = randomUUID();
      const settle = () => {
        query.settled = true;
        clearTimeout(dispatchTimer);
        signal.removeEventListener('abort', onAbort);
        this.queries.delete(id);
      };
      const query: QueryTask = {
        id,
        namespaceId: req.taskQueue.namespaceId,
        req,
        taken: false,
        settled: false,
        answer: (resp) => {
          if (query.settled) return;
          settle();
          resolve(resp);
        },
        fail: (err) => {
          if (query.settled) return;
          settle();
          reject(err);
        },
      };
      const onAbort = () =>
        query.fail(
          query.taken
            ? apiError('DEADLINE_EXCEEDED', `query ${id}: the worker did not answer before the deadline`)
            : apiError('DEADLINE_EXCEEDED', `query: no worker took the query task on task queue ${queueName} before the deadline`),
        );
      const dispatchTimer = setTimeout(() => {
        if (!query.taken) {
          query.fail(
            apiError(
              'UNAVAILABLE',
              `query: no worker polled task queue ${queueName} within ${this.config.queryDispatchTimeoutMs} ms`,
            ),
          );
        }
      }, this.config.queryDispatchTimeoutMs);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.queries.set(id, query);
      this.manager(req.taskQueue).addQuery(query);
    });
  }

  async respondQueryTaskCompleted(
    namespaceId: string,
    queryId: string,
    req: ws.IRespondQueryTaskCompletedRequest,
  ): Promise<void> {
    const query = this.queries.get(queryId);
    if (!query || query.namespaceId !== namespaceId) {
      throw apiError('TASK_NOT_FOUND', `query ${queryId} not found: it was answered already or timed out`);
    }
    query.answer(req);
  }

  async describeTaskQueue(namespaceId: string, req: ws.IDescribeTaskQueueRequest): Promise<ws.IDescribeTaskQueueResponse> {
    this.checkRunning();
    const ref: TaskQueueRef = {
      namespaceId,
      name: req.taskQueue?.name ?? '',
      type: req.taskQueueType === 2 ? 2 : 1,
      kind: req.taskQueue?.kind === 2 ? 2 : 1,
    };
    validateRef(ref);
    const withStatus = Boolean(req.includeTaskQueueStatus || req.reportStats);
    // Describing pollers alone does not load (and lease) a queue nobody uses.
    const manager = withStatus ? this.manager(ref) : this.managers.get(queueKey(ref));
    const resp: ws.IDescribeTaskQueueResponse = {
      pollers: (manager?.pollers() ?? []).map((p) => ({
        identity: p.identity,
        lastAccessTime: timestamp(p.lastAccessMs),
        ratePerSecond: p.ratePerSecond,
      })),
    };
    if (manager && withStatus) {
      const status = await manager.status();
      const backlog = Long.fromNumber(status.backlogCountHint);
      if (req.includeTaskQueueStatus) {
        resp.taskQueueStatus = {
          backlogCountHint: backlog,
          readLevel: toLong(status.readLevel),
          ackLevel: toLong(status.ackLevel),
          ratePerSecond: 0,
          taskIdBlock: { startId: toLong(status.taskIdBlock.startId), endId: toLong(status.taskIdBlock.endId) },
        };
      }
      if (req.reportStats) resp.stats = { approximateBacklogCount: backlog };
    }
    return resp;
  }

  hasRecentPoller(taskQueue: TaskQueueRef): boolean {
    return this.managers.get(queueKey(taskQueue))?.hasRecentPoller(this.config.recentPollerWindowMs) ?? false;
  }

  shutdownWorker(namespaceId: string, stickyTaskQueue: string): void {
    const key = queueKey({ namespaceId, name: stickyTaskQueue, type: 1 });
    const manager = this.managers.get(key);
    if (manager?.ref.kind !== 2) return;
    this.unload(key, manager);
  }

  // ----

  private async addTask(req: AddTaskRequest, type: 1 | 2): Promise<void> {
    this.checkRunning();
    validateRef(req.taskQueue);
    if (req.taskQueue.type !== type) {
      throw apiError('INVALID_ARGUMENT', `task queue type ${req.taskQueue.type} does not match the task (${taskTypeLabel(type)})`);
    }
    const match = await this.manager(req.taskQueue).add(req);
    this.metrics.tasksAdded.inc({
      namespace_id: req.taskQueue.namespaceId,
      task_queue: req.taskQueue.name,
      task_type: taskTypeLabel(type),
      match,
    });
  }

  private async poll(namespaceId: string, req: PollRequest, type: 1 | 2, signal: AbortSignal) {
    this.checkRunning();
    const ref: TaskQueueRef = { namespaceId, name: req.taskQueue?.name ?? '', type, kind: req.taskQueue?.kind === 2 ? 2 : 1 };
    validateRef(ref);
    return this.manager(ref).poll(req, signal);
  }

  private manager(ref: TaskQueueRef): TaskQueueManager {
    const key = queueKey(ref);
    let manager = this.managers.get(key);
    if (!manager) {
      manager = new TaskQueueManager({
        ref: { namespaceId: ref.namespaceId, name: ref.name, type: ref.type, kind: ref.kind },
        store: this.store,
        starter: this.starter,
        config: this.config,
        metrics: this.metrics,
        log: this.log.child({ namespaceId: ref.namespaceId, taskQueue: ref.name, taskType: taskTypeLabel(ref.type) }),
        clock: this.clock,
        predecessor: this.unloading.get(key),
      });
      this.managers.set(key, manager);
    }
    return manager;
  }

  private unload(key: string, manager: TaskQueueManager): void {
    this.managers.delete(key);
    const closing = manager.close().finally(() => {
      if (this.unloading.get(key) === closing) this.unloading.delete(key);
    });
    this.unloading.set(key, closing);
  }

  private async tick(): Promise<void> {
    for (const [key, manager] of this.managers) {
      if (manager.isIdle()) {
        this.log.debug({ taskQueue: manager.ref.name, kind: manager.ref.kind }, 'unloading idle task queue');
        this.unload(key, manager);
      } else {
        await manager.tick();
      }
    }
  }

  private checkRunning(): void {
    if (!this.running) throw apiError('UNAVAILABLE', 'matching is not running');
  }
}

function queueKey(ref: Pick<TaskQueueRef, 'namespaceId' | 'name' | 'type'>): string {
  return `${ref.namespaceId}\u0000${ref.type}\u0000${ref.name}`;
}

function validateRef(ref: TaskQueueRef): void {
  if (!ref.namespaceId) throw apiError('REQUIRED', 'Namespace');
  if (!ref.name) throw apiError('REQUIRED', 'TaskQueue');
  if (ref.type !== 1 && ref.type !== 2) throw apiError('INVALID_ARGUMENT', `unknown task queue type ${String(ref.type)}`);
}

function toLong(v: bigint): Long {
  return Long.fromString(v.toString());
}

function timestamp(ms: number) {
  return { seconds: Long.fromNumber(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}
