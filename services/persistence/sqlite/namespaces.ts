import type Database from 'better-sqlite3';
import { ConditionFailedError, NamespaceAlreadyExistsError } from '../errors.js';
import type { NamespaceStore } from '../store.js';
import type { NamespaceRecord, NamespaceState } from '../types.js';
import { isUniqueViolation, num, parseJson } from './codec.js';

interface NamespaceRow {
  id: string;
  name: string;
  state: NamespaceState;
  description: string;
  owner_email: string;
  data: string;
  retention_ms: bigint;
  is_global: bigint;
  active_region: string;
  regions: string;
  failover_version: bigint;
  failover_state: NamespaceRecord['failoverState'];
  notification_version: bigint;
  config: string;
}

const COLUMNS = `id, name, state, description, owner_email, data, retention_ms, is_global, active_region, regions,
  failover_version, failover_state, notification_version, config`;

export class SqliteNamespaceStore implements NamespaceStore {
  private readonly selectByName: Database.Statement;
  private readonly selectById: Database.Statement;
  private readonly selectAll: Database.Statement;
  private readonly selectClash: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly update: Database.Statement;
  private readonly createTx: Database.Transaction<(ns: NamespaceRecord) => void>;

  constructor(db: Database.Database) {
    this.selectByName = db.prepare(`SELECT ${COLUMNS} FROM namespaces WHERE name = ?`);
    this.selectById = db.prepare(`SELECT ${COLUMNS} FROM namespaces WHERE id = ?`);
    this.selectAll = db.prepare(`SELECT ${COLUMNS} FROM namespaces ORDER BY name`);
    this.selectClash = db.prepare('SELECT name FROM namespaces WHERE id = @id OR name = @name LIMIT 1').pluck();
    this.insert = db.prepare(
      `INSERT INTO namespaces (${COLUMNS}) VALUES (@id, @name, @state, @description, @ownerEmail, @data, @retentionMs,
       @isGlobal, @activeRegion, @regions, @failoverVersion, @failoverState, @notificationVersion, @config)`,
    );
    this.update = db.prepare(
      `UPDATE namespaces SET name = @name, state = @state, description = @description, owner_email = @ownerEmail,
       data = @data, retention_ms = @retentionMs, is_global = @isGlobal, active_region = @activeRegion, regions = @regions,
       failover_version = @failoverVersion, failover_state = @failoverState, notification_version = @notificationVersion,
       config = @config
       WHERE id = @id AND notification_version = @expectedNotificationVersion`,
    );
    this.createTx = db.transaction((ns: NamespaceRecord) => {
      const clash = this.selectClash.get({ id: ns.id, name: ns.name }) as string | undefined;
      if (clash !== undefined) throw new NamespaceAlreadyExistsError(clash === ns.name ? ns.name : `with id ${ns.id}`);
      this.insert.run(namespaceParams(ns));
    });
  }

  async createNamespace(ns: NamespaceRecord): Promise<void> {
    this.createTx.immediate(ns);
  }

  async getNamespaceByName(name: string): Promise<NamespaceRecord | null> {
    const row = this.selectByName.get(name) as NamespaceRow | undefined;
    return row ? toNamespace(row) : null;
  }

  async getNamespaceById(id: string): Promise<NamespaceRecord | null> {
    const row = this.selectById.get(id) as NamespaceRow | undefined;
    return row ? toNamespace(row) : null;
  }

  async listNamespaces(): Promise<NamespaceRecord[]> {
    return (this.selectAll.all() as NamespaceRow[]).map(toNamespace);
  }

  async updateNamespace(ns: NamespaceRecord, expectedNotificationVersion: bigint): Promise<void> {
    let changes: number;
    try {
      changes = this.update.run({ ...namespaceParams(ns), expectedNotificationVersion }).changes;
    } catch (err) {
      // Only a rename onto a taken name can violate the unique name.
      if (isUniqueViolation(err)) throw new NamespaceAlreadyExistsError(ns.name);
      throw err;
    }
    if (changes === 0) {
      throw new ConditionFailedError(`namespace ${ns.id}: notification version is not ${expectedNotificationVersion} (or no such namespace)`);
    }
  }
}

function namespaceParams(ns: NamespaceRecord) {
  return {
    id: ns.id,
    name: ns.name,
    state: ns.state,
    description: ns.description,
    ownerEmail: ns.ownerEmail,
    data: JSON.stringify(ns.data),
    retentionMs: ns.retentionMs,
    isGlobal: ns.isGlobal ? 1 : 0,
    activeRegion: ns.activeRegion,
    regions: JSON.stringify(ns.regions),
    failoverVersion: ns.failoverVersion,
    failoverState: ns.failoverState,
    notificationVersion: ns.notificationVersion,
    config: ns.config,
  };
}

function toNamespace(r: NamespaceRow): NamespaceRecord {
  return {
    id: r.id,
    name: r.name,
    state: r.state,
    description: r.description,
    ownerEmail: r.owner_email,
    data: parseJson<Record<string, string>>(r.data, `data of namespace ${r.name}`),
    retentionMs: num(r.retention_ms),
    isGlobal: r.is_global !== 0n,
    activeRegion: r.active_region,
    regions: parseJson<string[]>(r.regions, `regions of namespace ${r.name}`),
    failoverVersion: r.failover_version,
    failoverState: r.failover_state,
    notificationVersion: r.notification_version,
    config: r.config,
  };
}
