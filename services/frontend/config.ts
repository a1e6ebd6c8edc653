// FrontendConfig: one typed object, defaults in one place, validated at construction.
import { authorizerDefaults } from '../auth/authorizer.js';
import type { GateConfig } from '../auth/gate.js';
import { rateLimitDefaults } from '../auth/rate-limiter.js';

export interface FrontendConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The region this frontend serves; must be the namespace registry's region. */
  region: string;
  /** Per payload set (start input, signal input, memo, a completion result...). DESIGN invariant 11. */
  maxPayloadBytes: number;
  /** Workflow ids, run ids, activity ids, type/queue/signal names, request ids. */
  maxIdLength: number;
  /** Well above maxPayloadBytes so oversize payloads reach the size check and get a clear message. */
  maxReceiveMessageBytes: number;
  /** Polls of task queues are held at most this long. */
  pollMaxMs: number;
  /** History long polls, updates and queries are held at most this long (the SDKs re-poll). */
  longPollMaxMs: number;
  /** A long poll answers this long before the client's deadline so the answer gets there. */
  longPollMarginMs: number;
  defaultPageSize: number;
  maxPageSize: number;
  /** stop(): in-flight calls get this long before the server is forced down. */
  shutdownGraceMs: number;
  serverVersion: string;
  historyShardCount: number;
  /** Calls for a namespace active in another region go to that region's frontend (DESIGN invariant 8). */
  forwardingEnabled: boolean;
  /**
   * A forwarded call that is not a long poll ends after at most this long; it keeps the caller's
   * deadline when that is sooner. Long polls are bounded by their own cap plus longPollMarginMs.
   */
  forwardTimeoutMs: number;
  /** API keys (off by default: make dev stays open), rate limits per namespace and per key. */
  auth: GateConfig;
}

/** What a caller gives: any setting, the auth settings one by one. */
export type FrontendConfigInput = Partial<Omit<FrontendConfig, 'auth'>> & { region: string; auth?: Partial<GateConfig> };

const defaults: Omit<FrontendConfig, 'region'> = {
  host: '127.0.0.1',
  port: 7233,
  maxPayloadBytes: 2 * 1024 * 1024,
  maxIdLength: 1000,
  maxReceiveMessageBytes: 64 * 1024 * 1024,
  pollMaxMs: 60_000,
  longPollMaxMs: 20_000,
  longPollMarginMs: 1_000,
  defaultPageSize: 100,
  maxPageSize: 1000,
  shutdownGraceMs: 5_000,
  serverVersion: '1.24.0+tandem.0.1.0',
  historyShardCount: 1,
  forwardingEnabled: true,
  forwardTimeoutMs: 10_000,
  auth: { authEnabled: false, ...authorizerDefaults, ...rateLimitDefaults },
};

export function frontendConfig(partial: FrontendConfigInput): FrontendConfig {
  const c: FrontendConfig = { ...defaults, ...partial, auth: { ...defaults.auth, ...partial.auth } };
  const positive: (keyof FrontendConfig)[] = [
    'maxPayloadBytes',
    'maxIdLength',
    'maxReceiveMessageBytes',
    'pollMaxMs',
    'longPollMaxMs',
    'defaultPageSize',
    'maxPageSize',
    'historyShardCount',
    'forwardTimeoutMs',
  ];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`frontend config: ${k} must be a positive integer, got ${v}`);
  }
  if (!c.region) throw new Error('frontend config: region is required');
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) throw new Error(`frontend config: bad port ${c.port}`);
  if (c.longPollMarginMs < 0 || c.shutdownGraceMs < 0) throw new Error('frontend config: margins must be >= 0');
  if (c.maxReceiveMessageBytes <= c.maxPayloadBytes) {
    throw new Error('frontend config: maxReceiveMessageBytes must exceed maxPayloadBytes');
  }
  const { cacheTtlMs, cacheMaxEntries, namespaceRps, keyRps, burstSeconds } = c.auth;
  if (!(cacheTtlMs >= 0 && cacheMaxEntries >= 1 && namespaceRps >= 0 && keyRps >= 0 && burstSeconds > 0)) {
    throw new Error(`frontend config: bad auth settings ${JSON.stringify(c.auth)} (rates >= 0, 0: unlimited; burstSeconds > 0)`);
  }
  if (c.defaultPageSize > c.maxPageSize) throw new Error('frontend config: defaultPageSize exceeds maxPageSize');
  return c;
}
