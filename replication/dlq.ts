// The replication DLQ (DESIGN invariant 6): tasks a receiver gave up on, kept in the receiving
// shard as 'replicationDlq' tasks with what an operator needs to judge them. The shard keeps
// flowing past them; retry asks the sender for the run again, purge drops them.
import type { Shard } from '../services/history/shard.js';
import type { Persistence } from '../services/persistence/store.js';
import type { HistoryTask } from '../services/persistence/types.js';
import type { DlqEntry, DlqSelector, ReplicationTask } from '../proto/gen/tandem/replication/v1/replication.js';
import { labels, type ReplicationMetrics } from './metrics.js';

/** The JSON a DLQ task holds. */
interface DlqData {
  sourceRegion: string;
  sourceTaskId: string;
  firstEventId: number;
  nextEventId: number;
  version: string;
  lastError: string;
  attempts: number;
}

const MAX_TASK_ID = (1n << 63n) - 1n;

export class ReplicationDlq {
  constructor(
    private readonly store: Persistence,
    private readonly numShards: number,
    private readonly localRegion: string,
    private readonly metrics: ReplicationMetrics,
  ) {}

  async add(shard: Shard, sourceRegion: string, t: ReplicationTask, err: unknown, attempts: number): Promise<void> {
    const data: DlqData = {
      sourceRegion,
      sourceTaskId: t.taskId.toString(),
      firstEventId: Number(t.firstEventId),
      nextEventId: Number(t.nextEventId),
      version: t.version,
      lastError: err instanceof Error ? err.message : String(err),
      attempts,
    };
    await shard.writeTasks([
      { category: 'replicationDlq', visibilityTimeMs: Date.now(), namespaceId: t.namespaceId, workflowId: t.workflowId, runId: t.runId, type: 'history', data: JSON.stringify(data) },
    ]);
    await this.refreshGauge(shard.shardId);
  }

  async list(selector: DlqSelector | undefined, limit: number): Promise<DlqEntry[]> {
    const out: DlqEntry[] = [];
    for (const shardId of this.shardsOf(selector)) {
      const after = selector?.dlqTaskId !== undefined ? selector.dlqTaskId - 1n : -1n;
      const max = selector?.dlqTaskId ?? MAX_TASK_ID;
      const tasks = await this.store.executions.getHistoryTasks({ shardId, category: 'replicationDlq', afterTaskId: after, maxTaskId: max, limit: limit - out.length });
      out.push(...tasks.map((t) => toEntry(shardId, t)));
      if (out.length >= limit) break;
    }
    return out;
  }

  async remove(e: DlqEntry): Promise<void> {
    await this.store.executions.deleteHistoryTask(e.shardId, { category: 'replicationDlq', taskId: e.dlqTaskId, visibilityTimeMs: 0 });
    await this.refreshGauge(e.shardId);
  }

  /** Sets tandem_replication_dlq_tasks of the shard from the store, per source region. */
  async refreshGauge(shardId: number): Promise<void> {
    const entries = await this.list({ shardId }, 100_000);
    const bySource = new Map<string, number>();
    for (const e of entries) bySource.set(e.sourceRegion, (bySource.get(e.sourceRegion) ?? 0) + 1);
    for (const [source, n] of bySource) this.metrics.dlq.set(labels(shardId, source, this.localRegion), n);
    // Sources whose last entry left: their series drops to zero.
    for (const m of (await this.metrics.dlq.get()).values) {
      if (m.labels.shard === String(shardId) && m.labels.target === this.localRegion && !bySource.has(String(m.labels.source))) {
        this.metrics.dlq.set(labels(shardId, String(m.labels.source), this.localRegion), 0);
      }
    }
  }

  private shardsOf(selector: DlqSelector | undefined): number[] {
    if (selector?.shardId !== undefined) return [selector.shardId];
    return Array.from({ length: this.numShards }, (_, i) => i);
  }
}

function toEntry(shardId: number, t: HistoryTask): DlqEntry {
  const d = JSON.parse(t.data) as DlqData;
  return {
    shardId,
    dlqTaskId: t.taskId,
    sourceRegion: d.sourceRegion,
    sourceTaskId: BigInt(d.sourceTaskId),
    namespaceId: t.namespaceId,
    workflowId: t.workflowId,
    runId: t.runId,
    firstEventId: BigInt(d.firstEventId),
    nextEventId: BigInt(d.nextEventId),
    version: d.version,
    lastError: d.lastError,
    attempts: d.attempts,
    failedTimeMs: BigInt(t.visibilityTimeMs),
  };
}
