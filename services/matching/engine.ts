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
import { polledVersion, sameVersion, targetVersion, versionedQueueName, type DeploymentVersion, type RoutingSource, type TaskQueueRouting } from './versioning.js';

export interface MatchingDeps {
  store: TaskQueueStore;
  /** History's side of the hand-off. */
  starter: TaskStarter;
  logger: Logger;
  registry: Registry;
  config?: Partial<MatchingConfig>;
  /** Wall clock in ms (task expiry, poller liveness); tests move it forward. */
  clock?: () => number;
  /** The task queues' Worker Versioning routing; without it every task goes to unversioned pollers. */
  routing?: RoutingSource;
}

/** A loaded queue: a task queue, or one deployment version's sub-queue of it. */
interface LoadedQueue {
  manager: TaskQueueManager;
  version: DeploymentVersion | null;
  /** The task queue itself (its own name, not a version's sub-queue name). */
  base: TaskQueueRef;
}

export class MatchingEngine implements MatchingApi, Service {
  readonly config: MatchingConfig;
  private readonly store: TaskQueueStore;
  private readonly starter: TaskStarter;
  private readonly log: Logger;
  private readonly metrics: MatchingMetrics;
  private readonly clock: () => number;
  private readonly routing: RoutingSource;
  private readonly managers = new Map<string, LoadedQueue>();
  /** Managers unloaded and still flushing; a new manager of the same queue leases after them. */
  private readonly unloading = new Map<string, Promise<void>>();
  /** Per task queue, the routing update whose versions' sub-queues were loaded to give up their tasks. */
  private readonly routingSeen = new Map<string, number>();
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
    this.routing = deps.routing ?? (async () => null);
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
    const managers = [...this.managers.values()].map((q) => q.manager);
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
    const target = await this.target(req.taskQueue, req.execution.workflowId ?? '', req.pinnedVersion);
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
      this.manager(req.taskQueue, target).addQuery(query);
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
    const manager = withStatus ? this.manager(ref, null) : this.managers.get(queueKey(ref, null))?.manager;
    const versioned = ref.kind === 1 ? this.versionQueues(ref) : [];
    const routing = ref.kind === 1 ? await this.routing(namespaceId, ref.name) : null;
    const resp: ws.IDescribeTaskQueueResponse = {
      pollers: [manager, ...versioned.map((q) => q.manager)].flatMap((m) => m?.pollers() ?? []).map((p) => ({
        identity: p.identity,
        lastAccessTime: timestamp(p.lastAccessMs),
        ratePerSecond: p.ratePerSecond,
        deploymentOptions: p.deploymentOptions,
      })),
      versioningInfo: routing ? versioningInfo(routing) : null,
    };
    if (manager && withStatus) {
      const status = await manager.status();
      const versionStatus = await Promise.all(versioned.map((q) => q.manager.status()));
      const backlog = Long.fromNumber(status.backlogCountHint + versionStatus.reduce((n, v) => n + v.backlogCountHint, 0));
      if (req.includeTaskQueueStatus) {
        resp.taskQueueStatus = {
          backlogCountHint: backlog,
          readLevel: toLong(status.readLevel),
          ackLevel: toLong(status.ackLevel),
          ratePerSecond: 0,
          taskIdBlock: { startId: toLong(status.taskIdBlock.startId), endId: toLong(status.taskIdBlock.endId) },
        };
      }
      if (req.reportStats) {
        const all = [status, ...versionStatus];
        resp.stats = this.stats(backlog, all.map((st) => st.oldestTaskMs));
        const levels = new Set(all.flatMap((st) => [...st.byPriority.keys()]));
        resp.statsByPriorityKey = Object.fromEntries(
          [...levels].map((level) => {
            const of = all.map((st) => st.byPriority.get(level));
            const count = of.reduce((n, p) => n + (p?.backlog ?? 0), 0);
            return [level, this.stats(Long.fromNumber(count), of.map((p) => p?.oldestTaskMs ?? null))];
          }),
        );
      }
    }
    return resp;
  }

  hasRecentPoller(taskQueue: TaskQueueRef): boolean {
    return this.managers.get(queueKey(taskQueue, null))?.manager.hasRecentPoller(this.config.recentPollerWindowMs) ?? false;
  }

  shutdownWorker(namespaceId: string, stickyTaskQueue: string): void {
    const key = queueKey({ namespaceId, name: stickyTaskQueue, type: 1 }, null);
    const manager = this.managers.get(key)?.manager;
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
    const target = await this.target(req.taskQueue, req.workflowId, req.pinnedVersion);
    const match = await this.manager(req.taskQueue, target).add(req);
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
    return this.manager(ref, ref.kind === 1 ? polledVersion(req.deploymentOptions) : null).poll(req, signal);
  }

  /** Sticky queues belong to one worker: only normal queues are routed by version. */
  private async target(ref: TaskQueueRef, workflowId: string, pinned: DeploymentVersion | undefined): Promise<DeploymentVersion | null> {
    if (ref.kind === 2) return null;
    return targetVersion(pinned ? null : await this.routing(ref.namespaceId, ref.name), workflowId, pinned);
  }

  private versionQueues(ref: TaskQueueRef): LoadedQueue[] {
    const prefix = queueKey(ref, null);
    return [...this.managers].filter(([key, q]) => q.version && key.startsWith(`${prefix}\u0000`)).map(([, q]) => q);
  }

  private manager(ref: TaskQueueRef, version: DeploymentVersion | null): TaskQueueManager {
    const key = queueKey(ref, version);
    let manager = this.managers.get(key)?.manager;
    if (!manager) {
      const name = version ? versionedQueueName(ref.name, version) : ref.name;
      manager = new TaskQueueManager({
        ref: { namespaceId: ref.namespaceId, name, type: ref.type, kind: ref.kind },
        store: this.store,
        starter: this.starter,
        config: this.config,
        metrics: this.metrics,
        log: this.log.child({ namespaceId: ref.namespaceId, taskQueue: name, taskType: taskTypeLabel(ref.type) }),
        clock: this.clock,
        predecessor: this.unloading.get(key),
      });
      this.managers.set(key, { manager, version, base: ref });
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
    for (const [key, { manager }] of this.managers) {
      if (manager.isIdle()) {
        this.log.debug({ taskQueue: manager.ref.name, kind: manager.ref.kind }, 'unloading idle task queue');
        this.unload(key, manager);
      } else {
        await manager.tick();
      }
    }
    await this.rerouteVersions().catch((err: unknown) => this.log.warn({ err }, 'moving tasks between versions failed; retried on the next tick'));
  }

  /**
   * Tasks the routing placed in a version's sub-queue wait for that version's pollers; once the
   * routing sends new tasks elsewhere (a new current or ramping version), the queued ones follow,
   * so unpinned workflows never wait on a version being drained. Pinned tasks stay. A routing
   * change loads every version's sub-queue of the task queue once, so a version whose workers are
   * gone gives its backlog up too.
   */
  private async rerouteVersions(): Promise<void> {
    const routings = new Map<string, TaskQueueRouting | null>();
    const routingOf = async (base: TaskQueueRef) => {
      const key = queueKey(base, null);
      if (!routings.has(key)) routings.set(key, await this.routing(base.namespaceId, base.name));
      return routings.get(key)!;
    };
    for (const { base } of [...this.managers.values()].filter((q) => q.base.kind === 1)) {
      const routing = await routingOf(base);
      const key = queueKey(base, null);
      if (!routing || this.routingSeen.get(key) === routing.updateTimeMs) continue;
      this.routingSeen.set(key, routing.updateTimeMs);
      for (const v of routing.versions) if (!routes(routing, v)) this.manager(base, v);
    }
    for (const q of [...this.managers.values()]) {
      if (!q.version || q.base.kind !== 1) continue;
      const routing = await routingOf(q.base);
      if (routing && routes(routing, q.version)) continue;
      const moved = await q.manager.reroute((req) => this.addTask({ ...req, taskQueue: q.base }, q.base.type));
      if (moved > 0) this.log.info({ taskQueue: q.base.name, from: q.version, moved }, 'tasks moved off a version the routing no longer sends them to');
    }
  }

  /** A backlog's stats as DescribeTaskQueue reports them: its count, and the age of its oldest task in memory. */
  private stats(backlog: Long, oldestTaskMs: Array<number | null>) {
    const oldest = Math.min(...oldestTaskMs.map((ms) => ms ?? Infinity));
    return { approximateBacklogCount: backlog, approximateBacklogAge: Number.isFinite(oldest) ? duration(this.clock() - oldest) : null };
  }

  private checkRunning(): void {
    if (!this.running) throw apiError('UNAVAILABLE', 'matching is not running');
  }
}

