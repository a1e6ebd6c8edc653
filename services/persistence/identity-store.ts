// Users, API keys and their permissions (services/auth owns what a record's body means), and the
// auth audit log. Identity records replicate to every region by version: a record replaces the
// stored one only when its version is higher, so regions that apply the same records in any
// order end up equal. Deletions are records too (tombstones), or a deleted key would come back
// from the region that has not seen the deletion yet. The audit log is this region's own.
import type { Int64 } from './types.js';

export type IdentityKind = 'user' | 'apikey';

export interface IdentityRecord {
  kind: IdentityKind;
  /** A user's name, a key's id. */
  id: string;
  /** Grows with every write; orders writes of different regions (services/auth/versions.ts). */
  version: Int64;
  /** JSON owned by services/auth; opaque here. */
  body: string;
  updatedAtMs: number;
}

export interface AuthAuditEntry {
  atMs: number;
  /** Who: `user:<name>`, `service:<name>` or `anonymous` when auth is off. */
  identity: string;
  /** What: the RPC (StartWorkflowExecution...) or management verb (CreateApiKey...). */
  action: string;
  /** On what: a namespace, a workflow id, a user or key id. */
  target: string;
  outcome: 'ok' | 'denied' | 'failed';
  message: string;
}

export interface IdentityStore {
  /** Stores rec when (kind, id) has no record or one of a lower version; true when it did. */
  putIdentityIfNewer(rec: IdentityRecord): Promise<boolean>;
  getIdentity(kind: IdentityKind, id: string): Promise<IdentityRecord | null>;
  /** Every record of kind (tombstones too), in id order. */
  listIdentities(kind: IdentityKind): Promise<IdentityRecord[]>;
  appendAuthAudit(entry: AuthAuditEntry): Promise<void>;
  /** Newest first, at most limit. */
  listAuthAudit(limit: number): Promise<AuthAuditEntry[]>;
}
