// The region store: Persistence on Cassandra. See README.md for the data layout.
import type cassandra from 'cassandra-driver';
import type { Persistence } from '../store.js';
import { Db, createClient, mapDriverError } from './db.js';
import { CassandraClusterMetadataStore } from './cluster-metadata.js';
import { CassandraIdentityStore } from './identity.js';
import { CassandraExecutionStore, CassandraShardStore } from './executions.js';
import { CassandraNamespaceStore } from './namespaces.js';
import { applySchema, assertKeyspaceName, type Replication } from './schema.js';
import { CassandraTaskQueueStore } from './taskqueues.js';
import { CassandraVisibilityStore } from './visibility.js';

export { applySchema, type Replication } from './schema.js';

export interface CassandraPersistenceConfig {
  /** host:port of one or more nodes of the local data center. */
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  /** Used only when the keyspace is created; default: one replica in the local data center. */
  replication?: Replication;
}

export class CassandraPersistence implements Persistence {
  readonly kind = 'cassandra' as const;
  readonly shards: CassandraShardStore;
  readonly executions: CassandraExecutionStore;
  readonly namespaces: CassandraNamespaceStore;
  readonly visibility: CassandraVisibilityStore;
  readonly taskQueues: CassandraTaskQueueStore;
  readonly clusterMetadata: CassandraClusterMetadataStore;
  readonly identity: CassandraIdentityStore;

  constructor(
    private readonly client: cassandra.Client,
    keyspace: string,
  ) {
    assertKeyspaceName(keyspace);
    const db = new Db(client, keyspace);
    this.shards = new CassandraShardStore(db);
    this.executions = new CassandraExecutionStore(db);
    this.namespaces = new CassandraNamespaceStore(db);
    this.visibility = new CassandraVisibilityStore(db);
    this.taskQueues = new CassandraTaskQueueStore(db);
    this.clusterMetadata = new CassandraClusterMetadataStore(db);
    this.identity = new CassandraIdentityStore(db);
  }

  async close(): Promise<void> {
    await this.client.shutdown();
  }
}

/** Connects, creates the keyspace and tables when missing, and returns the store. */
export async function openCassandraPersistence(config: CassandraPersistenceConfig): Promise<CassandraPersistence> {
  assertKeyspaceName(config.keyspace);
  if (config.contactPoints.length === 0) throw new Error('cassandra persistence: contactPoints is empty');
  const client = createClient(config);
  try {
    await client.connect();
    await applySchema(client, config.keyspace, config.replication ?? { class: 'NetworkTopologyStrategy', [config.localDataCenter]: 1 });
  } catch (err) {
    await client.shutdown().catch(() => {});
    throw mapDriverError(err);
  }
  return new CassandraPersistence(client, config.keyspace);
}
