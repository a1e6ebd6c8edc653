// The operations page's backend over regions running in this process (`make dev`, the page's
// browser test): health is each region's frontend answering grpc.health.v1 Check, namespaces
// and the audit log come from the regions' own registries and stores, lag from the senders'
// tandem_replication_lag_* gauges, routes from the route registry, and failovers go through
// tandem.admin.v1 FailoverService on a frontend, as `tandem failover` does.
import * as grpc from '@grpc/grpc-js';
import { healthDefinition } from '../../services/common/health.js';
import type { NamespaceRecord } from '../../services/persistence/types.js';
import type { RouteRegistry } from '../../services/routes/route.js';
import {
  OpsBadRequest,
  type AuditView,
  type FailoverOutcome,
  type LagView,
  type NamespaceView,
  type OpsBackend,
  type OpsSnapshot,
  type RegionView,
} from '../../services/ops-page/backend.js';
import { FailoverServiceClient, type FailoverNamespaceRequest, type FailoverNamespaceResponse } from '../../proto/gen/tandem/admin/v1/failover.js';
import type { EmbeddedCluster } from './embedded.js';

export interface DevOpsBackendConfig {
  /** How long a health check may take before the region counts as unhealthy. */
  healthTimeoutMs: number;
  /** How long a failover call may take (a graceful one waits for replication). */
  failoverTimeoutMs: number;
  /** How long a graceful failover's outcome waits for the target region to know it is active. */
  settleTimeoutMs: number;
  /** Audit entries shown, newest first. */
  auditLimit: number;
  /** The one observer's name: this process. */
  observer: string;
}

export const devOpsBackendDefaults: DevOpsBackendConfig = {
  healthTimeoutMs: 1000,
  failoverTimeoutMs: 60_000,
  settleTimeoutMs: 10_000,
  auditLimit: 50,
  observer: `make dev (pid ${process.pid})`,
};

const SERVING = 1;
const SERVING_NAMES: Record<number, string> = { 0: 'UNKNOWN', 1: 'SERVING', 2: 'NOT_SERVING', 3: 'SERVICE_UNKNOWN' };

interface Probe {
  cluster: EmbeddedCluster;
  name: string;
  healthy: boolean;
  detail: string;
  atMs: number;
}

export class DevOpsBackend implements OpsBackend {
  private readonly config: DevOpsBackendConfig;

  constructor(
    private readonly clusters: EmbeddedCluster[],
    private readonly routes: RouteRegistry,
    config: Partial<DevOpsBackendConfig> = {},
    /** How the regions' frontends are reached (their CA with TLS). */
    private readonly credentials = grpc.credentials.createInsecure(),
  ) {
    this.config = { ...devOpsBackendDefaults, ...config };
  }

  async snapshot(): Promise<OpsSnapshot> {
    const probes = await Promise.all(this.clusters.map((c) => this.probe(c)));
    // A region whose frontend does not answer may have closed its store: only the others are read.
    const up = probes.filter((p) => p.healthy).map((p) => p.cluster);
    const [namespaces, lag, routes, audit] = await Promise.all([this.namespaces(up), this.lag(up), this.routes.list(), this.audit(up)]);
    return {
      generatedAtMs: Date.now(),
      regions: probes.map((p) => this.regionView(p)),
      namespaces,
      lag,
      routes: routes.map((r) => ({ namespace: r.namespace, region: r.region, endpoint: r.endpoint, epoch: r.epoch, ttlMs: r.ttlMs, switching: r.switching ?? false })),
      audit,
    };
  }

