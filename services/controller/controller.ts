// The failover controller (DESIGN invariant 10): replicas, one leader by lease. Every replica
// reads the observers' reports from the shared store and computes the regions' verdicts (for its
// metrics and the page); only the leader acts: a region declared down has every global namespace
// active there failed over (graceful for a bounded time, then forced) and its route re-pointed with
// a higher epoch; a namespace moved away comes home by a graceful failover once home has been up a
// while and caught up, if its policy says so. Each region's coordinator audits every failover with
// the identity given here; recent actions are also kept in memory for the page.
import type { Logger } from '../common/logger.js';
import type { Service } from '../common/lifecycle.js';
import type { Registry } from '../common/metrics.js';
import type { NamespaceRecord } from '../persistence/types.js';
import type { AuditView, FailoverOutcome, LagView, OpsBackend, OpsSnapshot } from '../ops-page/backend.js';
import { DEFAULT_ROUTE, type RouteRegistry } from '../routes/route.js';
import { controllerConfig, type ControllerConfig } from './config.js';
import type { ControllerStore, ObserverReport } from './controller-store.js';
import { drillRegion } from './drill.js';
import { gracefulThenForced, runFailover, type FailoverResult } from './failovers.js';
import { newestGlobalNamespaces } from './global-namespaces.js';
import type { LeaseStore } from './leader-lease.js';
import { controllerMetrics, type ControllerMetrics } from './metrics.js';
import { auditView, describeError, RegionClient } from './region-client.js';
import { RegionVerdicts, type Verdict } from './region-verdicts.js';
import { pointRoute } from './route-follower.js';

export interface ControllerDeps {
  leases: LeaseStore;
  store: ControllerStore;
  routes: RouteRegistry;
  logger: Logger;
  registry: Registry;
}

/** Something the controller did, for the page (newest first). */
export interface ControllerAction {
  atMs: number;
  kind: 'region down' | 'failback' | 'page' | 'drill';
  outcome: FailoverResult;
}

/** The data key a namespace sets to come home by itself after its home region recovers. */
export const FAILBACK_KEY = 'tandem.failback';
const STATUSES: Verdict[] = ['up', 'suspect', 'down'];

export class FailoverController implements Service, OpsBackend {
  readonly config: ControllerConfig;
  readonly metrics: ControllerMetrics;
  private readonly clients: Map<string, RegionClient>;
  private readonly log: Logger;
  private leaderTerm: number | null = null;
  private reports: ObserverReport[] = [];
  private verdicts = new Map<string, Verdict>();
  private readonly upSince = new Map<string, number>();
  /** Namespaces with a failover of the controller's in flight: one at a time each. */
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly recent: ControllerAction[] = [];
  private timers: NodeJS.Timeout[] = [];
  private ticking = false;

  constructor(config: Parameters<typeof controllerConfig>[0], private readonly deps: ControllerDeps) {
    this.config = controllerConfig(config);
    this.metrics = controllerMetrics(deps.registry);
    this.clients = new Map(this.config.regions.map((r) => [r.name, new RegionClient(r.name, r.endpoint, r)]));
    this.log = deps.logger.child({ component: 'controller', replica: this.config.id });
  }

  get isLeader(): boolean {
    return this.leaderTerm !== null;
  }

  /** What the controller did lately, newest first. */
  actions(): ControllerAction[] {
    return [...this.recent];
  }

  async start(): Promise<void> {
    await this.holdLease();
    this.timers.push(setInterval(() => void this.holdLease(), Math.max(50, Math.floor(this.config.leaseTtlMs / 3))));
    this.timers.push(setInterval(() => void this.tick(), this.config.tickMs));
    this.log.info({ regions: this.config.regions.map(({ name, endpoint }) => ({ name, endpoint })), quorum: this.config.quorum, downAfterMs: this.config.downAfterMs }, 'failover controller started');
  }

