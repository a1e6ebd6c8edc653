import type Database from 'better-sqlite3';
import type { ClusterMetadataStore, FailoverAuditEntry, NamespaceReplicationEntry, RemoteClusterRecord } from '../cluster-store.js';
import type { Int64 } from '../types.js';
import { num } from './codec.js';

interface RemoteClusterRow {
  name: string;
  cluster_id: string;
  frontend_address: string;
  initial_failover_version: bigint;
  failover_version_increment: bigint;
  history_shard_count: bigint;
  enabled: bigint;
  updated_at_ms: bigint;
}

interface EntryRow {
  seq: bigint;
  namespace_id: string;
  failover_version: bigint;
  config_version: bigint;
  created_at_ms: bigint;
}

interface AuditRow {
  namespace: string;
  namespace_id: string;
  from_region: string;
  to_region: string;
  from_version: bigint;
  to_version: bigint;
  mode: FailoverAuditEntry['mode'];
  outcome: FailoverAuditEntry['outcome'];
  identity: string;
  message: string;
  started_at_ms: bigint;
  finished_at_ms: bigint;
  lag_tasks: bigint | null;
  lag_seconds: number | null;
}

export class SqliteClusterMetadataStore implements ClusterMetadataStore {
  // Prepared on first use: a file opened at an older schema version (migration tests) has no
  // tables for them yet, and nothing else of the store needs them.
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  private prepare(key: string, sql: string, pluck = false): Database.Statement {
    let stmt = this.statements.get(key);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (pluck) stmt.pluck();
      this.statements.set(key, stmt);
    }
    return stmt;
  }

  private get upsertCluster(): Database.Statement {
    return this.prepare('upsertCluster', `INSERT OR REPLACE INTO remote_clusters (name, cluster_id, frontend_address, initial_failover_version,
       failover_version_increment, history_shard_count, enabled, updated_at_ms)
       VALUES (@name, @clusterId, @frontendAddress, @initialFailoverVersion, @failoverVersionIncrement,
       @historyShardCount, @enabled, @updatedAtMs)`);
  }

  private get deleteCluster(): Database.Statement {
    return this.prepare('deleteCluster', 'DELETE FROM remote_clusters WHERE name = ?');
  }

  private get selectClusters(): Database.Statement {
    return this.prepare('selectClusters', 'SELECT * FROM remote_clusters ORDER BY name');
  }

  // One statement: SQLite serializes writers, so max(seq) + 1 cannot be taken twice.
  private get insertEntry(): Database.Statement {
    return this.prepare('insertEntry', `INSERT INTO namespace_replication (seq, namespace_id, failover_version, config_version, created_at_ms)
       SELECT coalesce(max(seq), 0) + 1, @namespaceId, @failoverVersion, @configVersion, @createdAtMs FROM namespace_replication
       RETURNING seq`, true);
  }

  private get selectEntries(): Database.Statement {
    return this.prepare('selectEntries', 'SELECT * FROM namespace_replication WHERE seq > ? ORDER BY seq LIMIT ?');
  }

  private get selectPosition(): Database.Statement {
    return this.prepare('selectPosition', 'SELECT seq FROM replication_positions WHERE remote_region = ?', true);
  }

  private get upsertPosition(): Database.Statement {
    return this.prepare('upsertPosition', 'INSERT OR REPLACE INTO replication_positions (remote_region, seq) VALUES (?, ?)');
  }

  private get insertAudit(): Database.Statement {
    return this.prepare('insertAudit', `INSERT INTO failover_audit (namespace, namespace_id, from_region, to_region, from_version, to_version, mode, outcome,
       identity, message, started_at_ms, finished_at_ms, lag_tasks, lag_seconds)
       VALUES (@namespace, @namespaceId, @fromRegion, @toRegion, @fromVersion, @toVersion, @mode, @outcome, @identity,
       @message, @startedAtMs, @finishedAtMs, @lagTasks, @lagSeconds)`);
  }

  private get selectAudit(): Database.Statement {
    return this.prepare('selectAudit', 'SELECT * FROM failover_audit ORDER BY started_at_ms DESC, rowid DESC LIMIT ?');
  }

  private get selectAuditOf(): Database.Statement {
    return this.prepare('selectAuditOf', 'SELECT * FROM failover_audit WHERE namespace = ? ORDER BY started_at_ms DESC, rowid DESC LIMIT ?');
  }

  async upsertRemoteCluster(c: RemoteClusterRecord): Promise<void> {
    this.upsertCluster.run({ ...c, enabled: c.enabled ? 1 : 0 });
  }

  async deleteRemoteCluster(name: string): Promise<void> {
    this.deleteCluster.run(name);
  }

  async listRemoteClusters(): Promise<RemoteClusterRecord[]> {
    return (this.selectClusters.all() as RemoteClusterRow[]).map((r) => ({
      name: r.name,
      clusterId: r.cluster_id,
      frontendAddress: r.frontend_address,
      initialFailoverVersion: r.initial_failover_version,
      failoverVersionIncrement: r.failover_version_increment,
      historyShardCount: num(r.history_shard_count),
      enabled: r.enabled !== 0n,
      updatedAtMs: num(r.updated_at_ms),
    }));
  }

  async appendNamespaceReplication(entry: Omit<NamespaceReplicationEntry, 'seq'>): Promise<Int64> {
    return this.insertEntry.get(entry) as bigint;
  }

  async readNamespaceReplication(afterSeq: Int64, limit: number): Promise<NamespaceReplicationEntry[]> {
    return (this.selectEntries.all(afterSeq, limit) as EntryRow[]).map((r) => ({
      seq: r.seq,
      namespaceId: r.namespace_id,
      failoverVersion: r.failover_version,
      configVersion: r.config_version,
      createdAtMs: num(r.created_at_ms),
    }));
  }

  async getReplicationPosition(remoteRegion: string): Promise<Int64> {
    return (this.selectPosition.get(remoteRegion) as bigint | undefined) ?? 0n;
  }

  async setReplicationPosition(remoteRegion: string, seq: Int64): Promise<void> {
    this.upsertPosition.run(remoteRegion, seq);
  }

  async appendFailoverAudit(entry: FailoverAuditEntry): Promise<void> {
    this.insertAudit.run({ ...entry, lagTasks: entry.lagTasks ?? null, lagSeconds: entry.lagSeconds ?? null });
  }

  async listFailoverAudit(namespace: string | undefined, limit: number): Promise<FailoverAuditEntry[]> {
    const rows = (namespace === undefined ? this.selectAudit.all(limit) : this.selectAuditOf.all(namespace, limit)) as AuditRow[];
    return rows.map((r) => ({
      namespace: r.namespace,
      namespaceId: r.namespace_id,
      fromRegion: r.from_region,
      toRegion: r.to_region,
      fromVersion: r.from_version,
      toVersion: r.to_version,
      mode: r.mode,
      outcome: r.outcome,
      identity: r.identity,
      message: r.message,
      startedAtMs: num(r.started_at_ms),
      finishedAtMs: num(r.finished_at_ms),
      ...(r.lag_tasks !== null && { lagTasks: num(r.lag_tasks) }),
      ...(r.lag_seconds !== null && { lagSeconds: r.lag_seconds }),
    }));
  }
}
