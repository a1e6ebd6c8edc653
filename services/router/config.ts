// RouterConfig: one typed object, defaults in one place, validated at construction.

export interface RouterConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /**
   * How long a call may wait out a failover (a route marked switching, a region that does not
   * answer, NamespaceNotActive) before its last answer is returned. Long polls wait until their
   * deadline instead. Never past the caller's deadline.
   */
  holdMs: number;
  /** First pause between two tries at the same route; doubles up to maxRetryBackoffMs. A route change ends it at once. */
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
  /** A long poll is answered (empty, if the regions gave nothing) this long before the caller's deadline. */
  longPollMarginMs: number;
  /** How long "no route for this namespace" is believed before the registry is asked again. */
  missTtlMs: number;
  /** At least the frontends' own limit, so an oversize payload reaches them and gets their clear message. */
  maxReceiveMessageBytes: number;
  /** stop(): calls in flight get this long before the server is forced down. */
  shutdownGraceMs: number;
}

export const routerDefaults: RouterConfig = {
  host: '127.0.0.1',
  port: 7233,
  holdMs: 10_000,
  retryBackoffMs: 50,
  maxRetryBackoffMs: 1_000,
  longPollMarginMs: 500,
  missTtlMs: 1_000,
  maxReceiveMessageBytes: 128 * 1024 * 1024,
  shutdownGraceMs: 5_000,
};

export function routerConfig(partial: Partial<RouterConfig> = {}): RouterConfig {
  const c: RouterConfig = { ...routerDefaults, ...partial };
  for (const k of ['holdMs', 'retryBackoffMs', 'maxRetryBackoffMs', 'missTtlMs', 'maxReceiveMessageBytes'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`router config: ${k} must be a positive integer, got ${c[k]}`);
  }
  for (const k of ['longPollMarginMs', 'shutdownGraceMs'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 0) throw new Error(`router config: ${k} must be a non-negative integer, got ${c[k]}`);
  }
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) throw new Error(`router config: bad port ${c.port}`);
  if (c.retryBackoffMs > c.maxRetryBackoffMs) throw new Error('router config: retryBackoffMs exceeds maxRetryBackoffMs');
  return c;
}
