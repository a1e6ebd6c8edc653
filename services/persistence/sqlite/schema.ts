// Versioned schema. A migration is applied once, in order, inside one IMMEDIATE transaction,
// so two processes opening the same file never both apply it.
import type Database from 'better-sqlite3';
import { LEGACY_SUBQUEUE } from '../task-levels.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE shards (
        shard_id INTEGER PRIMARY KEY,
        range_id INTEGER NOT NULL,
        owner TEXT NOT NULL,
        ack_levels TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE executions (
        shard_id INTEGER NOT NULL,
        namespace_id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        db_record_version INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('created', 'running', 'completed', 'zombie')),
        status INTEGER NOT NULL,
        next_event_id INTEGER NOT NULL,
        start_version INTEGER NOT NULL,
        last_write_version INTEGER NOT NULL,
        create_request_id TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id)
      ) STRICT;

      CREATE TABLE current_executions (
        shard_id INTEGER NOT NULL,
        namespace_id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        create_request_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('created', 'running', 'completed', 'zombie')),
        status INTEGER NOT NULL,
        start_version INTEGER NOT NULL,
        last_write_version INTEGER NOT NULL,
        PRIMARY KEY (shard_id, namespace_id, workflow_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE history_events (
        shard_id INTEGER NOT NULL,
        namespace_id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        branch_id TEXT NOT NULL,
        event_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        task_id INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id, branch_id, event_id)
      ) STRICT;

      -- fire_time_ms is the timer's visibility time and 0 for the other categories, so one
      -- primary key orders timers by (time, task id) and the rest by task id.
      CREATE TABLE history_tasks (
        shard_id INTEGER NOT NULL,
        category TEXT NOT NULL CHECK (category IN ('transfer', 'timer', 'replication', 'visibility')),
        fire_time_ms INTEGER NOT NULL,
        task_id INTEGER NOT NULL,
        visibility_time_ms INTEGER NOT NULL,
        namespace_id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (shard_id, category, fire_time_ms, task_id)
      ) STRICT;

      CREATE TABLE namespaces (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        description TEXT NOT NULL,
        owner_email TEXT NOT NULL,
        data TEXT NOT NULL,
        retention_ms INTEGER NOT NULL,
        is_global INTEGER NOT NULL,
        active_region TEXT NOT NULL,
        regions TEXT NOT NULL,
        failover_version INTEGER NOT NULL,
        failover_state TEXT NOT NULL,
        notification_version INTEGER NOT NULL,
        config TEXT NOT NULL
      ) STRICT;

      CREATE TABLE visibility (
        namespace_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        workflow_type TEXT NOT NULL,
        task_queue TEXT NOT NULL,
        status INTEGER NOT NULL,
        start_time_ms INTEGER NOT NULL,
        execution_time_ms INTEGER NOT NULL,
        close_time_ms INTEGER,
        history_length INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (namespace_id, run_id)
      ) STRICT;
      CREATE INDEX visibility_by_start ON visibility (namespace_id, start_time_ms DESC, run_id);
      CREATE INDEX visibility_by_workflow_id ON visibility (namespace_id, workflow_id, start_time_ms DESC, run_id);
      CREATE INDEX visibility_by_workflow_type ON visibility (namespace_id, workflow_type, start_time_ms DESC, run_id);

      CREATE TABLE task_queues (
        namespace_id TEXT NOT NULL,
        name TEXT NOT NULL,
        type INTEGER NOT NULL,
        range_id INTEGER NOT NULL,
        ack_level INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        PRIMARY KEY (namespace_id, name, type)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE task_queue_tasks (
        namespace_id TEXT NOT NULL,
        name TEXT NOT NULL,
        type INTEGER NOT NULL,
        task_id INTEGER NOT NULL,
        expiry_time_ms INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (namespace_id, name, type, task_id)
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'history tree',
    // The same layout as Cassandra's (see ../cassandra/schema.cql): events keyed by branch and by
    // the task id of the write, so both stores read them by one rule (../history-tree.ts). Rows of
    // version 1 become the root branch of their run, the branch its record is folded from.
    sql: `
      CREATE TABLE history_tree (
        tree_id TEXT NOT NULL,
        branch_id TEXT NOT NULL,
        ancestors TEXT NOT NULL,
        PRIMARY KEY (tree_id, branch_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE history_node (
        tree_id TEXT NOT NULL,
        branch_id TEXT NOT NULL,
        node_id INTEGER NOT NULL,
        txn_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (tree_id, branch_id, node_id, txn_id DESC)
      ) STRICT;

      ALTER TABLE executions ADD COLUMN branch_id TEXT NOT NULL DEFAULT '';

      INSERT INTO history_tree (tree_id, branch_id, ancestors)
        SELECT DISTINCT run_id, branch_id, '[]' FROM history_events;
      INSERT INTO history_node (tree_id, branch_id, node_id, txn_id, version, data)
        SELECT run_id, branch_id, event_id, task_id, version, data FROM history_events;
      UPDATE executions SET branch_id = coalesce(
        (SELECT min(h.branch_id) FROM history_events h
         WHERE h.shard_id = executions.shard_id AND h.namespace_id = executions.namespace_id
         AND h.workflow_id = executions.workflow_id AND h.run_id = executions.run_id), '');
      DROP TABLE history_events;
    `,
  },
  {
    version: 3,
    name: 'replication dlq task category',
    // SQLite cannot alter a CHECK constraint: the table is rebuilt with the wider one.
    sql: `
      CREATE TABLE history_tasks_v3 (
        shard_id INTEGER NOT NULL,
        category TEXT NOT NULL CHECK (category IN ('transfer', 'timer', 'replication', 'visibility', 'replicationDlq')),
        fire_time_ms INTEGER NOT NULL,
        task_id INTEGER NOT NULL,
        visibility_time_ms INTEGER NOT NULL,
        namespace_id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (shard_id, category, fire_time_ms, task_id)
      ) STRICT;
      INSERT INTO history_tasks_v3 SELECT shard_id, category, fire_time_ms, task_id, visibility_time_ms, namespace_id,
        workflow_id, run_id, type, data FROM history_tasks;
      DROP TABLE history_tasks;
      ALTER TABLE history_tasks_v3 RENAME TO history_tasks;
    `,
  },
  {
    version: 4,
    name: 'cluster metadata',
    // Remote clusters added at run time, the namespace replication queue other regions read,
    // this region's position in theirs, and the failover audit log (../cluster-store.ts).
    sql: `
      CREATE TABLE remote_clusters (
        name TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL,
        frontend_address TEXT NOT NULL,
        initial_failover_version INTEGER NOT NULL,
        failover_version_increment INTEGER NOT NULL,
        history_shard_count INTEGER NOT NULL,
        enabled INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE namespace_replication (
        seq INTEGER PRIMARY KEY,
        namespace_id TEXT NOT NULL,
        failover_version INTEGER NOT NULL,
        config_version INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE replication_positions (
        remote_region TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE failover_audit (
        namespace TEXT NOT NULL,
        namespace_id TEXT NOT NULL,
        from_region TEXT NOT NULL,
        to_region TEXT NOT NULL,
        from_version INTEGER NOT NULL,
        to_version INTEGER NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('graceful', 'forced')),
        outcome TEXT NOT NULL CHECK (outcome IN ('completed', 'aborted')),
        identity TEXT NOT NULL,
        message TEXT NOT NULL,
        started_at_ms INTEGER NOT NULL,
        finished_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX failover_audit_by_namespace ON failover_audit (namespace, started_at_ms DESC);
    `,
  },
  {
    version: 5,
    name: 'failover audit lag',
    // A forced failover's measured replication lag; NULL when none was measured.
    sql: `
      ALTER TABLE failover_audit ADD COLUMN lag_tasks INTEGER;
      ALTER TABLE failover_audit ADD COLUMN lag_seconds REAL;
    `,
  },
  {
    version: 6,
    name: 'visibility query columns',
    // The columns the list filter language names (../visibility-query.ts); search attributes are
    // one JSON object, {name: {type, value}}. Existing rows get what they can be derived to:
    // themselves as their root, no parent, a duration once closed.
    sql: `
      ALTER TABLE visibility ADD COLUMN execution_duration_ms INTEGER;
      ALTER TABLE visibility ADD COLUMN history_size_bytes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE visibility ADD COLUMN state_transition_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE visibility ADD COLUMN parent_workflow_id TEXT;
      ALTER TABLE visibility ADD COLUMN parent_run_id TEXT;
      ALTER TABLE visibility ADD COLUMN root_workflow_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE visibility ADD COLUMN root_run_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE visibility ADD COLUMN search_attributes TEXT NOT NULL DEFAULT '{}';
      UPDATE visibility SET root_workflow_id = workflow_id, root_run_id = run_id,
        execution_duration_ms = close_time_ms - execution_time_ms;
      -- The default order: open runs (no close time) first, then newest close, newest start.
      CREATE INDEX visibility_by_close ON visibility (namespace_id, close_time_ms, start_time_ms);
    `,
  },
  {
    version: 7,
    name: 'identities and auth audit',
    // Users and API keys (../identity-store.ts): one row per (kind, id), replaced only by a higher
    // version; and this region's auth audit log.
    sql: `
      CREATE TABLE identities (
        kind TEXT NOT NULL CHECK (kind IN ('user', 'apikey')),
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        PRIMARY KEY (kind, id)
      ) STRICT;

      CREATE TABLE auth_audit (
        at_ms INTEGER NOT NULL,
        identity TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
        message TEXT NOT NULL
      ) STRICT;
      CREATE INDEX auth_audit_by_time ON auth_audit (at_ms DESC);
    `,
  },
  {
    version: 8,
    name: 'task queue subqueues',
    // Matching's priority levels and fairness: a queue's tasks are read per subqueue in (pass,
    // task_id) order, and each subqueue has its own ack level. Existing tasks keep their ids in the
    // default level at pass 0, which is where the old ack level now applies.
    sql: `
      CREATE TABLE task_queue_tasks_v8 (
        namespace_id TEXT NOT NULL,
        name TEXT NOT NULL,
        type INTEGER NOT NULL,
        subqueue INTEGER NOT NULL,
        pass INTEGER NOT NULL,
        task_id INTEGER NOT NULL,
        expiry_time_ms INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (namespace_id, name, type, subqueue, pass, task_id)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO task_queue_tasks_v8
        SELECT namespace_id, name, type, ${LEGACY_SUBQUEUE}, 0, task_id, expiry_time_ms, data FROM task_queue_tasks;
      DROP TABLE task_queue_tasks;
      ALTER TABLE task_queue_tasks_v8 RENAME TO task_queue_tasks;
      ALTER TABLE task_queues ADD COLUMN ack_levels TEXT NOT NULL DEFAULT '{}';
      UPDATE task_queues SET ack_levels = json_object('${LEGACY_SUBQUEUE}', json_object('pass', '0', 'taskId', CAST(ack_level AS TEXT)))
        WHERE ack_level > 0;
      ALTER TABLE task_queues DROP COLUMN ack_level;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the file to the last version of `migrations` (SCHEMA_VERSION unless a test stops at an
 * older one to write rows of that version); returns the versions it applied.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const target = migrations[migrations.length - 1]!.version;
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at_ms INTEGER NOT NULL
  ) STRICT`);
  const readVersion = db.prepare('SELECT coalesce(max(version), 0) FROM schema_migrations').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)');
  const apply = db.transaction((): number[] => {
    const current = Number(readVersion.get() as bigint | number);
    if (current > target) {
      throw new Error(`sqlite schema version ${current} is newer than this build knows (${target}); refusing to open`);
    }
    const pending = migrations.filter((m) => m.version > current);
    for (const m of pending) {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    }
    return pending.map((m) => m.version);
  });
  return apply.immediate();
}
