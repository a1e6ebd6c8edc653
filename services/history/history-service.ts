// The history service of one node: owns shards (all of them in the embedded process; membership
// decides in a region), runs their queues and serves the engine. What the process main composes
// around history (replication starts and stops a shard's stream) comes in as shard listeners.
import type { Logger } from '../common/logger.js';
import type { Registry } from '../common/metrics.js';
import type { Service } from '../common/lifecycle.js';
import type { Persistence } from '../persistence/store.js';
import type { ExecutionKey, HistoryTask } from '../persistence/types.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import { compileHistoryConfig, type HistoryConfig } from './config.js';
import { HistoryEngine } from './engine.js';
import { ShardController, type ShardLifecycleListener } from './shard-controller.js';
import { ShardQueues } from './shard-queues.js';
import type { Shard, ShardListener } from './shard.js';
import { TaskExecutor } from './task-executor.js';

/** What the process main composes around history (replication's per-shard streams). */
export interface HistoryShardListener extends ShardLifecycleListener {
  /** Tasks a write of an owned shard just committed: a replication sender ships them at once. */
  onTasksCreated?(shard: Shard, tasks: HistoryTask[]): void;
}

export interface HistoryServiceOptions {
  /**
   * Told when this node acquired a shard (after its queues started) and when it lost or released
   * one (before its queues stop), in order acquired and in reverse order released.
   */
  shardListeners?: readonly HistoryShardListener[];
}

export class HistoryService implements Service, ShardListener, ShardLifecycleListener {
  readonly config: HistoryConfig;
  readonly controller: ShardController;
  readonly engine: HistoryEngine;
  private readonly executor: TaskExecutor;
  private readonly queues = new Map<Shard, ShardQueues>();
  /** Queues of released shards still stopping (their last ack levels are being persisted). */
  private readonly stopping = new Set<Promise<void>>();
  private readonly shardListeners: readonly HistoryShardListener[];
  private readonly log: Logger;
  private unsubscribe?: () => void;

  constructor(
    config: Partial<HistoryConfig>,
    private readonly store: Persistence,
    private readonly namespaces: NamespaceRegistry,
    log: Logger,
    registry: Registry,
    /** Shards this node takes at start; a region's membership passes none and acquires later. */
    private readonly initialShards: 'all' | 'none' = 'all',
    options: HistoryServiceOptions = {},
  ) {
    this.config = compileHistoryConfig(config);
    this.log = log.child({ service: 'history', node: this.config.hostId });
    this.shardListeners = options.shardListeners ?? [];
    this.controller = new ShardController(this.config, store, this, this.log, registry);
    this.engine = new HistoryEngine(this.config, store, namespaces, this.controller, this.log, registry);
    this.executor = new TaskExecutor(this.engine);
  }

  async start(): Promise<void> {
    // A namespace that changed may have become active here: its parked tasks run at once.
    this.unsubscribe ??= this.namespaces.onChange((rec) => {
      for (const q of this.queues.values()) q.namespaceChanged(rec.id);
    });
    if (this.initialShards === 'all') {
      for (let id = 0; id < this.config.numShards; id++) await this.controller.acquire(id);
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.controller.releaseAll();
    await Promise.all(this.stopping);
  }

  onShardAcquired(shard: Shard): void {
    const q = new ShardQueues({ shard, store: this.store, runner: this.executor, config: this.config, log: shard.log });
    this.queues.set(shard, q);
    q.start();
    for (const l of this.shardListeners) this.tell(shard, 'acquired', () => l.onShardAcquired(shard));
  }

  onShardReleased(shard: Shard): void {
    for (const l of [...this.shardListeners].reverse()) this.tell(shard, 'released', () => l.onShardReleased(shard));
    const q = this.queues.get(shard);
    this.queues.delete(shard);
    if (!q) return;
    const stopped = q.stop().finally(() => this.stopping.delete(stopped));
    this.stopping.add(stopped);
  }

  onTasksCreated(shard: Shard, tasks: HistoryTask[]): void {
    this.queues.get(shard)?.tasksCreated(tasks);
    for (const l of this.shardListeners) l.onTasksCreated?.(shard, tasks);
  }

  onEventsAppended(key: ExecutionKey): void {
    this.engine.notifier.notify(key.namespaceId, key.workflowId);
  }

  /** A listener that throws is logged: it must not keep the shard's queues or the other listeners from their turn. */
  private tell(shard: Shard, what: 'acquired' | 'released', call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log.error({ err, shard: shard.shardId }, `shard ${what} listener failed`);
    }
  }
}
