// Cluster-level records a region keeps beside its namespaces: the remote clusters an operator
// added at run time (merged with the topology's), the namespace replication queue other regions
// read, how far this region has applied each remote's queue, and the failover audit log.
import type { Int64 } from './types.js';

/** A region added with OperatorService.AddOrUpdateRemoteCluster (the topology's need no row). */
export interface RemoteClusterRecord {
  name: string;
  clusterId: string;
  /** host:port of its frontend. */
  frontendAddress: string;
  initialFailoverVersion: Int64;
  failoverVersionIncrement: Int64;
  historyShardCount: number;
  /** false: known but not connected (no forwarding, no replication from it). */
  enabled: boolean;
  updatedAtMs: number;
}

/**
 * One change of a global namespace record: which namespace, and the replication version the
 * change gave it. The record itself is read when the entry is sent, so an entry whose record
 * write lost its race carries nothing stale (see services/namespaces/replication-queue.ts).
 */
export interface NamespaceReplicationEntry {
  /** Position in this region's queue: 1, 2, 3... assigned by the append. */
  seq: Int64;
  namespaceId: string;
  failoverVersion: Int64;
  configVersion: Int64;
  createdAtMs: number;
}

export interface FailoverAuditEntry {
  namespace: string;
  namespaceId: string;
  fromRegion: string;
  toRegion: string;
  fromVersion: Int64;
  /** The version after the switch; fromVersion when the failover was aborted. */
  toVersion: Int64;
  mode: 'graceful' | 'forced';
  outcome: 'completed' | 'aborted';
  /** Who asked (the request's identity, the CLI user, the controller). */
  identity: string;
  /** Why it was aborted, or the operator's reason; may be empty. */
  message: string;
  startedAtMs: number;
  finishedAtMs: number;
  /** A forced failover's replication lag at the switch, when it was measured (tasks, seconds). */
  lagTasks?: number;
  lagSeconds?: number;
}

export interface ClusterMetadataStore {
  /** Inserts or replaces the row of c.name. */
  upsertRemoteCluster(c: RemoteClusterRecord): Promise<void>;
  /** Deleting an unknown name is a no-op. */
  deleteRemoteCluster(name: string): Promise<void>;
  listRemoteClusters(): Promise<RemoteClusterRecord[]>;
  /** Appends at the next position (one more than the last, 1 for the first) and returns it. */
  appendNamespaceReplication(entry: Omit<NamespaceReplicationEntry, 'seq'>): Promise<Int64>;
  /** Entries with seq > afterSeq in seq order, at most limit. */
  readNamespaceReplication(afterSeq: Int64, limit: number): Promise<NamespaceReplicationEntry[]>;
  /** The last seq of remoteRegion's queue applied here; 0 when none. */
  getReplicationPosition(remoteRegion: string): Promise<Int64>;
  setReplicationPosition(remoteRegion: string, seq: Int64): Promise<void>;
  appendFailoverAudit(entry: FailoverAuditEntry): Promise<void>;
  /** Newest first (by startedAtMs), only namespace's when given, at most limit. */
  listFailoverAudit(namespace: string | undefined, limit: number): Promise<FailoverAuditEntry[]>;
}
