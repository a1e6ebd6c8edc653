// Namespace lookups for the request path. Records change rarely (register, update, failover) and
// are read on every call, so they are cached: refreshed on a miss and on a short interval (other
// processes write them too), replaced at once when this process writes. Whoever must act on a
// change (history's queues re-run the tasks a passive namespace parked) subscribes with onChange.
//
// Global namespaces: every write of a global record first appends an entry to the namespace
// replication queue (same store, same logical step), then writes the record conditionally. Entry
// first, so no written record lacks an entry; an entry whose write then loses its race is
// harmless, because the queue is read with the records as they are at send time
// (replication-source.ts) and applying is idempotent by replication version (replication-version.ts).
import { randomUUID } from 'node:crypto';
import { apiError, apiErrorWithDetails } from '../common/errors.js';
import type { Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { ConditionFailedError, NamespaceAlreadyExistsError } from '../persistence/errors.js';
import type { ClusterMetadataStore } from '../persistence/cluster-store.js';
import type { NamespaceStore } from '../persistence/store.js';
import type { NamespaceRecord } from '../persistence/types.js';
import { checkReplicationMode, REPLICATION_MODE_KEY, type NamespaceExtraConfig } from './convert.js';
import { ClusterMetadata } from './cluster-metadata.js';
import { findRegion, validateRegionConfig, type RegionConfig } from './failover.js';
import { compareReplicationVersions, configVersionOf, replicationVersion, withConfigVersion } from './replication-version.js';

export interface NamespaceRegistryConfig {
  /** The region this process runs in; local namespaces are active here. */
  region: RegionConfig;
  /** Every region of the cluster (the local one included), for global namespaces. Default: [region]. */
  regions?: RegionConfig[];
  /** How often the whole cache is reloaded from the store. Default 2000. */
  refreshIntervalMs?: number;
  /** Retention of a namespace registered without one. Default 3 days. */
  defaultRetentionMs?: number;
}

export interface RegisterNamespaceInput {
  name: string;
  description?: string;
  ownerEmail?: string;
  data?: Record<string, string>;
  retentionMs?: number;
  isGlobal?: boolean;
  /** Global namespaces only; default: the local region. */
  activeRegion?: string;
  /** Global namespaces only; default: [activeRegion]. The active region is always included. */
  regions?: string[];
  extra?: NamespaceExtraConfig;
}

export interface NamespacePage {
  namespaces: NamespaceRecord[];
  /** Name of the last namespace of the page; undefined on the last page. */
  nextAfter?: string;
}

const MAX_NAME_LENGTH = 255;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const UPDATE_ATTEMPTS = 5;

function withDefaults(c: NamespaceRegistryConfig) {
  const region = validateRegionConfig(c.region);
  const regions = (c.regions ?? [region]).map(validateRegionConfig);
  if (!regions.some((r) => r.name === region.name)) regions.push(region);
  for (const r of regions) {
    if (r.failoverVersionIncrement !== region.failoverVersionIncrement) {
      throw new Error(`region ${r.name}: failoverVersionIncrement differs from ${region.name}'s`);
    }
  }
  const refreshIntervalMs = c.refreshIntervalMs ?? 2000;
  const defaultRetentionMs = c.defaultRetentionMs ?? 3 * 24 * 3600 * 1000;
  if (refreshIntervalMs <= 0) throw new Error('namespace registry: refreshIntervalMs must be > 0');
  if (defaultRetentionMs < 0) throw new Error('namespace registry: defaultRetentionMs must be >= 0');
  return { region, regions, refreshIntervalMs, defaultRetentionMs };
}

export function namespaceNotFound(name: string) {
  return apiErrorWithDetails(
    'NAMESPACE_NOT_FOUND',
    [{ typeName: 'temporal.api.errordetails.v1.NamespaceNotFoundFailure', value: { namespace: name } }],
    name,
  );
}

/** Told the record of a namespace this registry caches now, after it changed. */
export type NamespaceChangeListener = (rec: NamespaceRecord) => void;

/** What applying a record replicated from another region did. */
export type ApplyOutcome = 'created' | 'updated' | 'stale' | 'conflict';

export class NamespaceRegistry implements Service {
  readonly config: ReturnType<typeof withDefaults>;
  private byName = new Map<string, NamespaceRecord>();
  private byId = new Map<string, NamespaceRecord>();
  private readonly listeners = new Set<NamespaceChangeListener>();
  /** Every region this one knows: the topology's and those added at run time. */
  readonly clusters: ClusterMetadata;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;

  constructor(
    private readonly store: NamespaceStore,
    config: NamespaceRegistryConfig,
    private readonly log: Logger,
    /** Where global namespace writes are queued for other regions; without it nothing replicates (one region, tests). */
    private readonly clusterStore?: ClusterMetadataStore,
  ) {
    this.config = withDefaults(config);
    this.clusters = new ClusterMetadata(this.config.region, this.config.regions, clusterStore);
  }

  /** Every known region (topology and run-time additions), the local one included. */
  regions(): RegionConfig[] {
    return this.clusters.regions();
  }

  get localRegion(): string {
    return this.config.region.name;
  }

  async start(): Promise<void> {
    await Promise.all([this.refresh(), this.clusters.refresh()]);
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.log.warn({ err }, 'namespace cache refresh failed'));
      this.clusters.refresh().catch((err: unknown) => this.log.warn({ err }, 'cluster metadata refresh failed'));
    }, this.config.refreshIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.refreshing?.catch(() => undefined);
  }

  /**
   * Calls listener with the new record each time the cache takes a newer notification version of a
   * namespace (a write of this process, or a row another process wrote, seen by a refresh or a
   * miss) or a namespace it did not know. Returns the unsubscribe.
   */
  onChange(listener: NamespaceChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reloads every namespace; concurrent callers share one load. */
  refresh(): Promise<void> {
    this.refreshing ??= this.store
      .listNamespaces()
      .then((all) => {
        // A write of this process may have landed after the load read its row: keep the newer one.
        const changed: NamespaceRecord[] = [];
        const fresh = all.map((n) => {
          if (!this.isNewer(n)) return this.byId.get(n.id)!;
          changed.push(n);
          return n;
        });
        this.byName = new Map(fresh.map((n) => [n.name, n]));
        this.byId = new Map(fresh.map((n) => [n.id, n]));
        for (const rec of changed) this.notify(rec);
      })
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /**
   * Reads one namespace from the store now, so the cache (and every onChange listener) is current
   * for it without waiting for the next refresh: a failover that just switched it uses this.
   */
  async refreshNamespace(id: string): Promise<NamespaceRecord> {
    const rec = await this.store.getNamespaceById(id);
    if (!rec) throw namespaceNotFound(id);
    this.remember(rec);
    return this.byId.get(id)!;
  }

  async getByName(name: string): Promise<NamespaceRecord | null> {
    const hit = this.byName.get(name);
    if (hit) return hit;
    const rec = await this.store.getNamespaceByName(name);
    if (rec) this.remember(rec);
    return rec;
  }

  async getById(id: string): Promise<NamespaceRecord | null> {
    const hit = this.byId.get(id);
    if (hit) return hit;
    const rec = await this.store.getNamespaceById(id);
    if (rec) this.remember(rec);
    return rec;
  }

  /** The namespace, or NOT_FOUND with NamespaceNotFoundFailure; deleted namespaces do not exist. */
  async requireByName(name: string): Promise<NamespaceRecord> {
    const rec = await this.getByName(name);
    if (!rec || rec.state === 'deleted') throw namespaceNotFound(name);
    return rec;
  }

  async requireById(id: string): Promise<NamespaceRecord> {
    const rec = await this.getById(id);
    if (!rec || rec.state === 'deleted') throw namespaceNotFound(id);
    return rec;
  }

  async register(input: RegisterNamespaceInput): Promise<NamespaceRecord> {
    const name = input.name;
    if (!name) throw apiError('REQUIRED', 'Namespace');
    if (name.length > MAX_NAME_LENGTH) throw apiError('TOO_LONG', 'Namespace', MAX_NAME_LENGTH);
    if (!NAME_PATTERN.test(name)) {
      throw apiError('INVALID_ARGUMENT', `Namespace name ${JSON.stringify(name)} must match ${NAME_PATTERN.source}.`);
    }
    const retentionMs = input.retentionMs ?? this.config.defaultRetentionMs;
    if (retentionMs < 0) throw apiError('INVALID_ARGUMENT', 'WorkflowExecutionRetentionPeriod must not be negative.');

    const isGlobal = input.isGlobal ?? false;
    let activeRegion = this.config.region.name;
    let regions = [activeRegion];
    if (isGlobal) {
      activeRegion = input.activeRegion || activeRegion;
      regions = [...new Set([activeRegion, ...(input.regions ?? [])])];
      for (const r of regions) findRegion(this.regions(), r);
      // The record is created here and replicated from here: a region outside the list would
      // hold a namespace it does not serve, and the listed regions would never hear of it.
      if (!regions.includes(this.localRegion)) {
        throw apiError(
          'INVALID_ARGUMENT',
          `Namespace ${name}: register it in one of its clusters (${regions.join(', ')}); this is cluster ${this.localRegion}.`,
        );
      }
    } else if ((input.activeRegion && input.activeRegion !== activeRegion) || (input.regions ?? []).some((r) => r !== activeRegion)) {
      throw apiError('INVALID_ARGUMENT', `A local namespace lives in region ${activeRegion} only; register a global namespace to replicate it.`);
    }
    const rec: NamespaceRecord = withConfigVersion({
      id: randomUUID(),
      name,
      state: 'registered',
      description: input.description ?? '',
      ownerEmail: input.ownerEmail ?? '',
      data: { ...(input.data ?? {}) },
      retentionMs,
      isGlobal,
      activeRegion,
      regions,
      failoverVersion: findRegion(this.regions(), activeRegion).initialFailoverVersion,
      failoverState: 'normal',
      notificationVersion: 1n,
      config: JSON.stringify(input.extra ?? {}),
    }, 1n);
    checkReplicationMode(rec);
    try {
      // A taken name would leave an entry that never gets a record: refuse it before the entry.
      if (await this.store.getNamespaceByName(name)) throw new NamespaceAlreadyExistsError(name);
      await this.queueReplication(rec);
      await this.store.createNamespace(rec);
    } catch (err) {
      if (err instanceof NamespaceAlreadyExistsError) {
        throw apiErrorWithDetails(
          'NAMESPACE_ALREADY_EXISTS',
          [{ typeName: 'temporal.api.errordetails.v1.NamespaceAlreadyExistsFailure', value: {} }],
          name,
        );
      }
      throw err;
    }
    this.remember(rec);
    this.log.info({ namespace: name, id: rec.id, isGlobal, activeRegion }, 'namespace registered');
    return rec;
  }

  /**
   * Read-modify-write on the stored record, conditional on its notification version; a lost race
   * re-reads and re-applies `change`, which must therefore be a pure function of the record.
   */
  async update(name: string, change: (current: NamespaceRecord) => NamespaceRecord): Promise<NamespaceRecord> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.store.getNamespaceByName(name);
      if (!current || current.state === 'deleted') throw namespaceNotFound(name);
      const next: NamespaceRecord = withConfigVersion(
        { ...change(current), id: current.id, name: current.name, notificationVersion: current.notificationVersion + 1n },
        configVersionOf(current) + 1n,
      );
      // Checked only when it changes: a failover or a rename never fails on what was already stored.
      if (next.data[REPLICATION_MODE_KEY] !== current.data[REPLICATION_MODE_KEY]) checkReplicationMode(next);
      try {
        await this.queueReplication(next);
        await this.store.updateNamespace(next, current.notificationVersion);
      } catch (err) {
        if (err instanceof ConditionFailedError && attempt < UPDATE_ATTEMPTS) continue;
        throw err;
      }
      this.remember(next);
      return next;
    }
  }

  /**
   * Writes a record replicated from another region when it is newer (by replication version) than
   * the local one, keeping the local notification counter; creates it, with its id, when unknown.
   * 'conflict': another namespace holds its name here (registered locally before it arrived).
   */
  async applyReplicated(remote: Omit<NamespaceRecord, 'notificationVersion'>): Promise<ApplyOutcome> {
    for (let attempt = 1; ; attempt++) {
      const local = await this.store.getNamespaceById(remote.id);
      try {
        if (!local) {
          const holder = await this.store.getNamespaceByName(remote.name);
          if (holder) {
            this.log.error({ namespace: remote.name, id: remote.id, localId: holder.id }, 'replicated namespace clashes with a local one of the same name; not applied');
            return 'conflict';
          }
          const rec = { ...remote, notificationVersion: 1n };
          await this.store.createNamespace(rec);
          this.remember(rec);
          return 'created';
        }
        if (compareReplicationVersions(replicationVersion({ ...remote, notificationVersion: 0n }), replicationVersion(local)) <= 0) return 'stale';
        const rec = { ...remote, notificationVersion: local.notificationVersion + 1n };
        await this.store.updateNamespace(rec, local.notificationVersion);
        this.remember(rec);
        return 'updated';
      } catch (err) {
        // A local write or another applier won the race: read again and compare again.
        const raced = err instanceof ConditionFailedError || err instanceof NamespaceAlreadyExistsError;
        if (raced && attempt < UPDATE_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  /** Namespaces in name order after `after` (exclusive), at most pageSize of them. */
  async list(pageSize: number, after?: string, includeDeleted = false): Promise<NamespacePage> {
    await this.refresh();
    const all = [...this.byName.values()]
      .filter((n) => (includeDeleted || n.state !== 'deleted') && (after === undefined || n.name > after))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const namespaces = all.slice(0, pageSize);
    return { namespaces, nextAfter: all.length > pageSize ? namespaces[namespaces.length - 1]!.name : undefined };
  }

  /** The queue entry of a global record's write, appended before the write (see the header). */
  private async queueReplication(rec: NamespaceRecord): Promise<void> {
    if (!rec.isGlobal || !this.clusterStore) return;
    const { failoverVersion, configVersion } = replicationVersion(rec);
    await this.clusterStore.appendNamespaceReplication({ namespaceId: rec.id, failoverVersion, configVersion, createdAtMs: Date.now() });
  }

  private isNewer(rec: NamespaceRecord): boolean {
    const cached = this.byId.get(rec.id);
    return !cached || cached.notificationVersion < rec.notificationVersion;
  }

  private remember(rec: NamespaceRecord): void {
    if (!this.isNewer(rec)) return;
    this.byName.set(rec.name, rec);
    this.byId.set(rec.id, rec);
    this.notify(rec);
  }

  /** A listener that throws is logged: it must not stop the others, nor the refresh or the write. */
  private notify(rec: NamespaceRecord): void {
    for (const listener of this.listeners) {
      try {
        listener(rec);
      } catch (err) {
        this.log.error({ err, namespace: rec.name }, 'namespace change listener failed');
      }
    }
  }
}
