import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../common/logger.js';
import type { Persistence } from '../store.js';
import { SqliteClusterMetadataStore } from './cluster-metadata.js';
import { SqliteExecutionStore } from './executions.js';
import { SqliteNamespaceStore } from './namespaces.js';
import { migrate, SCHEMA_VERSION } from './schema.js';
import { SqliteIdentityStore } from './identity.js';
import { SqliteShardStore } from './shards.js';
import { SqliteTaskQueueStore } from './taskQueues.js';
import { SqliteVisibilityStore } from './visibility.js';

export interface SqliteConfig {
  /** A file path, or ':memory:' for a private in-process database (tests). */
  path: string;
  /** How long a write waits for another connection's lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /**
   * 'full' syncs the WAL on every commit (survives power loss); 'normal' survives a process
   * crash but may lose the last commits on power loss.
   */
  synchronous?: 'full' | 'normal';
  logger?: Logger;
}

const DEFAULTS = { busyTimeoutMs: 5_000, synchronous: 'full' } as const satisfies Partial<SqliteConfig>;

type ResolvedConfig = Required<Omit<SqliteConfig, 'logger'>> & Pick<SqliteConfig, 'logger'>;

function resolveConfig(config: SqliteConfig): ResolvedConfig {
  const resolved = { ...DEFAULTS, ...config };
  if (typeof resolved.path !== 'string' || resolved.path.length === 0) {
    throw new TypeError('sqlite config: path must be a file path or ":memory:"');
  }
  if (!Number.isInteger(resolved.busyTimeoutMs) || resolved.busyTimeoutMs < 0) {
    throw new TypeError(`sqlite config: busyTimeoutMs must be a non-negative integer, got ${resolved.busyTimeoutMs}`);
  }
  if (resolved.synchronous !== 'full' && resolved.synchronous !== 'normal') {
    throw new TypeError(`sqlite config: synchronous must be 'full' or 'normal', got ${String(resolved.synchronous)}`);
  }
  return resolved;
}

/** The embedded store: one SQLite file in WAL mode, every conditional batch one transaction. */
export class SqlitePersistence implements Persistence {
  readonly kind = 'sqlite' as const;
  readonly shards: SqliteShardStore;
  readonly executions: SqliteExecutionStore;
  readonly namespaces: SqliteNamespaceStore;
  readonly visibility: SqliteVisibilityStore;
  readonly taskQueues: SqliteTaskQueueStore;
  readonly clusterMetadata: SqliteClusterMetadataStore;
  readonly identity: SqliteIdentityStore;

  constructor(private readonly db: Database.Database) {
    this.shards = new SqliteShardStore(db);
    this.executions = new SqliteExecutionStore(db, this.shards);
    this.namespaces = new SqliteNamespaceStore(db);
    this.visibility = new SqliteVisibilityStore(db);
    this.taskQueues = new SqliteTaskQueueStore(db);
    this.clusterMetadata = new SqliteClusterMetadataStore(db);
    this.identity = new SqliteIdentityStore(db);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.visibility.flush();
    this.db.close();
  }
}

export async function openSqlitePersistence(config: SqliteConfig): Promise<SqlitePersistence> {
  const { path, busyTimeoutMs, synchronous, logger } = resolveConfig(config);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    // 64-bit ids (range ids, task ids, versions) must come back exact, so every integer is a bigint.
    db.defaultSafeIntegers(true);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
    const applied = migrate(db);
    logger?.info({ path, schemaVersion: SCHEMA_VERSION, applied }, 'sqlite persistence opened');
    return new SqlitePersistence(db);
  } catch (err) {
    db.close();
    throw err;
  }
}
