// The Cassandra that tests run against: TANDEM_TEST_CASSANDRA (host:port) when set, else the
// launcher instance named 'test', started on first use and left running for the next test file
// (`npx tsx deploy/cassandra/cli.ts stop --name test` stops it).
import { randomBytes } from 'node:crypto';
import { startCassandra } from './launcher.js';

export const TEST_INSTANCE = { name: 'test', listenAddress: '127.0.0.1', cqlPort: 19042, storagePort: 17000, heapMb: 640 } as const;

export interface TestCassandra {
  contactPoint: string;
  /** Fresh per call, so test files never see each other's rows. */
  keyspace: string;
}

export async function ensureTestCassandra(): Promise<TestCassandra> {
  const keyspace = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const external = process.env.TANDEM_TEST_CASSANDRA;
  if (external) return { contactPoint: external, keyspace };
  const handle = await startCassandra({ ...TEST_INSTANCE });
  return { contactPoint: handle.contactPoint, keyspace };
}
