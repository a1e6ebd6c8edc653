// The failover controller's settings and their defaults, in one place, validated at start.
import type { ClientTlsFiles } from '../common/tls.js';
import { validateVerdictConfig, type VerdictConfig } from './region-verdicts.js';

export interface RegionEndpoint {
  name: string;
  /** host:port of the region's frontend. */
  endpoint: string;
  /** The CA its frontend's certificate chains to; plaintext when absent. */
  tls?: ClientTlsFiles;
  /** The API key the controller and its observers call it with when its auth is on. */
  apiKey?: string;
}

export interface ObserverConfig {
  /** Unique among every controller replica's observers. */
  id: string;
  /** The failure domain the observer runs in (a zone, a rack, a cloud): what the quorum counts. */
  domain: string;
  intervalMs: number;
  /** Each probe call's deadline; slower counts as unhealthy. */
  probeTimeoutMs: number;
  /** A local namespace of every region, registered by the observer when missing. */
  canaryNamespace: string;
  /** The canary run is terminated after its describe; this bounds it if the terminate is lost. */
  canaryRunTimeoutMs: number;
}

export interface FailbackConfig {
  /** Namespaces that move home automatically, besides those whose data says `tandem.failback=auto`. */
  namespaces: string[];
  /** How long the home region must have been up before the namespace moves back. */
  afterUpMs: number;
  /** Replication lag from the active region to home (seconds) under which home counts as caught up. */
  maxLagSeconds: number;
}

export interface ControllerConfig extends VerdictConfig {
  /** This replica's id (audit identities, the lease holder). */
  id: string;
  regions: RegionEndpoint[];
  leaseName: string;
  leaseTtlMs: number;
  /** How often the leader reads the observers' reports and acts. */
  tickMs: number;
  /** A region-down failover first tries graceful this long, then forces. */
  gracefulTimeoutMs: number;
  failback: FailbackConfig;
  /** Route TTL for the records the controller writes. */
  routeTtlMs: number;
  /** Its route is also the default route (calls without a namespace). */
  defaultNamespace: string;
  /**
   * Re-point every global namespace's route at its active region on each tick (`tandem up`: nothing
   * else writes routes). false when a RouteFollower in the same process does it (`make dev`).
   */
  reconcileRoutes: boolean;
  /** Controller actions kept for the operations page. */
  recentActions: number;
}

export const observerDefaults: Omit<ObserverConfig, 'id' | 'domain'> = {
  intervalMs: 1_000,
  probeTimeoutMs: 2_000,
  canaryNamespace: 'tandem-canary',
  canaryRunTimeoutMs: 60_000,
};

export const controllerDefaults: Omit<ControllerConfig, 'id' | 'regions'> = {
  quorum: 2,
  downAfterMs: 10_000,
  staleAfterMs: 15_000,
  leaseName: 'failover-controller',
  leaseTtlMs: 5_000,
  tickMs: 1_000,
  gracefulTimeoutMs: 10_000,
  failback: { namespaces: [], afterUpMs: 30_000, maxLagSeconds: 1 },
  routeTtlMs: 5_000,
  defaultNamespace: 'default',
  reconcileRoutes: true,
  recentActions: 100,
};

function positive(what: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`${what} must be > 0, got ${v}`);
}

function validRegions(regions: RegionEndpoint[]): void {
  if (regions.length < 2) throw new Error(`controller.regions: at least two regions, got ${regions.length}`);
  const names = new Set(regions.map((r) => r.name));
  if (names.size !== regions.length) throw new Error(`controller.regions: names must be unique (${regions.map((r) => r.name).join(', ')})`);
  for (const r of regions) if (!/^.+:\d+$/.test(r.endpoint)) throw new Error(`controller.regions[${r.name}].endpoint must be host:port, got ${r.endpoint}`);
}

export function controllerConfig(c: Pick<ControllerConfig, 'id' | 'regions'> & Partial<ControllerConfig>): ControllerConfig {
  const config: ControllerConfig = { ...controllerDefaults, ...c, failback: { ...controllerDefaults.failback, ...c.failback } };
  if (!config.id) throw new Error('controller.id is required');
  validRegions(config.regions);
  validateVerdictConfig(config);
  for (const k of ['leaseTtlMs', 'tickMs', 'gracefulTimeoutMs', 'routeTtlMs', 'recentActions'] as const) positive(`controller.${k}`, config[k]);
  positive('controller.failback.afterUpMs', config.failback.afterUpMs);
  if (!(config.failback.maxLagSeconds >= 0)) throw new Error(`controller.failback.maxLagSeconds must be >= 0, got ${config.failback.maxLagSeconds}`);
  if (config.staleAfterMs <= config.tickMs) throw new Error(`controller.staleAfterMs (${config.staleAfterMs}) must exceed tickMs (${config.tickMs})`);
  return config;
}

export function observerConfig(c: Pick<ObserverConfig, 'id' | 'domain'> & Partial<ObserverConfig>): ObserverConfig {
  const config: ObserverConfig = { ...observerDefaults, ...c };
  if (!config.id) throw new Error('observer.id is required');
  if (!config.domain) throw new Error('observer.domain is required');
  for (const k of ['intervalMs', 'probeTimeoutMs', 'canaryRunTimeoutMs'] as const) positive(`observer.${k}`, config[k]);
  if (!config.canaryNamespace) throw new Error('observer.canaryNamespace is required');
  return config;
}
