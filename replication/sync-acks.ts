// History's ReplicationAckWaiter (services/history/sync-replication.ts) over the acks the shard's
// senders receive: the process main passes it to the engine (useReplicationAcks). Acks arrive on
// the node that owns the shard, which is the node that committed the write, so waiting in-process
// is enough; a shard that moves away mid-wait never acks here and the write times out (retryable).
import type { ReplicationAckWaiter } from '../services/history/sync-replication.js';
import type { Shard } from '../services/history/shard.js';
import { ShardAcks } from './shard-acks.js';

export class SyncAcks implements ReplicationAckWaiter {
  acked(shard: Shard, region: string, taskId: bigint, signal: AbortSignal): Promise<void> {
    const acks = ShardAcks.of(shard);
    if (acks && acks.get(region) >= taskId) return Promise.resolve();
    return new Promise((resolve) => {
      // No sender side for the shard (yet, or any more): nothing will ack; the caller's bound ends it.
      if (!acks || signal.aborted) return;
      const off = acks.onAdvance((r, id) => {
        if (r !== region || id < taskId) return;
        stop();
        resolve();
      });
      const stop = () => {
        off();
        signal.removeEventListener('abort', stop);
      };
      signal.addEventListener('abort', stop, { once: true });
    });
  }
}
