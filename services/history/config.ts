// History's typed config: defaults in one place, validated at start.
export interface HistoryConfig {
  /** Fixed per cluster and the same in every region (DESIGN invariant 1). */
  numShards: number;
  /** This node's identity in shard rows and logs. */
  hostId: string;
  /** Mutable states kept in memory per shard. */
  maxCachedExecutionsPerShard: number;
  /** Events per page of a workflow task's history before the worker pages the rest. */
  workflowTaskHistoryPageSize: number;
  /** Timers further out than this are loaded by a later read. */
  timerLookaheadMs: number;
  /**
   * How often queue processors re-read the store even without a notification: a safety net (a
   * shard's own writes notify its queues), and the timer queue's next window, so less than
   * timerLookaheadMs. Two reads per shard each time: at 20 s and 256 shards, 26 reads/s idle.
   */
  queuePollIntervalMs: number;
  /**
   * How often a shard persists its queues' ack levels and deletes the tasks below them. Each is a
   * fenced (LWT) write and a range delete per shard whose level moved: at 256 shards under load,
   * every 10 s was 51 statements a second whatever the load; 30 s is the reference server's
   * (history.transferProcessorUpdateAckInterval). A new owner runs again what was done after the
   * last one, as after any crash: a task whose work is done finds it done.
   */
  ackPersistIntervalMs: number;
  /**
   * How often a queue probes the namespaces whose tasks it parked, should a change notification
   * have been missed (a namespace change normally re-runs them at once).
   */
  parkedRecheckIntervalMs: number;
  /**
   * The timer ack level stays this far behind the clock: it must cover a timer write's commit
   * latency and the clock skew between history nodes, since a new timer may fire at its commit time.
   */
  timerAckMarginMs: number;
  /** Default sticky schedule-to-start timeout when the worker does not send one. */
  defaultStickyScheduleToStartMs: number;
  /**
   * How long a client write of a sync-replicated namespace waits for its standby regions' acks
   * before it is answered UNAVAILABLE (committed here, not yet replicated; sync-replication.ts).
   */
  syncReplicationTimeoutMs: number;
  /**
   * A running workflow whose history grew past either limit is terminated by its next write, as
   * Temporal does (its defaults: 50 MB, 51,200 events), so one runaway run cannot grow without end.
   */
  maxHistorySizeBytes: number;
  maxHistoryEvents: number;
  /**
   * A workflow task started once the history holds this many events, or this many bytes, tells
   * the worker to continue as new (`suggest_continue_as_new`); the reference's defaults
   * (`limit.historyCount.suggestContinueAsNew`, `limit.historySize.suggestContinueAsNew`).
   */
  suggestContinueAsNewHistoryCount: number;
  suggestContinueAsNewHistoryBytes: number;
}

export const historyDefaults: HistoryConfig = {
  numShards: 16,
  hostId: 'history-0',
  maxCachedExecutionsPerShard: 5000,
  workflowTaskHistoryPageSize: 1000,
  timerLookaheadMs: 30_000,
  queuePollIntervalMs: 20_000,
  ackPersistIntervalMs: 30_000,
  parkedRecheckIntervalMs: 30_000,
  timerAckMarginMs: 5_000,
  defaultStickyScheduleToStartMs: 5_000,
  syncReplicationTimeoutMs: 5_000,
  maxHistorySizeBytes: 50 * 1024 * 1024,
  maxHistoryEvents: 51_200,
  suggestContinueAsNewHistoryCount: 4 * 1024,
  suggestContinueAsNewHistoryBytes: 4 * 1024 * 1024,
};

export function compileHistoryConfig(user: Partial<HistoryConfig> = {}): HistoryConfig {
  const c = { ...historyDefaults, ...user };
  if (!Number.isInteger(c.numShards) || c.numShards < 1 || c.numShards > 16384) {
    throw new Error(`history.numShards must be an integer in [1, 16384], got ${c.numShards}`);
  }
  const positive = [
    'maxCachedExecutionsPerShard',
    'workflowTaskHistoryPageSize',
    'timerLookaheadMs',
    'queuePollIntervalMs',
    'ackPersistIntervalMs',
    'parkedRecheckIntervalMs',
    'timerAckMarginMs',
    'syncReplicationTimeoutMs',
    'maxHistorySizeBytes',
    'maxHistoryEvents',
    'suggestContinueAsNewHistoryCount',
    'suggestContinueAsNewHistoryBytes',
  ] as const;
  for (const k of positive) {
    if (!(c[k] > 0)) throw new Error(`history.${k} must be positive, got ${c[k]}`);
  }
  if (c.queuePollIntervalMs >= c.timerLookaheadMs) {
    // A timer committed beyond the loaded window would wait for the read after the window ended.
    throw new Error(`history.queuePollIntervalMs (${c.queuePollIntervalMs}) must be less than history.timerLookaheadMs (${c.timerLookaheadMs})`);
  }
  return c;
}