function queueKey(ref: Pick<TaskQueueRef, 'namespaceId' | 'name' | 'type'>, version: DeploymentVersion | null): string {
  const base = `${ref.namespaceId}\u0000${ref.type}\u0000${ref.name}`;
  return version ? `${base}\u0000${version.deploymentName}\u0000${version.buildId}` : base;
}

/** Whether the routing still sends new tasks of some workflows to `v`. */
function routes(r: TaskQueueRouting, v: DeploymentVersion): boolean {
  return sameVersion(r.current, v) || (sameVersion(r.ramping, v) && r.rampPercentage > 0);
}

function versioningInfo(r: TaskQueueRouting) {
  return {
    currentDeploymentVersion: r.current,
    currentVersion: r.current ? `${r.current.deploymentName}.${r.current.buildId}` : '',
    rampingDeploymentVersion: r.ramping,
    rampingVersion: r.ramping ? `${r.ramping.deploymentName}.${r.ramping.buildId}` : '',
    rampingVersionPercentage: r.ramping ? r.rampPercentage : 0,
    updateTime: timestamp(r.updateTimeMs),
  };
}

function validateRef(ref: TaskQueueRef): void {
  if (!ref.namespaceId) throw apiError('REQUIRED', 'Namespace');
  if (!ref.name) throw apiError('REQUIRED', 'TaskQueue');
  if (ref.type !== 1 && ref.type !== 2) throw apiError('INVALID_ARGUMENT', `unknown task queue type ${String(ref.type)}`);
}

function toLong(v: bigint): Long {
  return Long.fromString(v.toString());
}

function duration(ms: number) {
  return timestamp(Math.max(0, ms));
}

function timestamp(ms: number) {
  return { seconds: Long.fromNumber(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}
