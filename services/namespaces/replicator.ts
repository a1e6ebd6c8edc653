// The receiving side of namespace replication: every region reads each connected remote region's
// namespace replication queue from its last applied position (persisted per remote region), over
// the remote frontend's NamespaceReplicationService, and applies the records that are newer than
// its own (registry.applyReplicated). A remote that cannot be reached is retried with backoff and
// never holds up the others; its position only moves once the entries up to it are applied.
import * as grpc from '@grpc/grpc-js';
import type { Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { RegionPoller, type RemoteRegion } from '../common/region-poller.js';
import type { ClusterMetadataStore } from '../persistence/cluster-store.js';
import {
  NamespaceReplicationServiceClient,
  type ReadNamespaceReplicationResponse,
} from '../../proto/gen/tandem/admin/v1/namespace_replication.js';
import { namespaceReplicationDefaults, withPositiveDefaults, type NamespaceReplicationConfig } from './config.js';
import { fromWireRecord } from './record-wire.js';
import type { NamespaceRegistry } from './registry.js';

export interface NamespaceReplicatorDeps {
  registry: NamespaceRegistry;
  positions: Pick<ClusterMetadataStore, 'getReplicationPosition' | 'setReplicationPosition'>;
  log: Logger;
  /** Tells the region's other processes (history nodes) of an applied record at once; optional. */
  publish?: (namespaceId: string) => Promise<void>;
  config?: Partial<NamespaceReplicationConfig>;
  /** How this region reaches other regions' frontends; default plaintext. */
  links?: grpc.ChannelCredentials;
}

/** Per remote: consecutive failed reads, and when the next read may go. */
interface Backoff {
  failures: number;
  retryAtMs: number;
}
type Remote = RemoteRegion<NamespaceReplicationServiceClient, Backoff>;

export class NamespaceReplicator implements Service {
  readonly config: NamespaceReplicationConfig;
  private readonly poller: RegionPoller<NamespaceReplicationServiceClient, Backoff>;

  constructor(private readonly deps: NamespaceReplicatorDeps) {
    this.config = withPositiveDefaults('namespace replicator', namespaceReplicationDefaults, deps.config);
    this.poller = new RegionPoller({
      client: NamespaceReplicationServiceClient,
      links: deps.links,
      intervalMs: this.config.pollIntervalMs,
      pass: () => this.syncOnce(),
      initialState: () => ({ failures: 0, retryAtMs: 0 }),
    });
  }

  start(): Promise<void> {
    return this.poller.start();
  }

  /** Ends the loop after the read or apply in progress, then closes the clients. */
  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** Reads every remote until it has nothing new; what one pass applied (tests wait on it). */
  async syncOnce(): Promise<number> {
    const now = Date.now();
    const counts = await Promise.all(
      this.deps.registry.clusters.remotes().map((c) => {
        const remote = this.poller.remote(c.name, c.frontendAddress!);
        return remote.state.retryAtMs > now ? 0 : this.drain(c.name, remote);
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  private async drain(region: string, remote: Remote): Promise<number> {
    const { state } = remote;
    let applied = 0;
    try {
      for (;;) {
        const after = await this.deps.positions.getReplicationPosition(region);
        const page = await this.read(remote, after);
        for (const e of page.entries) {
          if (!e.namespace) continue;
          const outcome = await this.deps.registry.applyReplicated(fromWireRecord(e.namespace));
          if (outcome === 'created' || outcome === 'updated') {
            applied++;
            this.deps.log.info({ from: region, namespace: e.namespace.name, seq: e.sequence, outcome }, 'replicated namespace applied');
            await this.deps.publish?.(e.namespace.id).catch((err: unknown) => this.deps.log.warn({ err, namespace: e.namespace!.name }, 'publish failed'));
          }
        }
        if (page.lastSequence <= after) break;
        await this.deps.positions.setReplicationPosition(region, page.lastSequence);
      }
      state.failures = 0;
      state.retryAtMs = 0;
    } catch (err) {
      state.failures++;
      const backoff = Math.min(this.config.retryBackoffMs * 2 ** (state.failures - 1), this.config.maxRetryBackoffMs);
      state.retryAtMs = Date.now() + backoff;
      // The first failure of a run says why; the rest only count, so an outage does not flood the log.
      if (state.failures === 1) this.deps.log.warn({ err, region, address: remote.address, backoffMs: backoff }, 'namespace replication read failed; retrying');
    }
    return applied;
  }

  private read(remote: Remote, after: bigint): Promise<ReadNamespaceReplicationResponse> {
    return new Promise((resolve, reject) => {
      remote.client.readNamespaceReplication(
        { afterSequence: after, maxEntries: this.config.batchSize, readerRegion: this.deps.registry.localRegion },
        new grpc.Metadata(),
        { deadline: Date.now() + this.config.callTimeoutMs },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
    });
  }
}
