// What a region's frontend process adds for global namespaces, built in one place so every
// process main wires it the same way: the failover coordinator (for UpdateNamespace and
// tandem.admin.v1.FailoverService), the replicator reading the other regions' namespace queues,
// and the admin services other regions and operators call on the frontend's port.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import type { Registry } from '../common/metrics.js';
import type { Persistence } from '../persistence/store.js';
import { failoverService, namespaceReplicationService, type AdminService } from './admin-service.js';
import { namespaceReplicationDefaults, type FailoverConfig, type NamespaceReplicationConfig } from './config.js';
import { failoverAuditService } from './failover-audit-service.js';
import { NamespaceFailoverCoordinator, type MeasureReplicationLag, type WaitForReplication } from './failover-coordinator.js';
import type { NamespaceRegistry } from './registry.js';
import { NamespaceReplicationSource } from './replication-source.js';
import { NamespaceReplicator } from './replicator.js';

export interface GlobalNamespaceServicesDeps {
  registry: NamespaceRegistry;
  store: Persistence;
  log: Logger;
  /** The process's registry (tandem_failover*). */
  metrics?: Registry;
  /** The graceful failover's wait for replication acks (replication/ provides it). */
  waitForReplication: WaitForReplication;
  /** Tells the region's history nodes of a namespace change at once (HistoryApi.refreshNamespace). */
  publish?: (namespaceId: string) => Promise<void>;
  /** A forced failover's loss window, as this region's replication receivers know it. */
  measureLag?: MeasureReplicationLag;
  replication?: Partial<NamespaceReplicationConfig>;
  failover?: Partial<FailoverConfig>;
  /** How this region reaches other regions' frontends; default plaintext. */
  links?: grpc.ChannelCredentials;
}

export function globalNamespaceServices(deps: GlobalNamespaceServicesDeps) {
  const { registry, store, log, publish } = deps;
  const coordinator = new NamespaceFailoverCoordinator({
    registry,
    audit: store.clusterMetadata,
    log: log.child({ component: 'failover' }),
    waitForReplication: deps.waitForReplication,
    publish,
    measureLag: deps.measureLag,
    metrics: deps.metrics,
    config: deps.failover,
  });
  const replicator = new NamespaceReplicator({
    registry,
    positions: store.clusterMetadata,
    log: log.child({ component: 'namespace-replication' }),
    publish,
    config: deps.replication,
    links: deps.links,
  });
  const grace = deps.replication?.pendingWriteGraceMs ?? namespaceReplicationDefaults.pendingWriteGraceMs;
  const source = new NamespaceReplicationSource(store.namespaces, store.clusterMetadata, grace);
  const adminServices: AdminService[] = [
    namespaceReplicationService(source, log),
    failoverService(coordinator, log),
    failoverAuditService(store.clusterMetadata, registry.localRegion, log),
  ];
  return { coordinator, replicator, adminServices };
}