  async stop(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    await Promise.all(this.inFlight);
    if (this.isLeader) await this.deps.leases.release(this.config.leaseName, this.config.id).catch(() => undefined);
    this.setLeader(null);
    await Promise.all([...this.clients.values()].map((c) => c.close()));
  }

  private async holdLease(): Promise<void> {
    const { leaseName, id, leaseTtlMs } = this.config;
    try {
      if (this.isLeader) {
        if (!(await this.deps.leases.renew(leaseName, id, leaseTtlMs))) this.setLeader(null);
      } else {
        this.setLeader((await this.deps.leases.acquire(leaseName, id, leaseTtlMs))?.term ?? null);
      }
    } catch (err) {
      // A leader that cannot reach the lease store may have lost it already: step down at once.
      this.log.warn({ err }, 'lease store unreachable');
      this.setLeader(null);
    }
  }

  private setLeader(term: number | null): void {
    if ((term !== null) !== this.isLeader) this.log.info({ term }, term !== null ? 'leader' : 'not the leader');
    this.leaderTerm = term;
    this.metrics.isLeader.set(term !== null ? 1 : 0);
  }

  /** One decision round; the loop runs it every tickMs, never two at once. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.judge();
      if (!this.isLeader) return;
      const namespaces = await newestGlobalNamespaces([...this.clients.values()], this.config.tickMs * 2, this.log);
      for (const region of this.config.regions) if (this.verdicts.get(region.name) === 'down') this.evacuate(region.name, namespaces);
      await this.failBack(namespaces);
      if (this.config.reconcileRoutes) for (const ns of namespaces) if (!this.busy.has(ns.name)) await this.route(ns.name, ns.activeRegion, ns.failoverState === 'handover');
    } catch (err) {
      this.log.warn({ err }, 'controller round failed');
    } finally {
      this.ticking = false;
    }
  }

  /** The regions' verdicts from every observer's newest report. */
  private async judge(): Promise<void> {
    const now = Date.now();
    this.reports = await this.deps.store.reports();
    const verdicts = new RegionVerdicts(this.config);
    for (const r of this.reports) {
      const base = { observer: r.observer, failureDomain: r.failureDomain, region: r.region };
      // The streak's start first, so the verdict's window runs from when this observer first saw it.
      if (r.unhealthySinceMs !== null) verdicts.observe({ ...base, healthy: false, atMs: r.unhealthySinceMs });
      verdicts.observe({ ...base, healthy: r.healthy, atMs: r.atMs });
    }
    for (const { name } of this.config.regions) {
      const v = verdicts.verdict(name, now);
      if (v !== this.verdicts.get(name)) this.log.info({ region: name, verdict: v, accusers: verdicts.accusers(name, now) }, 'region verdict');
      this.verdicts.set(name, v);
      if (v !== 'up') this.upSince.delete(name);
      else if (!this.upSince.has(name)) this.upSince.set(name, now);
      for (const s of STATUSES) this.metrics.regionStatus.set({ region: name, status: s }, s === v ? 1 : 0);
    }
  }

  /** Every global namespace active in a down region goes to the first of its regions that is up. */
  private evacuate(region: string, namespaces: NamespaceRecord[]): void {
    for (const ns of namespaces) {
      if (ns.activeRegion !== region || this.busy.has(ns.name)) continue;
      const target = ns.regions.find((r) => r !== region && this.verdicts.get(r) === 'up' && this.clients.has(r));
      if (!target) {
        this.log.error({ namespace: ns.name, region }, 'region down and no other region of the namespace is up: nothing to fail over to');
        continue;
      }
      this.act(ns.name, async () => {
        const identity = `controller ${this.config.id} (region ${region} down)`;
        const results = await gracefulThenForced(this.clients, { namespace: ns.name, fromRegion: region, toRegion: target, identity, timeoutMs: this.config.gracefulTimeoutMs });
        const last = results[results.length - 1]!;
        if (last.mode === 'forced' && last.ok && !last.lag) {
          const seen = this.lastLag(region, target);
          if (seen) {
            last.lag = { tasks: seen.tasks, seconds: seen.seconds };
            last.message += `; replication lag last observed before the outage ${seen.seconds.toFixed(3)} s, ${seen.tasks} tasks (the region reported none at the switch)`;
          }
        }
        if (last.lag) this.metrics.rpoSeconds.set({ namespace: ns.name }, last.lag.seconds);
        for (const r of results) this.record('region down', r);
        if (last.ok) {
          await this.deps.store.markEvacuated(ns.name, region);
          await this.route(ns.name, target, false);
        }
      });
    }
  }

