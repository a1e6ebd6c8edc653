// What the operations page shows and what it can do, whoever serves it: the failover controller
// (`tandem up`) or `make dev` (everything in one process). The page polls snapshot(); its
// actions run only after the operator confirmed them in the page.

/** One observer's latest view of one region. */
export interface ObserverView {
  observer: string;
  /** The observer's failure domain. */
  domain: string;
  healthy: boolean;
  /** Why not healthy (or what was measured): "frontend NOT_SERVING", "canary start 35 ms". */
  detail: string;
  atMs: number;
}

export interface RegionView {
  name: string;
  /** The region's frontend, host:port. */
  endpoint: string;
  /** The controller's verdict: up, down (quorum agreed), or suspect (some observers see it down). */
  status: 'up' | 'suspect' | 'down';
  observers: ObserverView[];
}

export interface NamespaceView {
  name: string;
  id: string;
  isGlobal: boolean;
  activeRegion: string;
  regions: string[];
  failoverVersion: string;
  state: 'normal' | 'handover';
  replication: 'async' | 'sync';
}

/** Replication lag from source to target (the worst shard). */
export interface LagView {
  source: string;
  target: string;
  tasks: number;
  seconds: number;
}

export interface RouteView {
  namespace: string;
  region: string;
  endpoint: string;
  epoch: number;
  ttlMs: number;
  switching: boolean;
}

export interface AuditView {
  namespace: string;
  fromRegion: string;
  toRegion: string;
  mode: 'graceful' | 'forced';
  outcome: 'completed' | 'aborted';
  /** Who or what asked: an operator, `tandem drill`, the controller. */
  identity: string;
  message: string;
  startedAtMs: number;
  finishedAtMs: number;
  /** Forced only: the replication lag at the switch (the failover's RPO), when measured. */
  lagSeconds?: number;
  lagTasks?: number;
}

export interface OpsSnapshot {
  generatedAtMs: number;
  regions: RegionView[];
  namespaces: NamespaceView[];
  lag: LagView[];
  routes: RouteView[];
  /** Newest first. */
  audit: AuditView[];
  /** The controller replica serving the page and the current leader, when a controller serves it. */
  controller?: { self: string; leader: string | null };
}

/** Per namespace, what a failover or a drill step did. */
export interface FailoverOutcome {
  namespace: string;
  fromRegion: string;
  toRegion: string;
  mode: 'graceful' | 'forced';
  durationMs: number;
  ok: boolean;
  message: string;
}

export interface OpsBackend {
  snapshot(): Promise<OpsSnapshot>;
  failover(namespace: string, toRegion: string, force: boolean, identity: string): Promise<FailoverOutcome>;
  /** Graceful failover of every namespace active in `region` to another region; back again with andBack. */
  drill(region: string, andBack: boolean, identity: string): Promise<FailoverOutcome[]>;
}

/** Thrown by a backend for input it cannot act on (an unknown namespace or region): the page shows the message as the caller's mistake. */
export class OpsBadRequest extends Error {
  override name = 'OpsBadRequest';
}
