// Replication metrics (names prefixed tandem_, base units). Labels: shard, source (the sending
// region), target (the receiving region).
import { counter, gauge, type Registry } from '../services/common/metrics.js';

const LABELS = ['shard', 'source', 'target'];

export function replicationMetrics(registry: Registry) {
  return {
    lagTasks: gauge(registry, 'tandem_replication_lag_tasks', 'Replication tasks the sender shipped or skipped that the receiver has not acknowledged', LABELS),
    lagSeconds: gauge(registry, 'tandem_replication_lag_seconds', 'Age of the oldest replication task the receiver has not acknowledged', LABELS),
    sent: counter(registry, 'tandem_replication_tasks_sent_total', 'Replication tasks shipped by senders (resends included)', LABELS),
    applied: counter(registry, 'tandem_replication_tasks_applied_total', 'Replicated tasks applied by receivers', LABELS),
    failed: counter(registry, 'tandem_replication_tasks_failed_total', 'Failed apply attempts of replicated tasks', LABELS),
    dlq: gauge(registry, 'tandem_replication_dlq_tasks', 'Entries in the replication DLQ', LABELS),
    reconnects: counter(registry, 'tandem_replication_stream_reconnects_total', 'Replication streams a receiver opened again after one ended', LABELS),
  };
}

export type ReplicationMetrics = ReturnType<typeof replicationMetrics>;

export function labels(shard: number, source: string, target: string) {
  return { shard: String(shard), source, target };
}
