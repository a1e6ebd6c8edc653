// Replication on one history node (DESIGN invariant 6): for every shard the node owns, a receiver
// per remote region (streams that region's tasks in) and the sender side other regions' receivers
// stream from; plus the region's replication DLQ. The process main passes it to HistoryService as
// a shard listener and serves `extraServices` on the frontend's port.
import type * as grpc from '@grpc/grpc-js';
import type { Service } from '../services/common/lifecycle.js';
import type { Logger } from '../services/common/logger.js';
import type { Registry } from '../services/common/metrics.js';
import type { ExtraService } from '../services/frontend/server.js';
import type { HistoryEngine } from '../services/history/engine.js';
import type { HistoryShardListener } from '../services/history/history-service.js';
import type { Shard } from '../services/history/shard.js';
import type { NamespaceRegistry } from '../services/namespaces/registry.js';
import type { Persistence } from '../services/persistence/store.js';
import { apiError } from '../services/common/errors.js';
import type { HistoryTask } from '../services/persistence/types.js';
import type { DlqEntry, DlqSelector, ListDlqResponse, MeasureLagResponse, PurgeDlqResponse, RetryDlqResponse } from '../proto/gen/tandem/replication/v1/replication.js';
import { replicationConfig, type ReplicationConfig } from './config.js';
import { ReplicationDlq } from './dlq.js';
import { replicationAdminService, replicationStreamService, type DlqAdmin, type LagAdmin } from './grpc-services.js';
import { replicationMetrics } from './metrics.js';
import { combineLag } from './receiver-lag.js';
import { SyncAcks } from './sync-acks.js';
import { SenderHub } from './sender-hub.js';
import { StreamClients } from './stream-clients.js';
import { StreamReceiver, type ReceiverDeps } from './stream-receiver.js';
import type { SenderCall } from './stream-sender.js';

export interface ReplicationDeps {
  store: Persistence;
  /** How this region reaches other regions' frontends (the receivers' streams); default plaintext. */
  links?: grpc.ChannelCredentials;

  /** Its config names the local region and every region (with their frontend addresses). */
  namespaces: NamespaceRegistry;
  numShards: number;
  logger: Logger;
  registry: Registry;
}

export class Replication implements Service, HistoryShardListener, DlqAdmin, LagAdmin {
  readonly config: ReplicationConfig;
  private readonly log: Logger;
  private readonly metrics;
  private readonly dlq: ReplicationDlq;
  private readonly clients: StreamClients;
  private engine?: HistoryEngine;
  private senders?: SenderHub;
  /** Receivers by shard id, one per remote region. */
  private readonly receivers = new Map<number, StreamReceiver[]>();
  private readonly stopping = new Set<Promise<void>>();
  private stopped = false;

  constructor(config: Partial<ReplicationConfig>, private readonly deps: ReplicationDeps) {
    this.config = replicationConfig(config);
    this.clients = new StreamClients(deps.links);
    const region = deps.namespaces.localRegion;
    this.log = deps.logger.child({ service: 'replication', region });
    this.metrics = replicationMetrics(deps.registry);
    this.dlq = new ReplicationDlq(deps.store, deps.numShards, region, this.metrics);
  }

  /** The engine of the node's HistoryService (which takes this as a shard listener, so it comes after). */
  attach(engine: HistoryEngine): void {
    this.engine = engine;
    const { store, namespaces } = this.deps;
    this.senders = new SenderHub({ engine, store, namespaces, config: this.config, metrics: this.metrics }, this.remoteRegions().map((r) => r.name));
    // Writes of sync namespaces are answered once the standbys' acks (which reach this node's senders) cover them.
    engine.useReplicationAcks(new SyncAcks());
  }

  /** Served on the frontend's port of an embedded region (this node owns every shard): the stream other regions open, and the admin API. */
  get extraServices(): ExtraService[] {
    return [replicationStreamService((call) => this.serve(call)), replicationAdminService(this, { measureLag: (ns, source) => this.measureRegionLag(ns, source) }, this.log)];
  }

  /** One StreamShard call of another region's receiver (on the frontend's port, or a node's own). */
  serve(call: SenderCall): void {
    this.requireSenders().serve(call);
  }

