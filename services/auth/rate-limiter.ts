// Token buckets per namespace and per API key. A call takes one token from each bucket that
// applies; a bucket that has none refuses it with how long until it has one again, which goes to
// the caller as RESOURCE_EXHAUSTED with Temporal's ResourceExhaustedFailure (cause RPS_LIMIT) so
// the SDKs back off and retry. Idle buckets are dropped so made-up names cost nothing lasting.

export interface RateLimitConfig {
  /** Requests per second per namespace; 0: unlimited. */
  namespaceRps: number;
  /** Requests per second per API key (auth on); 0: unlimited. */
  keyRps: number;
  /** How many requests a bucket lets through at once, as a multiple of its rate. */
  burstSeconds: number;
}

export const rateLimitDefaults: RateLimitConfig = { namespaceRps: 2_400, keyRps: 1_200, burstSeconds: 2 };

/** Idle buckets are swept this often; a bucket idle that long is full anyway. */
const SWEEP_MS = 60_000;

interface Bucket {
  tokens: number;
  atMs: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweepMs: number;

  constructor(
    readonly rps: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweepMs = now();
  }

  /** 0 when the call may go (a token taken), or the milliseconds until a token is there. */
  take(name: string): number {
    if (this.rps <= 0) return 0;
    const now = this.now();
    if (now - this.lastSweepMs > SWEEP_MS) this.sweep(now);
    const b = this.buckets.get(name) ?? { tokens: this.burst, atMs: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.atMs) * this.rps) / 1000);
    b.atMs = now;
    this.buckets.set(name, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) * 1000) / this.rps);
  }

  private sweep(now: number): void {
    this.lastSweepMs = now;
    for (const [name, b] of this.buckets) if (now - b.atMs > SWEEP_MS) this.buckets.delete(name);
  }
}

export function bucketsFor(rps: number, config: Pick<RateLimitConfig, 'burstSeconds'>, now?: () => number): TokenBuckets {
  return new TokenBuckets(rps, Math.max(1, rps * config.burstSeconds), now);
}
