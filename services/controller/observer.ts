// An observer (DESIGN invariant 10): from one failure domain, probes every region's frontend on an
// interval and writes what it saw to the controller store, where the leader weighs it against the
// other domains' views. A probe is healthy only when every step answers in time: grpc.health.v1
// SERVING, then a canary workflow started and described in a local canary namespace (a write and
// a read through history and its store, so a sick store shows as latency or failure here). The
// canary run is terminated at once and carries a run timeout in case the terminate is lost.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger.js';
import type { Service } from '../common/lifecycle.js';
import { sleep } from '../common/lifecycle.js';
import { durationFromMs } from '../common/proto-time.js';
import type { ObserverConfig, RegionEndpoint } from './config.js';
import type { ControllerStore, ObserverReport } from './controller-store.js';
import type { ControllerMetrics } from './metrics.js';
import { describeError, RegionClient } from './region-client.js';

/**
 * Replication lag from `source` to each other region, or undefined when it cannot be read (the
 * process main reads the source's `tandem_replication_lag_*` gauges; `make dev` its registries).
 */
export type LagProbe = (source: string) => Promise<ObserverReport['lag']>;

const CANARY_RETENTION_MS = 24 * 3_600_000;
const CANARY_TYPE = 'tandem-canary';

export class Observer implements Service {
  private readonly clients: RegionClient[];
  /** Regions whose canary namespace this observer found or registered. */
  private readonly canaryReady = new Set<string>();
  private readonly unhealthySince = new Map<string, number>();
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private readonly log: Logger;

  constructor(
    readonly config: ObserverConfig,
    regions: RegionEndpoint[],
    private readonly deps: { store: ControllerStore; logger: Logger; metrics: ControllerMetrics; lag?: LagProbe },
  ) {
    this.clients = regions.map((r) => new RegionClient(r.name, r.endpoint, r));
    this.log = deps.logger.child({ component: 'observer', observer: config.id, domain: config.domain });
  }

  async start(): Promise<void> {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await Promise.all(this.clients.map((c) => c.close()));
  }

  /** One round: every region probed at once; resolves once their reports are written. */
  async probeAll(): Promise<ObserverReport[]> {
    return Promise.all(this.clients.map((c) => this.probeAndReport(c)));
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const started = Date.now();
      await this.probeAll();
      await sleep(Math.max(0, this.config.intervalMs - (Date.now() - started)), this.abort.signal);
    }
  }

  private async probeAndReport(client: RegionClient): Promise<ObserverReport> {
    const { healthy, detail } = await this.probe(client);
    const atMs = Date.now();
    if (healthy) this.unhealthySince.delete(client.region);
    else if (!this.unhealthySince.has(client.region)) this.unhealthySince.set(client.region, atMs);
    const lag = await this.deps.lag?.(client.region).catch(() => undefined);
    const report: ObserverReport = {
      observer: this.config.id,
      failureDomain: this.config.domain,
      region: client.region,
      healthy,
      atMs,
      unhealthySinceMs: this.unhealthySince.get(client.region) ?? null,
      detail,
      ...(lag && { lag }),
    };
    this.deps.metrics.probes.inc({ region: client.region, outcome: healthy ? 'healthy' : 'unhealthy' });
    try {
      await this.deps.store.putReport(report);
    } catch (err) {
      // The leader then sees this view go stale, which takes away its vote: the safe direction.
      this.log.warn({ err, region: client.region }, 'observer report not stored');
    }
    return report;
  }

  private async probe(client: RegionClient): Promise<{ healthy: boolean; detail: string }> {
    const timings: string[] = [];
    const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        const seconds = (performance.now() - t0) / 1000;
        this.deps.metrics.probeSeconds.observe({ region: client.region, probe: step }, seconds);
        timings.push(`${step} ${Math.round(seconds * 1000)} ms`);
      }
    };
    const timeout = this.config.probeTimeoutMs;
    let step = 'health';
    try {
      if (!(await timed('health', () => client.serving(timeout)))) return { healthy: false, detail: 'frontend NOT_SERVING' };
      step = 'canary namespace';
      await this.ensureCanaryNamespace(client);
      const namespace = this.config.canaryNamespace;
      const workflowId = `canary-${this.config.id}-${randomUUID()}`;
      step = 'canary start';
      const { runId } = await timed('start', () =>
        client.within(timeout, (svc) =>
          svc.startWorkflowExecution({
            namespace,
            workflowId,
            workflowType: { name: CANARY_TYPE },
            taskQueue: { name: CANARY_TYPE },
            workflowRunTimeout: durationFromMs(this.config.canaryRunTimeoutMs),
            requestId: randomUUID(),
            identity: `observer ${this.config.id}`,
          }),
        ),
      );
      step = 'canary describe';
      await timed('describe', () => client.within(timeout, (svc) => svc.describeWorkflowExecution({ namespace, execution: { workflowId, runId } })));
      void client
        .within(timeout, (svc) =>
          svc.terminateWorkflowExecution({ namespace, workflowExecution: { workflowId, runId }, reason: 'canary probe done', identity: `observer ${this.config.id}` }),
        )
        .catch(() => undefined);
      return { healthy: true, detail: timings.join(', ') };
    } catch (err) {
      return { healthy: false, detail: `${step}: ${describeError(err)}` };
    }
  }

  private async ensureCanaryNamespace(client: RegionClient): Promise<void> {
    if (this.canaryReady.has(client.region)) return;
    const namespace = this.config.canaryNamespace;
    const timeout = this.config.probeTimeoutMs;
    try {
      await client.within(timeout, (svc) => svc.describeNamespace({ namespace }));
    } catch (err) {
      if (!/NOT_FOUND/.test(describeError(err))) throw err;
      await client
        .within(timeout, (svc) =>
          svc.registerNamespace({ namespace, description: 'failover controller canaries', isGlobalNamespace: false, workflowExecutionRetentionPeriod: durationFromMs(CANARY_RETENTION_MS) }),
        )
        .catch((e: unknown) => {
          // Another observer registered it first.
          if (!/ALREADY_EXISTS/.test(describeError(e))) throw e;
        });
      this.log.info({ region: client.region, namespace }, 'registered the canary namespace');
    }
    this.canaryReady.add(client.region);
  }
}
