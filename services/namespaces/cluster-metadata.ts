// The regions this region knows: the topology's (fixed at start) merged with the remote clusters
// an operator added at run time (OperatorService.AddOrUpdateRemoteCluster, stored, so every
// process of the region and every restart sees them). A stored row of a topology region overrides
// its frontend address and whether it is connected; its failover versions must match.
import { apiError } from '../common/errors.js';
import type { ClusterMetadataStore, RemoteClusterRecord } from '../persistence/cluster-store.js';
import { validateRegionConfig, type RegionConfig } from './failover.js';

export interface ClusterView extends RegionConfig {
  /** Empty for a topology region: its name is its id. */
  clusterId: string;
  /** false: known but not connected (nothing forwarded to it, nothing replicated from it). */
  enabled: boolean;
  /** Known for regions added at run time (read from them); undefined for the topology's. */
  historyShardCount?: number;
  source: 'topology' | 'operator';
}

export class ClusterMetadata {
  private stored: RemoteClusterRecord[] = [];

  constructor(
    readonly local: RegionConfig,
    private readonly topology: RegionConfig[],
    private readonly store?: ClusterMetadataStore,
  ) {}

  /** Every known region, the local one included, topology order first. */
  clusters(): ClusterView[] {
    const byName = new Map<string, ClusterView>();
    for (const r of this.topology) byName.set(r.name, { ...r, clusterId: '', enabled: true, source: 'topology' });
    for (const s of this.stored) {
      const base = byName.get(s.name);
      byName.set(s.name, {
        name: s.name,
        initialFailoverVersion: s.initialFailoverVersion,
        failoverVersionIncrement: s.failoverVersionIncrement,
        frontendAddress: s.frontendAddress,
        clusterId: s.clusterId,
        enabled: s.enabled,
        historyShardCount: s.historyShardCount,
        source: base?.source ?? 'operator',
      });
    }
    return [...byName.values()];
  }

  regions(): RegionConfig[] {
    return this.clusters().map(({ name, initialFailoverVersion, failoverVersionIncrement, frontendAddress }) => ({
      name,
      initialFailoverVersion,
      failoverVersionIncrement,
      frontendAddress,
    }));
  }

  /** The connected regions other than this one that have a frontend address: whom to read from. */
  remotes(): ClusterView[] {
    return this.clusters().filter((c) => c.name !== this.local.name && c.enabled && c.frontendAddress);
  }

  async refresh(): Promise<void> {
    if (this.store) this.stored = await this.store.listRemoteClusters();
  }

  /**
   * Adds or updates a remote region after checking it can share namespaces with this one: the same
   * failover version increment, a residue no other region holds, the topology's residue for a
   * topology region. The caller checked the shard count (it reads it from the remote).
   */
  async addOrUpdate(rec: RemoteClusterRecord): Promise<void> {
    if (!this.store) throw apiError('FAILED_PRECONDITION', 'This region keeps no cluster metadata store.');
    if (rec.name === this.local.name) throw apiError('INVALID_ARGUMENT', `Cluster ${rec.name} is this cluster, not a remote one.`);
    if (rec.failoverVersionIncrement !== this.local.failoverVersionIncrement) {
      throw apiError(
        'INVALID_ARGUMENT',
        `Cluster ${rec.name} has failover version increment ${rec.failoverVersionIncrement}; this cluster's is ${this.local.failoverVersionIncrement}.`,
      );
    }
    try {
      validateRegionConfig(rec);
    } catch (err) {
      throw apiError('INVALID_ARGUMENT', (err as Error).message);
    }
    const clash = this.clusters().find((c) => c.name !== rec.name && c.initialFailoverVersion === rec.initialFailoverVersion);
    if (clash) {
      throw apiError('INVALID_ARGUMENT', `Cluster ${rec.name}'s initial failover version ${rec.initialFailoverVersion} is cluster ${clash.name}'s already.`);
    }
    const known = this.topology.find((r) => r.name === rec.name);
    if (known && known.initialFailoverVersion !== rec.initialFailoverVersion) {
      throw apiError(
        'INVALID_ARGUMENT',
        `Cluster ${rec.name} reports initial failover version ${rec.initialFailoverVersion}; the topology says ${known.initialFailoverVersion}.`,
      );
    }
    await this.store.upsertRemoteCluster(rec);
    await this.refresh();
  }

  /** Forgets a region added at run time; the topology's regions stay (edit the topology instead). */
  async remove(name: string): Promise<void> {
    if (!this.store) throw apiError('FAILED_PRECONDITION', 'This region keeps no cluster metadata store.');
    if (name === this.local.name) throw apiError('INVALID_ARGUMENT', `Cluster ${name} is this cluster; it cannot be removed.`);
    if (this.topology.some((r) => r.name === name)) {
      throw apiError('INVALID_ARGUMENT', `Cluster ${name} comes from the topology; remove it there.`);
    }
    await this.refresh();
    if (!this.stored.some((s) => s.name === name)) throw apiError('CLUSTER_NOT_FOUND', name);
    await this.store.deleteRemoteCluster(name);
    await this.refresh();
  }
}
