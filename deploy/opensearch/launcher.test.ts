import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { instanceDir, openSearchStatus, startOpenSearch } from './launcher.js';
import { TEST_INSTANCE, ensureTestOpenSearch } from './test-instance.js';

// Runs against the shared 'test' instance only; it never stops it (other test files use it).
describe('opensearch launcher', { skip: process.env.TANDEM_TEST_OPENSEARCH ? 'TANDEM_TEST_OPENSEARCH points elsewhere' : false }, () => {
  before(async () => {
    await ensureTestOpenSearch();
  });
  after(() => {
    rmSync(instanceDir('clash'), { recursive: true, force: true });
  });

  test('start of a running instance reuses it', async () => {
    const status = await openSearchStatus(TEST_INSTANCE.name);
    assert.equal(status.answering, true);
    const h = await startOpenSearch({ ...TEST_INSTANCE });
    assert.equal(h.reused, true);
    assert.equal(h.pid, status.pid);
    assert.equal(h.url, `http://${TEST_INSTANCE.host}:${TEST_INSTANCE.httpPort}`);
    const root = (await (await fetch(h.url)).json()) as { version: { number: string } };
    assert.equal(root.version.number, '2.19.6');
  });

  test('another instance on a taken port fails before launching a JVM', async () => {
    await assert.rejects(
      startOpenSearch({ name: 'clash', host: TEST_INSTANCE.host, httpPort: TEST_INSTANCE.httpPort, transportPort: 29399 }),
      /already in use/,
    );
    assert.equal((await openSearchStatus('clash')).running, false);
  });

  test('status of an unknown instance', async () => {
    assert.deepEqual(
      { ...(await openSearchStatus('never-started')), logFile: '' },
      { name: 'never-started', running: false, answering: false, pid: null, url: null, logFile: '' },
    );
  });

  test('instance names are plain', () => {
    assert.throws(() => instanceDir('../etc'), /bad instance name/);
  });
});
