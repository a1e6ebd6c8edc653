// The route registry seam (DESIGN invariant 9): which region's frontend serves a namespace. The
// failover controller writes routes, the global-endpoint routers and the DNS face read them.
// Epochs only grow: a write that does not raise the epoch is refused, so a slow or partitioned
// writer can never move a namespace back to the region it just left.
import type { Service } from '../common/lifecycle.js';

export interface RouteRecord {
  namespace: string;
  region: string;
  /** host:port of the region's frontend. */
  endpoint: string;
  /** Grows with every failover of the namespace. */
  epoch: number;
  /** How long a reader may use the record before asking again (routers, DNS TTL). */
  ttlMs: number;
  /** A failover of the namespace is in progress: routers hold its calls briefly instead of failing them. */
  switching?: boolean;
}

/**
 * The record under this name routes the calls that carry no namespace (GetSystemInfo,
 * ListNamespaces, RegisterNamespace...). It cannot clash with a namespace: Temporal namespace
 * names start with a letter or digit.
 */
export const DEFAULT_ROUTE = '_default';

export interface RouteRegistry extends Service {
  get(namespace: string): Promise<RouteRecord | undefined>;
  /** Every record, sorted by namespace. */
  list(): Promise<RouteRecord[]>;
  /** Stores the record; throws RouteError STALE_EPOCH unless its epoch is above the stored one. */
  put(record: RouteRecord): Promise<void>;
  /** Called with every record stored from now on (by any writer). Returns an unsubscribe. */
  watch(listener: (record: RouteRecord) => void): () => void;
}

export type RouteErrorCode = 'STALE_EPOCH' | 'INVALID_ROUTE';

/** Errors of the registry's own callers (the controller, the CLI); no API client sees them. */
export class RouteError extends Error {
  override name = 'RouteError';
  constructor(
    readonly code: RouteErrorCode,
    message: string,
    /** STALE_EPOCH: the epoch stored, which a retry must exceed. */
    readonly storedEpoch?: number,
  ) {
    super(message);
  }
}

export function staleEpoch(record: RouteRecord, storedEpoch: number): RouteError {
  return new RouteError(
    'STALE_EPOCH',
    `route of ${record.namespace}: epoch ${record.epoch} is not above the stored epoch ${storedEpoch}`,
    storedEpoch,
  );
}

const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** host and port of an endpoint (an IPv6 host keeps no brackets). */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const m = ENDPOINT.exec(endpoint);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new RouteError('INVALID_ROUTE', `endpoint must be host:port, got ${JSON.stringify(endpoint)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Checks a record before it is stored, and keeps only the fields of a RouteRecord. */
export function validRoute(record: RouteRecord): RouteRecord {
  const bad = (what: string) => new RouteError('INVALID_ROUTE', `route ${JSON.stringify(record?.namespace)}: ${what}`);
  if (typeof record?.namespace !== 'string' || record.namespace === '') throw bad('namespace is required');
  if (typeof record.region !== 'string' || record.region === '') throw bad('region is required');
  if (typeof record.endpoint !== 'string') throw bad('endpoint is required');
  splitEndpoint(record.endpoint);
  if (!Number.isSafeInteger(record.epoch) || record.epoch < 0) throw bad(`epoch must be a non-negative integer, got ${record.epoch}`);
  if (!Number.isSafeInteger(record.ttlMs) || record.ttlMs <= 0) throw bad(`ttlMs must be a positive integer, got ${record.ttlMs}`);
  const { namespace, region, endpoint, epoch, ttlMs } = record;
  return record.switching ? { namespace, region, endpoint, epoch, ttlMs, switching: true } : { namespace, region, endpoint, epoch, ttlMs };
}

/** The route of namespace-less calls: the DEFAULT_ROUTE record, else the first record. */
export async function defaultRoute(registry: RouteRegistry): Promise<RouteRecord | undefined> {
  return (await registry.get(DEFAULT_ROUTE)) ?? (await registry.list())[0];
}

export function byNamespace(a: RouteRecord, b: RouteRecord): number {
  return a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0;
}
