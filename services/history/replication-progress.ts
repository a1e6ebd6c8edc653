// How far a standby region is behind on a namespace (DESIGN invariants 6, 10): per shard, the
// replication tasks of the namespace above the ack level that the shard's sender persisted for the
// standby (ack level key `replication:<region>`). A graceful failover waits until none is left.
import { apiError } from '../common/errors.js';
import { sleep } from '../common/lifecycle.js';
import type { WaitForReplication } from '../namespaces/failover-coordinator.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import type { Persistence } from '../persistence/store.js';

const PAGE = 1000;

/** The ack-level key under which a shard's sender persists what `region` acknowledged. */
export function replicationAckKey(region: string): string {
  return `replication:${region}`;
}

export interface ReplicationBacklog {
  /** Unacknowledged replication tasks of the namespace, over all shards. */
  tasks: number;
  /** Shards that still have some. */
  shards: number[];
}

/** Reads every shard's replication queue above the standby's ack level; store reads only. */
export async function replicationBacklog(store: Persistence, numShards: number, namespaceId: string, standbyRegion: string): Promise<ReplicationBacklog> {
  const backlog: ReplicationBacklog = { tasks: 0, shards: [] };
  for (let shardId = 0; shardId < numShards; shardId++) {
    const shard = await store.shards.getShard(shardId);
    if (!shard) continue;
    let after = BigInt(shard.ackLevels[replicationAckKey(standbyRegion)] ?? '-1');
    let pending = 0;
    for (;;) {
      const page = await store.executions.getHistoryTasks({ shardId, category: 'replication', afterTaskId: after, maxTaskId: (1n << 63n) - 1n, limit: PAGE });
      pending += page.filter((t) => t.namespaceId === namespaceId).length;
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.taskId;
    }
    if (pending > 0) {
      backlog.tasks += pending;
      backlog.shards.push(shardId);
    }
  }
  return backlog;
}

/**
 * The graceful failover's wait (FailoverCoordinator's WaitForReplication): polls until no standby
 * region of the namespace has a replication backlog, or fails at the deadline with what is left.
 */
export function replicationWaiter(store: Persistence, numShards: number, namespaces: NamespaceRegistry, pollMs = 100): WaitForReplication {
  return async (namespaceId, deadlineMs) => {
    const ns = await namespaces.requireById(namespaceId);
    const standbys = ns.regions.filter((r) => r !== ns.activeRegion);
    for (;;) {
      const left: string[] = [];
      for (const region of standbys) {
        const backlog = await replicationBacklog(store, numShards, namespaceId, region);
        if (backlog.tasks > 0) left.push(`${region}: ${backlog.tasks} tasks on ${backlog.shards.length} shards`);
      }
      if (left.length === 0) return;
      if (Date.now() + pollMs > deadlineMs) throw apiError('DEADLINE_EXCEEDED', `replication of ${ns.name} did not catch up (${left.join('; ')})`);
      await sleep(pollMs);
    }
  };
}
