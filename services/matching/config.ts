// Matching's one config object. Every default lives in `defaultMatchingConfig`; the process
// main passes overrides, and resolveMatchingConfig refuses values that would stall the engine.

export interface MatchingConfig {
  /** A poll with no task resolves empty after this, even when its signal never aborts. */
  longPollMaxWaitMs: number;
  /** Backlog tasks read, and at most written, per store call; also the size of a queue's in-memory buffer. */
  backlogBatchSize: number;
  /** How often ack levels are written (and acked tasks deleted); also drives idle and expiry sweeps. */
  ackFlushIntervalMs: number;
  /** A queue with no poll, no task and nothing in flight for this long is unloaded (sticky: dropped). */
  idleQueueTimeoutMs: number;
  /** Window of hasRecentPoller: a sticky worker that polled within it is alive. */
  recentPollerWindowMs: number;
  /** describeTaskQueue lists pollers seen within this window. */
  pollerHistoryTtlMs: number;
  /** Backoff of a task whose start failed with a transient error: initial delay, doubled per attempt. */
  startRetryInitialMs: number;
  /** Upper bound of that backoff. */
  startRetryMaxMs: number;
  /**
   * addTask waits this long for a sync-matched task's start (history's TaskStarter), then lets
   * it finish in the background: a bound for callers that add while holding the workflow lock.
   */
  syncMatchMaxWaitMs: number;
  /** A query task no workflow poller took within this fails with UNAVAILABLE. */
  queryDispatchTimeoutMs: number;
  /**
   * Fairness keys per priority level of a queue whose passes are remembered (least recently used
   * forgotten): a forgotten key's next task starts at the dispatch front, as a new key's.
   */
  fairnessKeysTracked: number;
}

export const defaultMatchingConfig: Readonly<MatchingConfig> = Object.freeze({
  // The SDKs poll with a 70 s deadline; answering empty before it keeps polls from failing.
  longPollMaxWaitMs: 60_000,
  backlogBatchSize: 100,
  ackFlushIntervalMs: 5_000,
  idleQueueTimeoutMs: 5 * 60_000,
  recentPollerWindowMs: 60_000,
  pollerHistoryTtlMs: 5 * 60_000,
  startRetryInitialMs: 100,
  startRetryMaxMs: 10_000,
  syncMatchMaxWaitMs: 2_000,
  queryDispatchTimeoutMs: 20_000,
  fairnessKeysTracked: 10_000,
});

export function resolveMatchingConfig(overrides: Partial<MatchingConfig> = {}): MatchingConfig {
  const config: MatchingConfig = { ...defaultMatchingConfig };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(name in defaultMatchingConfig)) throw new Error(`matching config: unknown setting ${name}`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new Error(`matching config: ${name} must be a positive integer, got ${String(value)}`);
    }
    config[name as keyof MatchingConfig] = value;
  }
  if (config.startRetryMaxMs < config.startRetryInitialMs) {
    throw new Error('matching config: startRetryMaxMs must be >= startRetryInitialMs');
  }
  return config;
}
