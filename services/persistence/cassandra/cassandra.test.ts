import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { dropTestKeyspace, ensureTestCassandra, type TestCassandra } from '../../../deploy/cassandra/test-instance.js';
import { runPersistenceConformance } from '../conformance/suite.js';
import { runVisibilityConformance } from '../conformance/visibility-suite.js';
import { StoreUnavailableError } from '../errors.js';
import { openCassandraPersistence } from './index.js';

let instance: TestCassandra | undefined;

runPersistenceConformance('cassandra', async () => {
  instance = await ensureTestCassandra();
  return openCassandraPersistence({ contactPoints: [instance.contactPoint], localDataCenter: 'datacenter1', keyspace: instance.keyspace });
});

runVisibilityConformance('cassandra', async () => {
  instance ??= await ensureTestCassandra();
  const p = await openCassandraPersistence({ contactPoints: [instance.contactPoint], localDataCenter: 'datacenter1', keyspace: instance.keyspace });
  return { store: p.visibility, close: () => p.close() };
});

test('opening a store nobody listens on is StoreUnavailableError', async () => {
  await assert.rejects(
    openCassandraPersistence({ contactPoints: ['127.0.0.1:1'], localDataCenter: 'datacenter1', keyspace: 'unreachable' }),
    StoreUnavailableError,
  );
});

test('schema is idempotent: a second open of the same keyspace works', async () => {
  const t = instance ?? (await ensureTestCassandra());
  const again = await openCassandraPersistence({ contactPoints: [t.contactPoint], localDataCenter: 'datacenter1', keyspace: t.keyspace });
  await again.close();
});

after(async () => {
  if (instance) await dropTestKeyspace(instance);
});
