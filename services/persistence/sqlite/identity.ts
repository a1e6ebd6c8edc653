import type Database from 'better-sqlite3';
import type { AuthAuditEntry, IdentityKind, IdentityRecord, IdentityStore } from '../identity-store.js';
import { num } from './codec.js';

interface IdentityRow {
  kind: IdentityKind;
  id: string;
  version: bigint;
  body: string;
  updated_at_ms: bigint;
}

interface AuditRow {
  at_ms: bigint;
  identity: string;
  action: string;
  target: string;
  outcome: AuthAuditEntry['outcome'];
  message: string;
}

function toRecord(r: IdentityRow): IdentityRecord {
  return { kind: r.kind, id: r.id, version: r.version, body: r.body, updatedAtMs: num(r.updated_at_ms) };
}

export class SqliteIdentityStore implements IdentityStore {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  // Prepared on first use, like the cluster metadata store: a file at an older schema version has no tables yet.
  private prepare(key: string, sql: string): Database.Statement {
    let stmt = this.statements.get(key);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(key, stmt);
    }
    return stmt;
  }

  async putIdentityIfNewer(rec: IdentityRecord): Promise<boolean> {
    const info = this.prepare(
      'put',
      `INSERT INTO identities (kind, id, version, body, updated_at_ms) VALUES (@kind, @id, @version, @body, @updatedAtMs)
       ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, body = excluded.body, updated_at_ms = excluded.updated_at_ms
       WHERE excluded.version > identities.version`,
    ).run(rec);
    return info.changes > 0;
  }

  async getIdentity(kind: IdentityKind, id: string): Promise<IdentityRecord | null> {
    const row = this.prepare('get', 'SELECT * FROM identities WHERE kind = ? AND id = ?').get(kind, id) as IdentityRow | undefined;
    return row ? toRecord(row) : null;
  }

  async listIdentities(kind: IdentityKind): Promise<IdentityRecord[]> {
    return (this.prepare('list', 'SELECT * FROM identities WHERE kind = ? ORDER BY id').all(kind) as IdentityRow[]).map(toRecord);
  }

  async appendAuthAudit(e: AuthAuditEntry): Promise<void> {
    this.prepare(
      'audit',
      'INSERT INTO auth_audit (at_ms, identity, action, target, outcome, message) VALUES (@atMs, @identity, @action, @target, @outcome, @message)',
    ).run(e);
  }

  async listAuthAudit(limit: number): Promise<AuthAuditEntry[]> {
    const rows = this.prepare('listAudit', 'SELECT * FROM auth_audit ORDER BY at_ms DESC, rowid DESC LIMIT ?').all(limit) as AuditRow[];
    return rows.map((r) => ({ atMs: num(r.at_ms), identity: r.identity, action: r.action, target: r.target, outcome: r.outcome, message: r.message }));
  }
}
