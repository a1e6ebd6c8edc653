// The history service of one node: owns shards (all of them in the embedded process; membership
// decides in a region), runs their queues and serves the engine.
import type { Logger } from '../common/logger.js';
import type { Registry } from '../common/metrics.js';
import type { Service } from '../common/lifecycle.js';
import type { Persistence } from '../persistence/store.js';
import type { ExecutionKey, HistoryTask } from '../persistence/types.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import { compileHistoryConfig, type HistoryConfig } from './config.js';
import { HistoryEngine } from './engine.js';
import { ShardController, type ShardLifecycleListener } from './shard-controller.js';
import type { Shard, ShardListener } from './shard.js';
import { TaskExecutor } from './task-executor.js';
import { TimerQueueProcessor, TransferQueueProcessor } from './queue-processor.js';

interface ShardQueues {
  transfer: TransferQueueProcessor;
  timer: TimerQueueProcessor;
}

export class HistoryService implements Service, ShardListener, ShardLifecycleListener {
  readonly config: HistoryConfig;
  readonly controller: ShardController;
  readonly engine: HistoryEngine;
  private readonly executor: TaskExecutor;
  private readonly queues = new Map<Shard, ShardQueues>();
  private readonly log: Logger;

  constructor(
    config: Partial<HistoryConfig>,
    private readonly store: Persistence,
    namespaces: NamespaceRegistry,
    log: Logger,
    registry: Registry,
    /** Shards this node takes at start; a region's membership passes none and acquires later. */
    private readonly initialShards: 'all' | 'none' = 'all',
  ) {
    this.config = compileHistoryConfig(config);
    this.log = log.child({ service: 'history', node: this.config.hostId });
    this.controller = new ShardController(this.config, store, this, this.log, registry);
    this.engine = new HistoryEngine(this.config, store, namespaces, this.controller, this.log);
    this.executor = new TaskExecutor(this.engine);
  }

  async start(): Promise<void> {
    if (this.initialShards === 'all') {
      for (let id = 0; id < this.config.numShards; id++) await this.controller.acquire(id);
    }
  }

  async stop(): Promise<void> {
    this.controller.releaseAll();
    await Promise.all([...this.queues.values()].flatMap((q) => [q.transfer.stop(), q.timer.stop()]));
    this.queues.clear();
  }

  onShardAcquired(shard: Shard): void {
    const q: ShardQueues = {
      transfer: new TransferQueueProcessor(shard, this.store, this.executor, this.config, shard.log),
      timer: new TimerQueueProcessor(shard, this.store, this.executor, this.config, shard.log),
    };
    this.queues.set(shard, q);
    q.transfer.start();
    q.timer.start();
  }

  onShardReleased(shard: Shard): void {
    const q = this.queues.get(shard);
    this.queues.delete(shard);
    if (q) void Promise.all([q.transfer.stop(), q.timer.stop()]);
  }

  onTasksCreated(shard: Shard, tasks: HistoryTask[]): void {
    const q = this.queues.get(shard);
    if (!q) return;
    if (tasks.some((t) => t.category === 'transfer')) q.transfer.notify();
    q.timer.offer(tasks.filter((t) => t.category === 'timer'));
  }

  onEventsAppended(key: ExecutionKey): void {
    this.engine.notifier.notify(key.namespaceId, key.workflowId);
  }
}
