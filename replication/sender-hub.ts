// The sending side of a history node: for every shard it owns, the acks of the receiving regions,
// and the streams they opened. A stream for a shard this node does not own (any more) ends with
// UNAVAILABLE, and the receiver reconnects to the new owner.
import * as grpc from '@grpc/grpc-js';
import type { Shard } from '../services/history/shard.js';
import type { HistoryTask } from '../services/persistence/types.js';
import type { StreamShardRequest } from '../proto/gen/tandem/replication/v1/replication.js';
import { ShardAcks } from './shard-acks.js';
import { StreamSender, type SenderCall, type SenderDeps } from './stream-sender.js';

export class SenderHub {
  private readonly shards = new Map<number, { acks: ShardAcks; senders: Map<string, StreamSender> }>();
  private readonly stopping = new Set<Promise<void>>();

  constructor(
    private readonly deps: SenderDeps,
    /** Regions this one ships to (their acks bound the trim). */
    private readonly receivers: readonly string[],
  ) {}

  shardAcquired(shard: Shard): void {
    const acks = new ShardAcks(shard, this.deps.store, this.receivers, this.deps.config.ackPersistIntervalMs, shard.log.child({ component: 'replication-acks' }));
    acks.start();
    this.shards.set(shard.shardId, { acks, senders: new Map() });
  }

  shardReleased(shard: Shard): void {
    const s = this.shards.get(shard.shardId);
    if (s?.acks.shard !== shard) return;
    this.shards.delete(shard.shardId);
    for (const sender of s.senders.values()) sender.close({ code: grpc.status.UNAVAILABLE, details: `shard ${shard.shardId} moved` });
    const stopped = s.acks.stop().finally(() => this.stopping.delete(stopped));
    this.stopping.add(stopped);
  }

  tasksCreated(shard: Shard, tasks: HistoryTask[]): void {
    if (!tasks.some((t) => t.category === 'replication')) return;
    for (const sender of this.shards.get(shard.shardId)?.senders.values() ?? []) sender.notify();
  }

  /** Serves one StreamShard call: its first message says which shard and which receiving region. */
  serve(call: SenderCall): void {
    call.once('data', (req: StreamShardRequest) => {
      const start = req.start;
      if (!start) return call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'StreamShard: the first message must be start' });
      const s = this.shards.get(start.shardId);
      if (!s || s.acks.shard.isLost) return call.emit('error', { code: grpc.status.UNAVAILABLE, details: `shard ${start.shardId} is not owned here` });
      if (!this.receivers.includes(start.region)) {
        return call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: `StreamShard: unknown receiving region ${start.region}` });
      }
      // A receiver that reconnects replaces its old stream.
      s.senders.get(start.region)?.close({ code: grpc.status.UNAVAILABLE, details: 'replaced by a newer stream' });
      const log = s.acks.shard.log.child({ component: 'replication-sender', target: start.region });
      const sender = new StreamSender(this.deps, s.acks, start.region, call, log);
      s.senders.set(start.region, sender);
      void sender.done.finally(() => {
        if (s.senders.get(start.region) === sender) s.senders.delete(start.region);
      });
    });
  }

  /** Ends every stream and persists the last acks. */
  async stop(): Promise<void> {
    for (const s of [...this.shards.values()]) this.shardReleased(s.acks.shard);
    await Promise.all(this.stopping);
  }
}
