// Namespaces: the record lives in one partition (`namespaces`, keyed by name) so the list is one
// read; `namespaces_by_id` claims the id. The two claims cannot share a batch (two partitions),
// so create claims the id first and gives it back when the name turns out to be taken.
import { ConditionFailedError, NamespaceAlreadyExistsError } from '../errors.js';
import type { NamespaceStore } from '../store.js';
import type { Int64, NamespaceRecord } from '../types.js';
import { Db, big, num, type Row } from './db.js';

const PARTITION = 0;
const FIELDS = 'id, state, description, owner_email, data, retention_ms, is_global, active_region, regions, failover_version, failover_state, notification_version, config';

export class CassandraNamespaceStore implements NamespaceStore {
  constructor(private readonly db: Db) {}

  async createNamespace(ns: NamespaceRecord): Promise<void> {
    const claim = await this.db.execute(`INSERT INTO ${this.db.t('namespaces_by_id')} (id, name) VALUES (?, ?) IF NOT EXISTS`, [ns.id, ns.name]);
    if (!claim.wasApplied()) throw new NamespaceAlreadyExistsError(ns.name);
    const insert = await this.db.execute(
      `INSERT INTO ${this.db.t('namespaces')} (partition, name, ${FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      [PARTITION, ns.name, ...values(ns)],
    );
    if (!insert.wasApplied()) {
      await this.db.execute(`DELETE FROM ${this.db.t('namespaces_by_id')} WHERE id = ? IF name = ?`, [ns.id, ns.name]);
      throw new NamespaceAlreadyExistsError(ns.name);
    }
  }

  async getNamespaceByName(name: string): Promise<NamespaceRecord | null> {
    const row = await this.db.first(`SELECT name, ${FIELDS} FROM ${this.db.t('namespaces')} WHERE partition = ? AND name = ?`, [PARTITION, name]);
    return row ? toNamespace(row) : null;
  }

  async getNamespaceById(id: string): Promise<NamespaceRecord | null> {
    const byId = await this.db.first(`SELECT name FROM ${this.db.t('namespaces_by_id')} WHERE id = ?`, [id]);
    if (!byId) return null;
    const ns = await this.getNamespaceByName(byId.get('name') as string);
    // A create that lost the name race leaves its id claim for a moment; it is not a namespace.
    return ns && ns.id === id ? ns : null;
  }

  async listNamespaces(): Promise<NamespaceRecord[]> {
    const rows = await this.db.all(`SELECT name, ${FIELDS} FROM ${this.db.t('namespaces')} WHERE partition = ?`, [PARTITION]);
    return rows.map(toNamespace);
  }

  async updateNamespace(ns: NamespaceRecord, expectedNotificationVersion: Int64): Promise<void> {
    const rs = await this.db.execute(
      `UPDATE ${this.db.t('namespaces')} SET state = ?, description = ?, owner_email = ?, data = ?, retention_ms = ?, is_global = ?, active_region = ?, regions = ?, failover_version = ?, failover_state = ?, notification_version = ?, config = ? WHERE partition = ? AND name = ? IF id = ? AND notification_version = ?`,
      [...values(ns).slice(1), PARTITION, ns.name, ns.id, expectedNotificationVersion],
    );
    if (!rs.wasApplied()) {
      const row = rs.first();
      const found = row?.get('notification_version');
      throw new ConditionFailedError(
        found === null || found === undefined
          ? `namespace ${ns.name} (${ns.id}) does not exist`
          : `namespace ${ns.name} is at notification version ${big(found)}, writer expected ${expectedNotificationVersion}`,
      );
    }
  }
}

function values(ns: NamespaceRecord): unknown[] {
  return [
    ns.id,
    ns.state,
    ns.description,
    ns.ownerEmail,
    ns.data,
    BigInt(ns.retentionMs),
    ns.isGlobal,
    ns.activeRegion,
    ns.regions,
    ns.failoverVersion,
    ns.failoverState,
    ns.notificationVersion,
    ns.config,
  ];
}

function toNamespace(row: Row): NamespaceRecord {
  return {
    id: row.get('id') as string,
    name: row.get('name') as string,
    state: row.get('state') as NamespaceRecord['state'],
    description: (row.get('description') as string | null) ?? '',
    ownerEmail: (row.get('owner_email') as string | null) ?? '',
    data: (row.get('data') as Record<string, string> | null) ?? {},
    retentionMs: num(row.get('retention_ms')),
    isGlobal: Boolean(row.get('is_global')),
    activeRegion: (row.get('active_region') as string | null) ?? '',
    regions: (row.get('regions') as string[] | null) ?? [],
    failoverVersion: big(row.get('failover_version')),
    failoverState: row.get('failover_state') as NamespaceRecord['failoverState'],
    notificationVersion: big(row.get('notification_version')),
    config: (row.get('config') as string | null) ?? '',
  };
}