  /** Namespaces the controller moved away go home once home is up, stable and caught up. */
  private async failBack(namespaces: NamespaceRecord[]): Promise<void> {
    const now = Date.now();
    for (const [name, home] of await this.deps.store.evacuations()) {
      const ns = namespaces.find((n) => n.name === name);
      if (!ns || this.busy.has(name)) continue;
      if (ns.activeRegion === home) {
        await this.deps.store.clearEvacuated(name);
        continue;
      }
      if (!this.wantsFailback(ns) || ns.failoverState !== 'normal') continue;
      const upSince = this.upSince.get(home);
      if (upSince === undefined || now - upSince < this.config.failback.afterUpMs) continue;
      const lag = this.lastLag(ns.activeRegion, home);
      // Unknown lag is not a veto: the graceful failover waits for replication itself.
      if (lag && lag.seconds > this.config.failback.maxLagSeconds) continue;
      this.act(name, async () => {
        const identity = `controller ${this.config.id} (failback: region ${home} up and caught up)`;
        const r = await runFailover(this.clients, { namespace: name, fromRegion: ns.activeRegion, toRegion: home, identity, timeoutMs: this.config.gracefulTimeoutMs }, 'graceful');
        this.record('failback', r);
        if (r.ok) {
          await this.deps.store.clearEvacuated(name);
          await this.route(name, home, false);
        }
      });
    }
  }

  private wantsFailback(ns: NamespaceRecord): boolean {
    return ns.data[FAILBACK_KEY] === 'auto' || this.config.failback.namespaces.includes(ns.name);
  }

