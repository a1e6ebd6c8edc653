import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { cassandraStatus, instanceDir, startCassandra } from './launcher.js';
import { TEST_INSTANCE, ensureTestCassandra } from './test-instance.js';

// Runs against the shared 'test' instance only; it never stops it (other test files use it).
describe('cassandra launcher', { skip: process.env.TANDEM_TEST_CASSANDRA ? 'TANDEM_TEST_CASSANDRA points elsewhere' : false }, () => {
  before(async () => {
    await ensureTestCassandra();
  });
  after(() => {
    rmSync(instanceDir('clash'), { recursive: true, force: true });
  });

  test('start of a running instance reuses it', async () => {
    const status = await cassandraStatus(TEST_INSTANCE.name);
    assert.equal(status.answering, true);
    const h = await startCassandra({ ...TEST_INSTANCE });
    assert.equal(h.reused, true);
    assert.equal(h.pid, status.pid);
    assert.equal(h.contactPoint, `${TEST_INSTANCE.listenAddress}:${TEST_INSTANCE.cqlPort}`);
  });

  test('another instance on a taken port fails before launching a JVM', async () => {
    await assert.rejects(
      startCassandra({ name: 'clash', listenAddress: TEST_INSTANCE.listenAddress, cqlPort: TEST_INSTANCE.cqlPort, storagePort: 17999 }),
      /already in use/,
    );
    assert.equal((await cassandraStatus('clash')).running, false);
  });

  test('status of an unknown instance', async () => {
    assert.deepEqual(
      { ...(await cassandraStatus('never-started')), logFile: '' },
      { name: 'never-started', running: false, answering: false, pid: null, contactPoint: null, logFile: '' },
    );
  });

  test('instance names are plain', () => {
    assert.throws(() => instanceDir('../etc'), /bad instance name/);
  });
});
