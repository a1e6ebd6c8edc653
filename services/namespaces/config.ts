// Settings of namespace replication and failover, with their defaults in one place.

export interface NamespaceReplicationConfig {
  /** Pause between two reads of a remote queue that had nothing new. */
  pollIntervalMs: number;
  /** Pause after a failed read (remote down, link cut), doubled up to maxRetryBackoffMs. */
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
  /** Entries asked for per read. */
  batchSize: number;
  /** Deadline of one read RPC. */
  callTimeoutMs: number;
  /**
   * How long the sender waits for the record write of a queued change; an entry whose record
   * never reached its version by then lost its write race and is skipped (replication-source.ts).
   */
  pendingWriteGraceMs: number;
}

export const namespaceReplicationDefaults: Readonly<NamespaceReplicationConfig> = Object.freeze({
  pollIntervalMs: 250,
  retryBackoffMs: 200,
  maxRetryBackoffMs: 5_000,
  batchSize: 100,
  callTimeoutMs: 5_000,
  pendingWriteGraceMs: 5_000,
});

export interface FailoverConfig {
  /** How long a graceful failover waits for replication to catch up before it aborts to NORMAL. */
  gracefulTimeoutMs: number;
}

export const failoverDefaults: Readonly<FailoverConfig> = Object.freeze({ gracefulTimeoutMs: 30_000 });

/** Defaults under the given settings; every setting a positive integer. */
export function withPositiveDefaults<T extends object>(what: string, defaults: Readonly<T>, given: Partial<T> = {}): T {
  const out = { ...defaults } as T;
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (!(key in defaults)) throw new Error(`${what}: unknown setting ${key}`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new Error(`${what}: ${key} must be a positive integer, got ${String(value)}`);
    (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
