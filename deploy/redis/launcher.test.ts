import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { instanceDir, redisAnswers, redisStatus, startRedis, stopRedis } from './launcher.js';
import { TEST_INSTANCE, ensureTestRedis, freePort } from './test-instance.js';

// Uses the shared 'test' instance without stopping it (other test files use it), plus a private one.
describe('redis launcher', { skip: process.env.TANDEM_TEST_REDIS ? 'TANDEM_TEST_REDIS points elsewhere' : false }, () => {
  const own = `launcher-${process.pid}`;
  after(async () => {
    await stopRedis(own);
    for (const name of [own, 'clash']) rmSync(instanceDir(name), { recursive: true, force: true });
  });

  test('start of a running instance reuses it', async () => {
    await ensureTestRedis();
    const status = await redisStatus(TEST_INSTANCE.name);
    assert.equal(status.answering, true);
    const h = await startRedis({ ...TEST_INSTANCE });
    assert.deepEqual([h.reused, h.pid, h.address], [true, status.pid, `${TEST_INSTANCE.host}:${TEST_INSTANCE.port}`]);
  });

  test('start, stop, status of an instance of its own', async () => {
    const port = await freePort();
    const h = await startRedis({ name: own, port });
    assert.equal(h.reused, false);
    assert.equal(await redisAnswers('127.0.0.1', port), true);
    assert.equal(await stopRedis(own), true);
    assert.equal(await redisAnswers('127.0.0.1', port), false);
    assert.equal((await redisStatus(own)).running, false);
    assert.equal(await stopRedis(own), false, 'stopping a stopped instance is a no-op');
  });

  test('another instance on a taken port fails', async () => {
    await ensureTestRedis();
    await assert.rejects(startRedis({ name: 'clash', port: TEST_INSTANCE.port }), /already in use/);
    assert.equal((await redisStatus('clash')).running, false);
  });

  test('status of an unknown instance; names are plain', async () => {
    assert.deepEqual(
      { ...(await redisStatus('never-started')), logFile: '' },
      { name: 'never-started', running: false, answering: false, pid: null, address: null, logFile: '' },
    );
    assert.throws(() => instanceDir('../etc'), /bad instance name/);
  });
});
