// Moving a global namespace's active region (DESIGN invariant 10), the record side.
// Graceful (drills), in the active region: HANDOVER (new writes get a retryable UNAVAILABLE), wait
// until replication covers what was written, then switch: activeRegion = target, the version
// bumped into the target's residue, NORMAL. Each step is a write of the record, so it is queued
// and replicated like any other. A wait that runs out aborts back to NORMAL in the same region.
// Forced (outage), wherever it is asked: switch at once, reporting the replication lag it loses.
// Every outcome is logged, audited and counted.
import { apiError, isTandemError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { counter, histogram, type Registry } from '../common/metrics.js';
import type { ClusterMetadataStore, FailoverAuditEntry } from '../persistence/cluster-store.js';
import type { NamespaceRecord } from '../persistence/types.js';
import { namespaceNotActive } from './active.js';
import { failoverDefaults, withPositiveDefaults, type FailoverConfig } from './config.js';
import { findRegion, nextFailoverVersion } from './failover.js';
import type { NamespaceRegistry } from './registry.js';

export interface FailoverOptions {
  graceful: boolean;
  /** Graceful only: how long the wait for replication may take; default gracefulTimeoutMs. */
  timeoutMs?: number;
  /** Who asked, for the audit log. */
  identity?: string;
}

/** What was switched: the audit entry's who-what part, and how long it took. */
export interface FailoverReport extends Pick<FailoverAuditEntry, 'namespace' | 'namespaceId' | 'fromRegion' | 'toRegion' | 'fromVersion' | 'toVersion' | 'mode'> {
  durationMs: number;
  /** false: the namespace was active in the target already; nothing was written. */
  changed: boolean;
  /** Forced only: the loss window, when it could be measured (DESIGN invariant 10). */
  lag?: ReplicationLag;
}

/**
 * What this region had not applied from the old active region when a forced failover promoted it:
 * replication tasks received and not applied, and the seconds in which the old region may have
 * written what this one never got (replication/receiver-lag.ts defines the window). Writes in that
 * window may be lost or come back later as a branch that loses (conflict resolution reapplies
 * their user input).
 */
export interface ReplicationLag {
  tasks: number;
  seconds: number;
  /** Shards whose window could not be measured; `seconds` covers the others only. */
  shardsUnknown?: number;
}

/** Measures the lag of namespaceId from fromRegion as this region's receivers know it (replication/ provides it). */
export type MeasureReplicationLag = (namespaceId: string, fromRegion: string) => Promise<ReplicationLag>;

export interface FailoverCoordinator {
  failover(name: string, toRegion: string, options: FailoverOptions): Promise<FailoverReport>;
}

/**
 * Resolves once every shard's standby ack covers the namespace's last replication task, or
 * rejects; it must give up by deadlineMs (epoch ms). The process main provides it (replication
 * acks live in replication/); the default resolves at once (one region, tests).
 */
export type WaitForReplication = (namespaceId: string, deadlineMs: number) => Promise<void>;

export const replicationNotAwaited: WaitForReplication = async () => {};

export interface FailoverCoordinatorDeps {
  registry: NamespaceRegistry;
  audit: Pick<ClusterMetadataStore, 'appendFailoverAudit'>;
  log: Logger;
  waitForReplication?: WaitForReplication;
  /**
   * Makes every writer of this region see the record just written before the next step (the
   * process main passes HistoryApi.refreshNamespace); the registry of this process sees it at once.
   */
  publish?: (namespaceId: string) => Promise<void>;
  /** Forced failovers report the lag they lose when this is given. */
  measureLag?: MeasureReplicationLag;
  /** The process's registry for tandem_failover* (none: not counted, e.g. a frontend without replication in tests). */
  metrics?: Registry;
  config?: Partial<FailoverConfig>;
}

function failoverMetrics(registry: Registry) {
  return {
    handoverWait: histogram(registry, 'tandem_failover_handover_wait_seconds', 'How long graceful failovers waited for replication in HANDOVER', ['outcome']),
    failovers: counter(registry, 'tandem_failovers_total', 'Namespace failovers started here, by mode and outcome', ['mode', 'outcome']),
  };
}

export class NamespaceFailoverCoordinator implements FailoverCoordinator {
  private readonly config: FailoverConfig;
  private readonly waitForReplication: WaitForReplication;
  private readonly publish: (namespaceId: string) => Promise<void>;
  private readonly metrics?: ReturnType<typeof failoverMetrics>;

  constructor(private readonly deps: FailoverCoordinatorDeps) {
    this.config = withPositiveDefaults('failover', failoverDefaults, deps.config);
    this.waitForReplication = deps.waitForReplication ?? replicationNotAwaited;
    this.publish = deps.publish ?? (async () => {});
    this.metrics = deps.metrics && failoverMetrics(deps.metrics);
  }

  private get local(): string {
    return this.deps.registry.localRegion;
  }

  async failover(name: string, toRegion: string, options: FailoverOptions): Promise<FailoverReport> {
    const startedAtMs = Date.now();
    const current = await this.deps.registry.requireByName(name);
    if (!current.isGlobal) {
      throw apiError('INVALID_ARGUMENT', `Namespace ${name} is local to cluster ${current.activeRegion}; only a global namespace fails over.`);
    }
    findRegion(this.deps.registry.regions(), toRegion);
    if (!current.regions.includes(toRegion)) {
      throw apiError('INVALID_ARGUMENT', `Namespace ${name} is not replicated to cluster ${toRegion} (its clusters: ${current.regions.join(', ')}).`);
    }
    const mode = options.graceful ? 'graceful' : 'forced';
    const base = { namespace: name, namespaceId: current.id, fromRegion: current.activeRegion, toRegion, fromVersion: current.failoverVersion, mode } as const;
    if (current.activeRegion === toRegion && current.failoverState === 'normal') {
      return { ...base, toVersion: current.failoverVersion, durationMs: 0, changed: false };
    }
    const audit = async (rec: NamespaceRecord, outcome: FailoverAuditEntry['outcome'], message: string, lag?: ReplicationLag) => {
      await this.deps.audit.appendFailoverAudit({
        ...base,
        toVersion: rec.failoverVersion,
        outcome,
        identity: options.identity ?? '',
        message,
        startedAtMs,
        finishedAtMs: Date.now(),
        ...(lag && { lagTasks: lag.tasks, lagSeconds: lag.seconds }),
      });
      this.metrics?.failovers.inc({ mode, outcome });
    };
    if (options.graceful) await this.handover(name, current, toRegion, options, audit);
    // Measured before the switch: what the standby had then is what it starts from.
    const lag = options.graceful ? undefined : await this.lagAtSwitch(current);
    const switched = await this.switchTo(name, toRegion);
    await audit(switched, 'completed', lag ? lagMessage(lag, current.activeRegion) : '', lag);
    const report: FailoverReport = { ...base, toVersion: switched.failoverVersion, durationMs: Date.now() - startedAtMs, changed: true, ...(lag && { lag }) };
    this.deps.log.info({ ...report, identity: options.identity }, 'namespace failed over');
    return report;
  }

  /** HANDOVER here, then the wait; on a failed wait NORMAL again here, audited, and a clear error. */
  private async handover(
    name: string,
    current: NamespaceRecord,
    toRegion: string,
    options: FailoverOptions,
    audit: (rec: NamespaceRecord, outcome: 'aborted', message: string) => Promise<void>,
  ): Promise<void> {
    const timeoutMs = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : this.config.gracefulTimeoutMs;
    // The frontend forwards a graceful failover to the active region; a call that still lands
    // elsewhere (that region unreachable) cannot drain it: a forced failover is the way then.
    if (current.activeRegion !== this.local) throw namespaceNotActive(current, this.local);
    const draining = await this.deps.registry.update(name, (rec) => {
      if (rec.activeRegion !== this.local) throw namespaceNotActive(rec, this.local);
      if (rec.failoverState === 'handover') throw apiError('FAILED_PRECONDITION', `Namespace ${name} is in a failover already.`);
      return { ...rec, failoverState: 'handover' };
    });
    this.deps.log.info({ namespace: name, from: this.local, to: toRegion, timeoutMs }, 'namespace in handover; waiting for replication');
    const deadlineMs = Date.now() + timeoutMs;
    const waitStartedMs = Date.now();
    const waited = (outcome: 'completed' | 'aborted') => this.metrics?.handoverWait.observe({ outcome }, (Date.now() - waitStartedMs) / 1000);
    try {
      await this.publish(draining.id);
      await withDeadline(this.waitForReplication(draining.id, deadlineMs), deadlineMs);
      waited('completed');
    } catch (err) {
      waited('aborted');
      const reason = isTandemError(err) || err instanceof Error ? err.message : String(err);
      const restored = await this.deps.registry.update(name, (rec) => ({ ...rec, failoverState: rec.activeRegion === this.local ? 'normal' : rec.failoverState }));
      await this.publish(restored.id).catch((e: unknown) => this.deps.log.warn({ err: e, namespace: name }, 'could not publish the aborted handover'));
      const message = `Graceful failover of namespace ${name} to ${toRegion} aborted: ${reason}. It is active in ${restored.activeRegion} again (NORMAL); retry, or force it.`;
      await audit(restored, 'aborted', message);
      this.deps.log.warn({ namespace: name, from: this.local, to: toRegion, reason }, 'graceful failover aborted');
      throw apiError('DEADLINE_EXCEEDED', message);
    }
  }

  /** The forced failover's loss window; a measure that fails is logged, never blocks the switch. */
  private async lagAtSwitch(current: NamespaceRecord): Promise<ReplicationLag | undefined> {
    if (!this.deps.measureLag || current.activeRegion === this.local) return undefined;
    try {
      const lag = await this.deps.measureLag(current.id, current.activeRegion);
      this.deps.log.warn({ namespace: current.name, from: current.activeRegion, lagTasks: lag.tasks, lagSeconds: lag.seconds, lagShardsUnknown: lag.shardsUnknown }, 'forced failover: replication lag at the switch');
      return lag;
    } catch (err) {
      this.deps.log.warn({ err, namespace: current.name }, 'forced failover: replication lag could not be measured');
      return undefined;
    }
  }

  private async switchTo(name: string, toRegion: string): Promise<NamespaceRecord> {
    const target = findRegion(this.deps.registry.regions(), toRegion);
    const switched = await this.deps.registry.update(name, (rec) => ({
      ...rec,
      activeRegion: toRegion,
      failoverVersion: nextFailoverVersion(rec.failoverVersion, target.initialFailoverVersion, target.failoverVersionIncrement),
      failoverState: 'normal',
    }));
    await this.publish(switched.id).catch((err: unknown) => this.deps.log.warn({ err, namespace: name }, 'could not publish the switch at once; writers see it on their next refresh'));
    return switched;
  }
}

function lagMessage(lag: ReplicationLag, from: string): string {
  const unknown = lag.shardsUnknown ? ` (${lag.shardsUnknown} shards not measured)` : '';
  return `replication lag at the switch: ${lag.tasks} tasks, ${lag.seconds.toFixed(3)} s not applied from ${from}${unknown}`;
}

/** The wait, or a rejection at the deadline, whichever comes first. */
function withDeadline(wait: Promise<void>, deadlineMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`replication did not catch up by the deadline`)), Math.max(0, deadlineMs - Date.now()));
  });
  return Promise.race([wait, expired]).finally(() => clearTimeout(timer));
}