  async failover(namespace: string, toRegion: string, force: boolean, identity: string): Promise<FailoverOutcome> {
    const ns = (await this.namespaces(this.clusters.filter((c) => c.store))).find((n) => n.name === namespace);
    if (!ns) throw new OpsBadRequest(`unknown namespace ${namespace}`);
    this.cluster(toRegion);
    // Graceful drains in the active region (its coordinator refuses elsewhere); forced switches
    // in the region taking over, which is the one still up in an outage.
    const via = this.cluster(force ? toRegion : ns.activeRegion);
    const mode = force ? 'forced' : 'graceful';
    const startedAtMs = Date.now();
    const base = { namespace, fromRegion: ns.activeRegion, toRegion, mode } as const;
    try {
      const r = await this.callFailover(via.address, { namespace, targetRegion: toRegion, force, timeoutMs: 0n, identity });
      if (r.fromRegion === r.toRegion) return { ...base, fromRegion: r.fromRegion, durationMs: Number(r.durationMs), ok: true, message: `already active in ${toRegion}; nothing changed` };
      const settled = await this.settled(namespace, toRegion, r.toVersion);
      const message = `version ${r.fromVersion} → ${r.toVersion}${settled ? '' : `; ${toRegion} had not learnt it after ${this.config.settleTimeoutMs} ms`}`;
      return { ...base, fromRegion: r.fromRegion, durationMs: Number(r.durationMs), ok: true, message };
    } catch (err) {
      const e = err as Partial<grpc.ServiceError>;
      const message = e.details ?? (err instanceof Error ? err.message : String(err));
      return { ...base, durationMs: Date.now() - startedAtMs, ok: false, message: `${e.code !== undefined ? `${grpc.status[e.code]}: ` : ''}${message}` };
    }
  }

  async drill(region: string, andBack: boolean, identity: string): Promise<FailoverOutcome[]> {
    this.cluster(region);
    const who = `${identity}, drill of region ${region}`;
    const active = (await this.namespaces(this.clusters.filter((c) => c.store))).filter((n) => n.isGlobal && n.activeRegion === region && n.regions.length > 1);
    const away: FailoverOutcome[] = [];
    // One at a time: a drill shows what each failover costs, not how they contend.
    for (const ns of active) away.push(await this.failover(ns.name, ns.regions.find((r) => r !== region)!, false, who));
    const back: FailoverOutcome[] = [];
    if (andBack) for (const o of away.filter((x) => x.ok)) back.push(await this.failover(o.namespace, region, false, who));
    return [...away, ...back];
  }

