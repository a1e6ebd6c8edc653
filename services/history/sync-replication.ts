// Synchronous replication (namespace data `tandem.replication` = `sync`): a client's write of such a
// namespace is answered only once every standby region applied it, so a forced failover loses
// nothing a client was told succeeded. The acks arrive at this shard owner's replication sender;
// history sees them only through the ReplicationAckWaiter the process main passes in
// (replication/sync-acks.ts), since no service imports replication.
//
// A standby that does not ack within the bound does not undo the write (it committed here and
// still replicates): the client gets a retryable UNAVAILABLE, and its retry with the same request
// id is deduplicated (start, signal) and waits again, so "acknowledged" keeps meaning "replicated".
import { AsyncLocalStorage } from 'node:async_hooks';
import { apiError } from '../common/errors.js';
import { counter, histogram, type Registry } from '../common/metrics.js';
import { replicationModeOf } from '../namespaces/convert.js';
import type { NamespaceRecord } from '../persistence/types.js';
import type { Shard } from './shard.js';

/** What the process main passes in: resolves once a region's receiver acknowledged a task of the shard. */
export interface ReplicationAckWaiter {
  /**
   * Resolves once `region` acknowledged `taskId` or a later task of `shard` (at once when it
   * already has). Never rejects; when `signal` aborts it stops listening and stays pending.
   */
  acked(shard: Shard, region: string, taskId: bigint, signal: AbortSignal): Promise<void>;
}

const answeredOnCommit = new AsyncLocalStorage<true>();
/**
 * Whether a process wired standby acks (SyncReplication.use). Until then no write waits, and the
 * store is left unused: once run, Node 20 hooks every promise of the process to carry it (4 % of
 * a history node's CPU under load).
 */
let acksWired = false;

/**
 * Runs fn with the writes it makes answered as soon as they commit: no client waits on them
 * (queue tasks: timers, child starts, external signals; a poll's started event, which the
 * worker's completion covers). Such a write must not stall on a standby that is down.
 */
export function withoutStandbyWait<T>(fn: () => T): T {
  return acksWired ? answeredOnCommit.run(true, fn) : fn();
}

export class SyncReplication {
  private waiter?: ReplicationAckWaiter;
  private readonly waitSeconds;
  private readonly timeouts;

  constructor(
    private readonly localRegion: string,
    private readonly timeoutMs: number,
    registry: Registry,
  ) {
    this.waitSeconds = histogram(registry, 'tandem_replication_sync_wait_seconds', "How long a sync namespace's client write waited for its standby regions' acks");
    this.timeouts = counter(registry, 'tandem_replication_sync_timeouts_total', "Sync namespaces' client writes answered UNAVAILABLE: a standby did not ack in time", ['target']);
  }

  /** Set once by the process main; without it sync namespaces are answered on commit (one region, tests). */
  use(waiter: ReplicationAckWaiter): void {
    this.waiter = waiter;
    acksWired = true;
  }

  /**
   * Returns once every standby region of a sync namespace acknowledged everything this owner of
   * the shard committed so far (the caller's write included: task ids follow commit order);
   * UNAVAILABLE after the bound. At once for async namespaces and for writes no client waits on.
   */
  async waitForStandbys(shard: Shard, ns: NamespaceRecord): Promise<void> {
    const waiter = this.waiter;
    if (!waiter || answeredOnCommit.getStore() || replicationModeOf(ns) !== 'sync') return;
    const taskId = shard.lastReplicationTaskId;
    const standbys = ns.regions.filter((r) => r !== this.localRegion);
    if (taskId === 0n || standbys.length === 0) return;
    const started = performance.now();
    const stop = new AbortController();
    const missing = new Set(standbys);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timeoutMs)));
    const acked = Promise.all(standbys.map((r) => waiter.acked(shard, r, taskId, stop.signal).then(() => missing.delete(r))));
    try {
      await Promise.race([acked, timedOut]);
    } finally {
      clearTimeout(timer);
      stop.abort();
    }
    this.waitSeconds.observe((performance.now() - started) / 1000);
    if (missing.size === 0) return;
    for (const target of missing) this.timeouts.inc({ target });
    throw apiError(
      'UNAVAILABLE',
      `Namespace ${ns.name}: committed in region ${this.localRegion}, not yet replicated to ${[...missing].join(', ')} within ${this.timeoutMs / 1000}s (sync replication); retry with the same request id.`,
    );
  }
}
