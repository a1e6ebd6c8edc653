// Identity replication: every pollIntervalMs, each connected remote region's whole identity set
// (users and keys are few: thousands, not millions) is read and each record stored here when its
// version is higher than ours, so a key created, disabled or deleted in one region acts the same
// in every region within a poll plus the authorizer's cache time. Reading the whole set (rather
// than a queue) needs no positions and heals any gap by itself. A remote that cannot be reached is
// retried at the next poll and never holds up the others.
import * as grpc from '@grpc/grpc-js';
import type { Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { RegionPoller, type RemoteRegion } from '../common/region-poller.js';
import type { IdentityKind, IdentityStore } from '../persistence/identity-store.js';
import type { ClusterMetadata } from '../namespaces/cluster-metadata.js';
import { IdentityReplicationServiceClient, type ReadIdentitiesResponse } from '../../proto/gen/tandem/admin/v1/identity.js';

export interface IdentityReplicationConfig {
  pollIntervalMs: number;
  callTimeoutMs: number;
}

export const identityReplicationDefaults: IdentityReplicationConfig = { pollIntervalMs: 1_000, callTimeoutMs: 5_000 };

const KINDS: readonly IdentityKind[] = ['user', 'apikey'];

/** Per remote: whether its last read failed (only the first failure of a run is logged). */
interface ReadHealth {
  failing: boolean;
}
type Remote = RemoteRegion<IdentityReplicationServiceClient, ReadHealth>;

export class IdentityReplicator implements Service {
  private readonly poller: RegionPoller<IdentityReplicationServiceClient, ReadHealth>;

  constructor(
    private readonly deps: { store: IdentityStore; clusters: Pick<ClusterMetadata, 'remotes' | 'local'>; log: Logger; links?: grpc.ChannelCredentials },
    private readonly config: IdentityReplicationConfig = identityReplicationDefaults,
  ) {
    this.poller = new RegionPoller({
      client: IdentityReplicationServiceClient,
      links: deps.links,
      intervalMs: config.pollIntervalMs,
      pass: () => this.syncOnce(),
      initialState: () => ({ failing: false }),
    });
  }

  start(): Promise<void> {
    return this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** Reads every remote once; how many records it stored (tests wait on it). */
  async syncOnce(): Promise<number> {
    const counts = await Promise.all(this.deps.clusters.remotes().map((c) => this.pull(c.name, this.poller.remote(c.name, c.frontendAddress!))));
    return counts.reduce((a, b) => a + b, 0);
  }

  private async pull(region: string, remote: Remote): Promise<number> {
    let stored = 0;
    try {
      const page = await this.read(remote);
      for (const r of page.records) {
        const kind = KINDS.find((k) => k === r.kind);
        if (!kind || !r.id) continue;
        if (await this.deps.store.putIdentityIfNewer({ kind, id: r.id, version: r.version, body: r.body, updatedAtMs: Number(r.updatedAtMs) })) {
          stored++;
          this.deps.log.info({ from: region, kind, id: r.id }, 'replicated identity record applied');
        }
      }
      remote.state.failing = false;
    } catch (err) {
      // The first failure of a run says why; the rest stay quiet so an outage does not flood the log.
      if (!remote.state.failing) this.deps.log.warn({ err, region, address: remote.address }, 'identity replication read failed; retrying');
      remote.state.failing = true;
    }
    return stored;
  }

  private read(remote: Remote): Promise<ReadIdentitiesResponse> {
    return new Promise((resolve, reject) => {
      remote.client.readIdentities(
        { readerRegion: this.deps.clusters.local.name },
        new grpc.Metadata(),
        { deadline: Date.now() + this.config.callTimeoutMs },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
    });
  }
}
