import cassandra from 'cassandra-driver';
import type { AuthAuditEntry, IdentityKind, IdentityRecord, IdentityStore } from '../identity-store.js';
import { Db, SERIAL, big, num, type Row } from './db.js';

const PARTITION = 0;
const FIELDS = 'kind, id, version, body, updated_at';

function toRecord(r: Row): IdentityRecord {
  return {
    kind: r.get('kind') as IdentityKind,
    id: r.get('id') as string,
    version: big(r.get('version')),
    body: r.get('body') as string,
    updatedAtMs: num(r.get('updated_at')),
  };
}

export class CassandraIdentityStore implements IdentityStore {
  constructor(private readonly db: Db) {}

  async putIdentityIfNewer(rec: IdentityRecord): Promise<boolean> {
    const t = this.db.t('identities');
    const inserted = await this.db.execute(`INSERT INTO ${t} (${FIELDS}) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS`, [
      rec.kind,
      rec.id,
      rec.version,
      rec.body,
      BigInt(rec.updatedAtMs),
    ]);
    if (inserted.wasApplied()) return true;
    // The row exists: replace it only if ours is newer (a lower or equal version is already superseded).
    const updated = await this.db.execute(`UPDATE ${t} SET version = ?, body = ?, updated_at = ? WHERE kind = ? AND id = ? IF version < ?`, [
      rec.version,
      rec.body,
      BigInt(rec.updatedAtMs),
      rec.kind,
      rec.id,
      rec.version,
    ]);
    return updated.wasApplied();
  }

  async getIdentity(kind: IdentityKind, id: string): Promise<IdentityRecord | null> {
    const row = await this.db.first(`SELECT ${FIELDS} FROM ${this.db.t('identities')} WHERE kind = ? AND id = ?`, [kind, id], SERIAL);
    return row ? toRecord(row) : null;
  }

  async listIdentities(kind: IdentityKind): Promise<IdentityRecord[]> {
    return (await this.db.all(`SELECT ${FIELDS} FROM ${this.db.t('identities')} WHERE kind = ?`, [kind], SERIAL)).map(toRecord);
  }

  async appendAuthAudit(e: AuthAuditEntry): Promise<void> {
    await this.db.execute(
      `INSERT INTO ${this.db.t('auth_audit')} (partition, at, id, identity, action, target, outcome, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [PARTITION, BigInt(e.atMs), cassandra.types.TimeUuid.now(), e.identity, e.action, e.target, e.outcome, e.message],
    );
  }

  async listAuthAudit(limit: number): Promise<AuthAuditEntry[]> {
    const rows = await this.db.execute(
      `SELECT at, identity, action, target, outcome, message FROM ${this.db.t('auth_audit')} WHERE partition = ? LIMIT ?`,
      [PARTITION, limit],
    );
    return rows.rows.map((r) => ({
      atMs: num(r.get('at')),
      identity: r.get('identity') as string,
      action: r.get('action') as string,
      target: r.get('target') as string,
      outcome: r.get('outcome') as AuthAuditEntry['outcome'],
      message: (r.get('message') as string | null) ?? '',
    }));
  }
}
