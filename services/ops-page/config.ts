// The operations page server's settings, defaults in one place. Loopback by default: the page's
// actions fail namespaces over, so exposing it is a deliberate choice of whoever serves it.
export interface OpsPageConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** How far back the lag chart reaches. */
  lagHistoryMs: number;
  /** How often the server samples the backend's lag while nobody polls. */
  sampleEveryMs: number;
  /** Largest action request body. */
  maxBodyBytes: number;
  /** A request header naming the operator (set by an authenticating proxy); the remote address otherwise. */
  identityHeader: string;
}

export const opsPageDefaults: OpsPageConfig = {
  host: '127.0.0.1',
  port: 7280,
  lagHistoryMs: 10 * 60_000,
  sampleEveryMs: 1000,
  maxBodyBytes: 16 * 1024,
  identityHeader: 'x-tandem-operator',
};
