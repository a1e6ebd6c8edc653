import { ensureTestCassandra } from '../../../deploy/cassandra/test-instance.js';
import { runPersistenceConformance } from '../conformance/suite.js';
import { openCassandraPersistence } from './index.js';

runPersistenceConformance('cassandra', async () => {
  const { contactPoint, keyspace } = await ensureTestCassandra();
  return openCassandraPersistence({ contactPoints: [contactPoint], localDataCenter: 'datacenter1', keyspace });
});