  async start(): Promise<void> {
    this.requireSenders();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const shardId of [...this.receivers.keys()]) this.stopReceivers(shardId);
    await this.senders?.stop();
    await Promise.all(this.stopping);
    this.clients.close();
  }

  onShardAcquired(shard: Shard): void {
    if (this.stopped) return;
    const senders = this.requireSenders();
    senders.shardAcquired(shard);
    const deps: ReceiverDeps = { engine: this.engine!, config: this.config, metrics: this.metrics, dlq: this.dlq, clients: this.clients, localRegion: this.deps.namespaces.localRegion };
    const receivers = this.remoteRegions()
      .filter((r) => r.frontendAddress)
      .map((r) => new StreamReceiver(deps, shard, r.name, r.frontendAddress!, shard.log.child({ component: 'replication-receiver', source: r.name })));
    this.receivers.set(shard.shardId, receivers);
    for (const r of receivers) r.start();
    void this.dlq.refreshGauge(shard.shardId).catch((err: unknown) => this.log.warn({ err }, 'reading the replication DLQ failed'));
  }

  onShardReleased(shard: Shard): void {
    this.stopReceivers(shard.shardId);
    this.senders?.shardReleased(shard);
  }

  onTasksCreated(shard: Shard, tasks: HistoryTask[]): void {
    this.senders?.tasksCreated(shard, tasks);
  }

  async listDlq(selector: DlqSelector | undefined, limit: number): Promise<ListDlqResponse> {
    return { entries: await this.dlq.list(selector, limit) };
  }

  /** Asks each entry's sender for its run again; an entry that applies leaves the DLQ. */
  async retryDlq(selector: DlqSelector | undefined): Promise<RetryDlqResponse> {
    let applied = 0;
    let failed = 0;
    for (const e of await this.dlq.list(selector, 10_000)) {
      const receiver = this.receivers.get(e.shardId)?.find((r) => r.source === e.sourceRegion);
      if (receiver && (await receiver.retry(keyOfEntry(e), Number(e.nextEventId)))) {
        await this.dlq.remove(e);
        applied++;
      } else failed++;
    }
    return { applied, failed };
  }

  async purgeDlq(selector: DlqSelector | undefined): Promise<PurgeDlqResponse> {
    const entries = await this.dlq.list(selector, 100_000);
    for (const e of entries) await this.dlq.remove(e);
    return { purged: entries.length };
  }

  /** The lag of namespaceId from sourceRegion over the shards this node owns (receiver-lag.ts). */
  async measureLag(namespaceId: string, sourceRegion: string): Promise<MeasureLagResponse> {
    if (!this.remoteRegions().some((r) => r.name === sourceRegion)) {
      throw apiError('INVALID_ARGUMENT', `source_region ${sourceRegion} is not a region this one replicates from.`);
    }
    const now = Date.now();
    const parts = [...this.receivers.values()].flat().filter((r) => r.source === sourceRegion).map((r) => r.lag.measure(namespaceId, now, this.config.heartbeatIntervalMs));
    return combineLag(parts);
  }

  /** The same, when this node is the region's only one: a shard it does not own right now is unknown. */
  async measureRegionLag(namespaceId: string, sourceRegion: string): Promise<MeasureLagResponse> {
    return combineLag([await this.measureLag(namespaceId, sourceRegion)], this.deps.numShards);
  }

  private stopReceivers(shardId: number): void {
    const receivers = this.receivers.get(shardId) ?? [];
    this.receivers.delete(shardId);
    for (const r of receivers) {
      const stopped = r.stop().finally(() => this.stopping.delete(stopped));
      this.stopping.add(stopped);
    }
  }

  private remoteRegions() {
    return this.deps.namespaces.config.regions.filter((r) => r.name !== this.deps.namespaces.localRegion);
  }

  private requireSenders(): SenderHub {
    if (!this.senders) throw new Error('replication: attach(engine) before start');
    return this.senders;
  }
}

function keyOfEntry(e: DlqEntry) {
  return { namespaceId: e.namespaceId, workflowId: e.workflowId, runId: e.runId };
}
