// The Cassandra that tests run against: TANDEM_TEST_CASSANDRA (host:port) when set, else the
// launcher instance named 'test', started on first use and left running for the next test file
// (`npx tsx deploy/cassandra/cli.ts stop --name test` stops it).
import { randomBytes } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { rmSync } from 'node:fs';
import { cassandraStatus, instanceDir, LOCAL_DATA_CENTER, startCassandra, stopCassandra } from './launcher.js';
import { freePort } from '../../services/common/free-port.js';

export const TEST_INSTANCE = { name: 'test', listenAddress: '127.0.0.1', cqlPort: 19042, storagePort: 17000, heapMb: 640, unsafeSystem: true } as const;

export interface TestCassandra {
  contactPoint: string;
  /** Fresh per call, so test files never see each other's rows. */
  keyspace: string;
}

/** Test keyspaces are named t_<creation time base 36>_<random>; older ones are leftovers. */
const KEYSPACE = /^t_([0-9a-z]+)_[0-9a-f]{8}$/;
const STALE_MS = 6 * 3600_000;

export async function ensureTestCassandra(): Promise<TestCassandra> {
  const keyspace = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const external = process.env.TANDEM_TEST_CASSANDRA;
  if (external) return { contactPoint: external, keyspace };
  const handle = await startCassandra({ ...TEST_INSTANCE });
  await dropStaleKeyspaces(handle.contactPoint);
  return { contactPoint: handle.contactPoint, keyspace };
}

/**
 * A Cassandra instance of one test's own, for a test that kills it (a region's database in a
 * chaos test), so the shared instance never goes down under other test files. Its ports are
 * chosen once and kept, so revive() brings the same node back with its data.
 */
export class OwnTestCassandra implements TestCassandra {
  readonly keyspace = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

  private constructor(
    readonly name: string,
    private readonly cqlPort: number,
    private readonly storagePort: number,
  ) {}

  get contactPoint(): string {
    return `127.0.0.1:${this.cqlPort}`;
  }

  static async start(name: string): Promise<OwnTestCassandra> {
    const c = new OwnTestCassandra(name, await freePort(), await freePort());
    await stopCassandra(name); // a leftover of a test run that died
    await c.revive();
    return c;
  }

  async revive(): Promise<void> {
    await startCassandra({ name: this.name, listenAddress: '127.0.0.1', cqlPort: this.cqlPort, storagePort: this.storagePort, heapMb: 512 });
  }

  /** SIGKILL of the JVM: no shutdown hook runs, as when the process dies (its page cache survives). */
  async kill(): Promise<void> {
    const { pid } = await cassandraStatus(this.name);
    if (pid !== null) process.kill(pid, 'SIGKILL');
    while ((await cassandraStatus(this.name)).running) await new Promise((r) => setTimeout(r, 100));
  }

  /** Stops it and removes its data: its name is the test run's own, so nothing will reuse it. */
  async stop(): Promise<void> {
    await stopCassandra(this.name);
    rmSync(instanceDir(this.name), { recursive: true, force: true });
  }
}

/** Drops a test file's keyspace; its tables would otherwise cost the shared instance memory. */
export async function dropTestKeyspace(t: TestCassandra): Promise<void> {
  if (!KEYSPACE.test(t.keyspace)) throw new Error(`${t.keyspace} is not a test keyspace`);
  await withClient(t.contactPoint, (c) => c.execute(`DROP KEYSPACE IF EXISTS ${t.keyspace}`));
}

/** Keyspaces of test runs that died before dropping theirs. */
async function dropStaleKeyspaces(contactPoint: string): Promise<void> {
  await withClient(contactPoint, async (c) => {
    const rows = (await c.execute('SELECT keyspace_name FROM system_schema.keyspaces')).rows;
    for (const row of rows) {
      const name = row.get('keyspace_name') as string;
      const born = KEYSPACE.exec(name)?.[1];
      if (born && Date.now() - parseInt(born, 36) > STALE_MS) await c.execute(`DROP KEYSPACE IF EXISTS ${name}`);
    }
  });
}

async function withClient<T>(contactPoint: string, fn: (c: cassandra.Client) => Promise<T>): Promise<T> {
  const client = new cassandra.Client({ contactPoints: [contactPoint], localDataCenter: LOCAL_DATA_CENTER });
  try {
    return await fn(client);
  } finally {
    await client.shutdown();
  }
}
