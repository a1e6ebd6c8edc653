// Replication settings, with their defaults in one place.

export interface ReplicationConfig {
  /** Tasks a sender ships before it waits for an ack (flow control). */
  windowTasks: number;
  /** Tasks per batch on the wire. */
  batchTasks: number;
  /** How often a receiver acknowledges its low watermark (DESIGN: at least once a second). */
  ackIntervalMs: number;
  /** How often a sender persists acks in its shard row and trims the queue below them. */
  ackPersistIntervalMs: number;
  /** A sender's slow poll of its queue, beside the notification of each new task. */
  pollIntervalMs: number;
  /**
   * How often an idle sender tells its receiver it has nothing more (an empty batch); the
   * receiving side's lag measure counts one of these after the source's last word, so every
   * region should use the same value.
   */
  heartbeatIntervalMs: number;
  /** Apply attempts of one task before it goes to the replication DLQ. */
  maxApplyAttempts: number;
  /** First backoff between apply attempts; doubled per attempt. */
  applyBackoffMs: number;
  /** How long a receiver waits for the answer to a resend request. */
  resendTimeoutMs: number;
  /** Backoff between reconnects of a receiver's stream; doubled up to the max. */
  reconnectInitialBackoffMs: number;
  reconnectMaxBackoffMs: number;
}

export const replicationDefaults: Readonly<ReplicationConfig> = Object.freeze({
  windowTasks: 1000,
  batchTasks: 100,
  ackIntervalMs: 250,
  ackPersistIntervalMs: 1000,
  pollIntervalMs: 5000,
  heartbeatIntervalMs: 1000,
  maxApplyAttempts: 5,
  applyBackoffMs: 50,
  resendTimeoutMs: 5000,
  reconnectInitialBackoffMs: 100,
  reconnectMaxBackoffMs: 5000,
});

export function replicationConfig(overrides: Partial<ReplicationConfig> = {}): ReplicationConfig {
  const c: ReplicationConfig = { ...replicationDefaults };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(name in replicationDefaults)) throw new Error(`replication config: unknown setting ${name}`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new Error(`replication config: ${name} must be a positive integer, got ${String(value)}`);
    }
    c[name as keyof ReplicationConfig] = value;
  }
  if (c.batchTasks > c.windowTasks) throw new Error('replication config: batchTasks > windowTasks');
  if (c.ackIntervalMs > 1000) throw new Error('replication config: ackIntervalMs must be <= 1000 (DESIGN invariant 6)');
  if (c.reconnectMaxBackoffMs < c.reconnectInitialBackoffMs) throw new Error('replication config: reconnectMaxBackoffMs < reconnectInitialBackoffMs');
  return c;
}