  /** Runs a namespace's action in the background (a graceful wait must not stall the rounds). */
  private act(namespace: string, fn: () => Promise<void>): void {
    this.busy.add(namespace);
    const p = fn()
      .catch((err: unknown) => this.log.error({ err, namespace }, 'controller action failed'))
      .finally(() => {
        this.busy.delete(namespace);
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
  }

  private record(kind: ControllerAction['kind'], outcome: FailoverResult): void {
    this.metrics.failovers.inc({ mode: outcome.mode, outcome: outcome.ok ? 'completed' : 'failed' });
    this.recent.unshift({ atMs: Date.now(), kind, outcome });
    this.recent.length = Math.min(this.recent.length, this.config.recentActions);
    const level = outcome.ok ? 'info' : 'warn';
    this.log[level]({ kind, ...outcome }, 'controller failover');
  }

  /** The newest lag from source to target any observer read. */
  private lastLag(source: string, target: string): { tasks: number; seconds: number; atMs: number } | undefined {
    let best: { tasks: number; seconds: number; atMs: number } | undefined;
    for (const r of this.reports) {
      if (r.region !== source) continue;
      const l = r.lag?.find((x) => x.target === target);
      if (l && (!best || r.atMs > best.atMs)) best = { tasks: l.tasks, seconds: l.seconds, atMs: r.atMs };
    }
    return best;
  }

  /** Points a namespace's route (and the default route with the default namespace) at a region. */
  private async route(namespace: string, region: string, switching: boolean): Promise<void> {
    const endpoint = this.clients.get(region)?.endpoint;
    if (!endpoint) return;
    for (const name of namespace === this.config.defaultNamespace ? [namespace, DEFAULT_ROUTE] : [namespace]) {
      if (await pointRoute(this.deps.routes, { namespace: name, region, endpoint, ttlMs: this.config.routeTtlMs, switching })) {
        this.log.info({ namespace: name, region, switching }, 'route re-pointed');
      }
    }
  }

  // ---- OpsBackend: the operations page ----

  async snapshot(): Promise<OpsSnapshot> {
    const timeoutMs = Math.max(1_000, this.config.tickMs * 2);
    const [namespaces, routes, audit, lease] = await Promise.all([
      newestGlobalNamespaces([...this.clients.values()], timeoutMs, this.log),
      this.deps.routes.list(),
      this.audit(100, timeoutMs),
      this.deps.leases.current(this.config.leaseName).catch(() => null),
    ]);
    return {
      generatedAtMs: Date.now(),
      regions: this.config.regions.map((r) => ({
        name: r.name,
        endpoint: r.endpoint,
        status: this.verdicts.get(r.name) ?? 'up',
        observers: this.reports
          .filter((o) => o.region === r.name)
          .map((o) => ({ observer: o.observer, domain: o.failureDomain, healthy: o.healthy, detail: o.detail, atMs: o.atMs }))
          .sort((a, b) => a.observer.localeCompare(b.observer)),
      })),
      namespaces: namespaces.map((ns) => ({
        name: ns.name,
        id: ns.id,
        isGlobal: ns.isGlobal,
        activeRegion: ns.activeRegion,
        regions: ns.regions,
        failoverVersion: ns.failoverVersion.toString(),
        state: ns.failoverState,
        replication: 'async',
      })),
      lag: this.lagViews(),
      routes: routes.map((r) => ({ ...r, switching: Boolean(r.switching) })),
      audit,
      controller: { self: this.config.id, leader: lease?.holder ?? null },
    };
  }

  private lagViews(): LagView[] {
    const out: LagView[] = [];
    for (const source of this.config.regions) {
      for (const target of this.config.regions) {
        const l = source.name !== target.name ? this.lastLag(source.name, target.name) : undefined;
        if (l) out.push({ source: source.name, target: target.name, tasks: l.tasks, seconds: l.seconds });
      }
    }
    return out;
  }

  /** Every reachable region's failover audit, merged newest first. */
  async audit(limit: number, timeoutMs: number): Promise<AuditView[]> {
    const lists = await Promise.all(
      [...this.clients.values()].map((c) =>
        c.audit(limit, timeoutMs).catch((err: unknown) => {
          this.log.debug({ region: c.region, err: describeError(err) }, 'failover audit not read');
          return [];
        }),
      ),
    );
    return lists
      .flat()
      .map(auditView)
      .sort((a, b) => b.startedAtMs - a.startedAtMs)
      .slice(0, limit);
  }

  async failover(namespace: string, toRegion: string, force: boolean, identity: string): Promise<FailoverOutcome> {
    const ns = (await newestGlobalNamespaces([...this.clients.values()], this.config.gracefulTimeoutMs, this.log)).find((n) => n.name === namespace);
    if (!ns) throw new Error(`no global namespace ${namespace} in any reachable region`);
    const r = await runFailover(this.clients, { namespace, fromRegion: ns.activeRegion, toRegion, identity, timeoutMs: this.config.gracefulTimeoutMs }, force ? 'forced' : 'graceful');
    this.record('page', r);
    if (r.ok) await this.route(namespace, toRegion, false);
    return r;
  }

  async drill(region: string, andBack: boolean, identity: string): Promise<FailoverOutcome[]> {
    const reports = await drillRegion(this.clients, region, { andBack, identity, timeoutMs: this.config.gracefulTimeoutMs, canaries: 0, callTimeoutMs: this.config.gracefulTimeoutMs });
    const outcomes: FailoverOutcome[] = [];
    for (const rep of reports) {
      for (const step of rep.steps) {
        this.record('drill', step);
        outcomes.push(step);
      }
      const last = rep.steps.filter((s) => s.ok).pop();
      if (last) await this.route(rep.namespace, last.toRegion, false);
    }
    return outcomes;
  }
}