  /**
   * Whether the target region's registry knows it is active at `version` (namespace replication
   * brings a graceful switch there a moment later): a drill's way back must not ask it before.
   */
  private async settled(namespace: string, region: string, version: bigint): Promise<boolean> {
    const registry = this.cluster(region).namespaces!;
    const deadline = Date.now() + this.config.settleTimeoutMs;
    for (;;) {
      const rec = await registry.getByName(namespace);
      if (rec && rec.activeRegion === region && rec.failoverVersion >= version) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private cluster(region: string): EmbeddedCluster {
    const c = this.clusters.find((x) => x.config.region.name === region);
    if (!c) throw new OpsBadRequest(`unknown region ${region}; known: ${this.clusters.map((x) => x.config.region.name).join(', ')}`);
    return c;
  }

  private regionView(p: Probe): RegionView {
    return {
      name: p.name,
      endpoint: p.cluster.address,
      // make dev has no controller and one observer: its view is the verdict.
      status: p.healthy ? 'up' : 'down',
      observers: [{ observer: this.config.observer, domain: 'local', healthy: p.healthy, detail: p.detail, atMs: p.atMs }],
    };
  }

  private probe(cluster: EmbeddedCluster): Promise<Probe> {
    const name = cluster.config.region.name;
    const started = performance.now();
    const check = healthDefinition.Check!;
    // A channel per probe: a long-lived one would back off after the region went away and see it come back late.
    const client = new grpc.Client(cluster.address, this.credentials);
    return new Promise<Probe>((resolve) => {
      client.makeUnaryRequest(
        check.path,
        check.requestSerialize,
        check.responseDeserialize,
        { service: '' },
        { deadline: Date.now() + this.config.healthTimeoutMs },
        (err, res) => {
          client.close();
          const ms = Math.round(performance.now() - started);
          const status = (res as { status?: number } | undefined)?.status ?? 0;
          const healthy = !err && status === SERVING;
          const detail = err ? `health check failed: ${grpc.status[err.code] ?? err.code} ${err.details}` : `frontend ${SERVING_NAMES[status] ?? status} in ${ms} ms`;
          resolve({ cluster, name, healthy, detail, atMs: Date.now() });
        },
      );
    });
  }

  /**
   * Every region's copy of each namespace merged into one view: the highest failover version
   * wins, and on a tie the copy of the region it names active (a HANDOVER is written there first).
   */
  private async namespaces(clusters: EmbeddedCluster[]): Promise<NamespaceView[]> {
    const best = new Map<string, NamespaceRecord>();
    const pages = await Promise.all(clusters.map(async (c) => ({ region: c.config.region.name, page: await c.namespaces!.list(10_000) })));
    for (const { region, page } of pages) {
      for (const rec of page.namespaces) {
        const seen = best.get(rec.id);
        if (!seen || rec.failoverVersion > seen.failoverVersion || (rec.failoverVersion === seen.failoverVersion && region === rec.activeRegion)) best.set(rec.id, rec);
      }
    }
    return [...best.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((n) => ({
        name: n.name,
        id: n.id,
        isGlobal: n.isGlobal,
        activeRegion: n.activeRegion,
        regions: n.regions,
        failoverVersion: n.failoverVersion.toString(),
        state: n.failoverState,
        // Replication is asynchronous in this cluster (DESIGN invariant 6).
        replication: 'async',
      }));
  }

  /** Per region pair, the worst shard's seconds and the sum of the shards' tasks, as the senders report them. */
  private async lag(clusters: EmbeddedCluster[]): Promise<LagView[]> {
    const pairs = new Map<string, LagView>();
    for (const c of clusters) {
      for (const [metric, field] of [['tandem_replication_lag_seconds', 'seconds'], ['tandem_replication_lag_tasks', 'tasks']] as const) {
        const values = (await c.registry?.getSingleMetric(metric)?.get())?.values ?? [];
        for (const v of values) {
          const { source, target } = v.labels as { source?: string; target?: string };
          if (!source || !target) continue;
          const key = `${source}\u0000${target}`;
          let pair = pairs.get(key);
          if (!pair) pairs.set(key, (pair = { source, target, tasks: 0, seconds: 0 }));
          if (field === 'seconds') pair.seconds = Math.max(pair.seconds, v.value);
          else pair.tasks += v.value;
        }
      }
    }
    return [...pairs.values()].sort((a, b) => a.source.localeCompare(b.source) || a.target.localeCompare(b.target));
  }

  /** Each failover is audited once, by the region that ran it: the regions' logs merged, newest first. */
  private async audit(clusters: EmbeddedCluster[]): Promise<AuditView[]> {
    const lists = await Promise.all(clusters.map((c) => c.store!.clusterMetadata.listFailoverAudit(undefined, this.config.auditLimit)));
    return lists
      .flat()
      .sort((a, b) => b.startedAtMs - a.startedAtMs)
      .slice(0, this.config.auditLimit)
      .map((e) => ({
        namespace: e.namespace,
        fromRegion: e.fromRegion,
        toRegion: e.toRegion,
        mode: e.mode,
        outcome: e.outcome,
        identity: e.identity,
        message: e.message,
        startedAtMs: e.startedAtMs,
        finishedAtMs: e.finishedAtMs,
        ...(e.lagTasks !== undefined && { lagTasks: e.lagTasks }),
        ...(e.lagSeconds !== undefined && { lagSeconds: e.lagSeconds }),
      }));
  }

  private callFailover(address: string, req: FailoverNamespaceRequest): Promise<FailoverNamespaceResponse> {
    const client = new FailoverServiceClient(address, this.credentials);
    return new Promise<FailoverNamespaceResponse>((resolve, reject) => {
      client.failoverNamespace(req, new grpc.Metadata(), { deadline: Date.now() + this.config.failoverTimeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
    }).finally(() => client.close());
  }
}
