// The replication lag as the receiving region knows it: what a forced failover from the source
// would lose (DESIGN invariant 10). The sender's own lag gauges die with the sending region, which
// is exactly when a forced failover runs, so this is measured from what the receivers saw.
//
// Per receiver (shard, source region):
// - heardAtMs: when any message of the source last arrived (local clock);
// - caughtUpAtMs: the last moment the shard was known to hold everything the source had for it:
//   a message with end_of_queue (a heartbeat, or a batch whose read reached the end of the queue)
//   says "when I sent this, I had nothing beyond high_task_id for you"; once every task up to it
//   is applied, the shard was caught up as of that message. Its time is the earlier of the local
//   receive time and the source's sent_time_ms: what the source wrote while the message was on
//   the wire is not in it (a source clock behind ours only widens the window);
// - pending: tasks received and not applied yet, per namespace (a task given up on goes to the
//   DLQ, which lists it, and stops being pending);
// - connected: a stream from the source delivered something and has not ended since.
//
// The window of a shard, in which the source may have written what this region never got, runs
// from caughtUpAtMs to max(now, heardAtMs + heartbeat). An idle sender speaks at least once a
// heartbeat, so while it is heard, whatever it wrote after its last word arrives or is counted
// within one heartbeat of it. A source silent for longer than that may be dead (it wrote nothing
// after it died, less than a heartbeat after its last word) or cut off and still writing (those
// writes come back when the link heals, as a losing branch whose user input is reapplied); this
// side cannot tell which, so the window runs to the measure. Everything the source wrote before
// caughtUpAtMs is here or pending. A receiver that never saw its source caught up has no window:
// it counts as unknown, never as 0.
import type { MeasureReplicationLag } from '../services/namespaces/failover-coordinator.js';
import type { MeasureLagResponse, ReplicationTask, StreamShardResponse } from '../proto/gen/tandem/replication/v1/replication.js';

export class ReceiverLag {
  private connected = false;
  private heardAtMs?: number;
  private caughtUpAtMs?: number;
  private readonly pending = new Map<string, number>();

  /** A message of the source arrived at nowMs; its tasks are pending until settled. */
  heard(msg: { tasks: readonly Pick<ReplicationTask, 'namespaceId'>[] }, nowMs: number): void {
    this.connected = true;
    this.heardAtMs = nowMs;
    for (const t of msg.tasks) this.pending.set(t.namespaceId, (this.pending.get(t.namespaceId) ?? 0) + 1);
  }

  /** The tasks are applied, in the DLQ, or will be shipped again after a reconnect. */
  settled(tasks: readonly Pick<ReplicationTask, 'namespaceId'>[]): void {
    for (const t of tasks) {
      const left = (this.pending.get(t.namespaceId) ?? 0) - 1;
      if (left > 0) this.pending.set(t.namespaceId, left);
      else this.pending.delete(t.namespaceId);
    }
  }

  /** Every task up to an end_of_queue message's high_task_id is applied; it arrived at receivedAtMs. */
  caughtUp(msg: Pick<StreamShardResponse, 'sentTimeMs'>, receivedAtMs: number): void {
    const asOf = msg.sentTimeMs > 0n ? Math.min(receivedAtMs, Number(msg.sentTimeMs)) : receivedAtMs;
    this.caughtUpAtMs = Math.max(this.caughtUpAtMs ?? 0, asOf);
  }

  disconnected(): void {
    this.connected = false;
  }

  /** This shard's part of a measure of namespaceId. */
  measure(namespaceId: string, nowMs: number, heartbeatMs: number): MeasureLagResponse {
    const tasks = BigInt(this.pending.get(namespaceId) ?? 0);
    const shardsDisconnected = this.connected ? 0 : 1;
    if (this.caughtUpAtMs === undefined || this.heardAtMs === undefined) return { tasks, seconds: 0, shards: 1, shardsUnknown: 1, shardsDisconnected };
    const end = Math.max(nowMs, this.heardAtMs + heartbeatMs);
    return { tasks, seconds: Math.max(0, end - this.caughtUpAtMs) / 1000, shards: 1, shardsUnknown: 0, shardsDisconnected };
  }
}

export const noLag: Readonly<MeasureLagResponse> = Object.freeze({ tasks: 0n, seconds: 0, shards: 0, shardsUnknown: 0, shardsDisconnected: 0 });

/**
 * Measures of disjoint sets of shards as one: tasks summed, the worst window. With numShards, a
 * shard no part answered for (no receiver yet, its owner between nodes) counts as unknown.
 */
export function combineLag(parts: readonly MeasureLagResponse[], numShards?: number): MeasureLagResponse {
  const out = { ...noLag };
  for (const p of parts) {
    out.tasks += p.tasks;
    out.seconds = Math.max(out.seconds, p.seconds);
    out.shards += p.shards;
    out.shardsUnknown += p.shardsUnknown;
    out.shardsDisconnected += p.shardsDisconnected;
  }
  if (numShards !== undefined && out.shards < numShards) {
    out.shardsUnknown += numShards - out.shards;
    out.shards = numShards;
  }
  return out;
}

/** The failover coordinator's seam over a region's measure (embedded: Replication; a frontend: the fan-out). */
export function failoverLagOf(measure: (namespaceId: string, sourceRegion: string) => Promise<MeasureLagResponse>): MeasureReplicationLag {
  return async (namespaceId, sourceRegion) => {
    const m = await measure(namespaceId, sourceRegion);
    return { tasks: Number(m.tasks), seconds: m.seconds, shardsUnknown: m.shardsUnknown };
  };
}
