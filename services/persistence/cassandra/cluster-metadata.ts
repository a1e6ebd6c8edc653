import cassandra from 'cassandra-driver';
import { ConditionFailedError } from '../errors.js';
import type { ClusterMetadataStore, FailoverAuditEntry, NamespaceReplicationEntry, RemoteClusterRecord } from '../cluster-store.js';
import type { Int64 } from '../types.js';
import { Db, SERIAL, big, num, type Row } from './db.js';

const PARTITION = 0;
/** Appenders racing for one seq retry; more than this many losses in a row is not a race. */
const APPEND_ATTEMPTS = 20;
const AUDIT_FIELDS = 'namespace, namespace_id, from_region, to_region, from_version, to_version, mode, outcome, identity, message, started_at, finished_at, lag_tasks, lag_seconds';

export class CassandraClusterMetadataStore implements ClusterMetadataStore {
  constructor(private readonly db: Db) {}

  async upsertRemoteCluster(c: RemoteClusterRecord): Promise<void> {
    await this.db.execute(
      `INSERT INTO ${this.db.t('remote_clusters')} (name, cluster_id, frontend_address, initial_failover_version, failover_version_increment, history_shard_count, enabled, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [c.name, c.clusterId, c.frontendAddress, c.initialFailoverVersion, c.failoverVersionIncrement, c.historyShardCount, c.enabled, BigInt(c.updatedAtMs)],
    );
  }

  async deleteRemoteCluster(name: string): Promise<void> {
    await this.db.execute(`DELETE FROM ${this.db.t('remote_clusters')} WHERE name = ?`, [name]);
  }

  async listRemoteClusters(): Promise<RemoteClusterRecord[]> {
    const rows = await this.db.all(`SELECT * FROM ${this.db.t('remote_clusters')}`);
    return rows
      .map((r) => ({
        name: r.get('name') as string,
        clusterId: (r.get('cluster_id') as string | null) ?? '',
        frontendAddress: (r.get('frontend_address') as string | null) ?? '',
        initialFailoverVersion: big(r.get('initial_failover_version')),
        failoverVersionIncrement: big(r.get('failover_version_increment')),
        historyShardCount: (r.get('history_shard_count') as number | null) ?? 0,
        enabled: Boolean(r.get('enabled')),
        updatedAtMs: num(r.get('updated_at')),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async appendNamespaceReplication(entry: Omit<NamespaceReplicationEntry, 'seq'>): Promise<Int64> {
    for (let attempt = 1; attempt <= APPEND_ATTEMPTS; attempt++) {
      // A serial read sees every applied LWT insert, so last + 1 is free unless someone takes it now.
      const last = await this.db.first(`SELECT seq FROM ${this.db.t('namespace_replication')} WHERE partition = ? ORDER BY seq DESC LIMIT 1`, [PARTITION], SERIAL);
      const seq = (last ? big(last.get('seq')) : 0n) + 1n;
      const rs = await this.db.execute(
        `INSERT INTO ${this.db.t('namespace_replication')} (partition, seq, namespace_id, failover_version, config_version, created_at) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
        [PARTITION, seq, entry.namespaceId, entry.failoverVersion, entry.configVersion, BigInt(entry.createdAtMs)],
      );
      if (rs.wasApplied()) return seq;
    }
    throw new ConditionFailedError(`namespace replication queue: lost the race for a position ${APPEND_ATTEMPTS} times`);
  }

  async readNamespaceReplication(afterSeq: Int64, limit: number): Promise<NamespaceReplicationEntry[]> {
    const rows = await this.db.execute(
      `SELECT seq, namespace_id, failover_version, config_version, created_at FROM ${this.db.t('namespace_replication')} WHERE partition = ? AND seq > ? ORDER BY seq LIMIT ?`,
      [PARTITION, afterSeq, limit],
      SERIAL,
    );
    return rows.rows.map((r) => ({
      seq: big(r.get('seq')),
      namespaceId: r.get('namespace_id') as string,
      failoverVersion: big(r.get('failover_version')),
      configVersion: big(r.get('config_version')),
      createdAtMs: num(r.get('created_at')),
    }));
  }

  async getReplicationPosition(remoteRegion: string): Promise<Int64> {
    const row = await this.db.first(`SELECT seq FROM ${this.db.t('replication_positions')} WHERE remote_region = ?`, [remoteRegion]);
    return row ? big(row.get('seq')) : 0n;
  }

  async setReplicationPosition(remoteRegion: string, seq: Int64): Promise<void> {
    await this.db.execute(`INSERT INTO ${this.db.t('replication_positions')} (remote_region, seq) VALUES (?, ?)`, [remoteRegion, seq]);
  }

  async appendFailoverAudit(e: FailoverAuditEntry): Promise<void> {
    await this.db.execute(`INSERT INTO ${this.db.t('failover_audit')} (partition, id, ${AUDIT_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      PARTITION,
      cassandra.types.TimeUuid.now(),
      e.namespace,
      e.namespaceId,
      e.fromRegion,
      e.toRegion,
      e.fromVersion,
      e.toVersion,
      e.mode,
      e.outcome,
      e.identity,
      e.message,
      BigInt(e.startedAtMs),
      BigInt(e.finishedAtMs),
      e.lagTasks === undefined ? null : BigInt(e.lagTasks),
      e.lagSeconds ?? null,
    ]);
  }

  async listFailoverAudit(namespace: string | undefined, limit: number): Promise<FailoverAuditEntry[]> {
    // One partition read newest first; the log is small (one row per failover), so filter here.
    const out: FailoverAuditEntry[] = [];
    for await (const r of this.db.rows(`SELECT ${AUDIT_FIELDS} FROM ${this.db.t('failover_audit')} WHERE partition = ?`, [PARTITION])) {
      if (namespace !== undefined && r.get('namespace') !== namespace) continue;
      out.push(toAudit(r));
      if (out.length >= limit) break;
    }
    return out;
  }
}

function toAudit(r: Row): FailoverAuditEntry {
  return {
    namespace: r.get('namespace') as string,
    namespaceId: r.get('namespace_id') as string,
    fromRegion: r.get('from_region') as string,
    toRegion: r.get('to_region') as string,
    fromVersion: big(r.get('from_version')),
    toVersion: big(r.get('to_version')),
    mode: r.get('mode') as FailoverAuditEntry['mode'],
    outcome: r.get('outcome') as FailoverAuditEntry['outcome'],
    identity: (r.get('identity') as string | null) ?? '',
    message: (r.get('message') as string | null) ?? '',
    startedAtMs: num(r.get('started_at')),
    finishedAtMs: num(r.get('finished_at')),
    ...(r.get('lag_tasks') !== null && { lagTasks: num(r.get('lag_tasks')) }),
    ...(r.get('lag_seconds') !== null && { lagSeconds: r.get('lag_seconds') as number }),
  };
}
