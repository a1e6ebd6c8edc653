// RedisMembership against a real redis-server: the shared test instance (deploy/redis), plus a
// private instance for the restart test. Each test uses a fresh region, so keys never collide.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { silentLogger } from '../common/logger.js';
import { ensureTestRedis, freePort } from '../../deploy/redis/test-instance.js';
import { instanceDir, startRedis, stopRedis } from '../../deploy/redis/launcher.js';
import type { Member } from './membership.js';
import { RedisMembership, compileRedisMembershipConfig, type RedisMembershipInput } from './redis.js';
import { waitFor } from './test-helpers.js';

// Short but not tight: the machine is shared, a beat may be late by a few hundred ms.
const TIMING = { ttlMs: 1500, heartbeatMs: 300, pollMs: 200 };

const freshRegion = () => `t${randomBytes(4).toString('hex')}`;
const member = (id: string, role: Member['role'] = 'history'): Member => ({ id, role, address: `127.0.0.1:${7000 + id.length}`, startedAtMs: Date.now() });
const ids = (m: RedisMembership, role: Member['role'] = 'history') => m.members(role).map((x) => x.id);

/** A member in a child process, so the test can SIGKILL or SIGSTOP it like a real node. */
async function spawnMember(input: RedisMembershipInput): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./redis-member-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`member process exited with ${code} before joining`)));
  });
  return child;
}

describe('RedisMembership', () => {
  let redisUrl = '';
  const running: RedisMembership[] = [];
  const children: ChildProcess[] = [];
  let raw: Redis;

  before(async () => {
    redisUrl = `redis://${await ensureTestRedis()}`;
    raw = new Redis(redisUrl);
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(running.map((m) => m.stop()));
    raw.disconnect();
  });

  async function join(region: string, self: Member, url = redisUrl): Promise<RedisMembership> {
    const m = new RedisMembership({ redisUrl: url, region, self, ...TIMING }, silentLogger());
    running.push(m);
    await m.start();
    return m;
  }

  test('config: defaults in one place, bad values refused', () => {
    const c = compileRedisMembershipConfig({ redisUrl: 'redis://127.0.0.1:6379', region: 'a', self: member('a-history-1') });
    assert.deepEqual([c.ttlMs, c.heartbeatMs, c.pollMs, c.keyPrefix], [5000, 1666, 1000, 'tandem']);
    const base = { redisUrl: 'redis://127.0.0.1:6379', region: 'a', self: member('h') };
    assert.throws(() => compileRedisMembershipConfig({ ...base, redisUrl: 'http://x' }), /redisUrl/);
    assert.throws(() => compileRedisMembershipConfig({ ...base, region: 'a:*' }), /region/);
    assert.throws(() => compileRedisMembershipConfig({ ...base, self: { ...member('h'), role: 'router' as Member['role'] } }), /self.role/);
    assert.throws(() => compileRedisMembershipConfig({ ...base, ttlMs: 1000, heartbeatMs: 600 }), /heartbeatMs/);
    assert.throws(() => compileRedisMembershipConfig({ ...base, pollMs: 0 }), /pollMs/);
  });

  test('a join and a graceful leave are seen by the other members; roles are kept apart', async () => {
    const region = freshRegion();
    const a = await join(region, member('a-history-1'));
    assert.deepEqual(ids(a), ['a-history-1'], 'alone, it sees itself');
    let changes = 0;
    a.onChange(() => changes++);

    const b = await join(region, member('a-history-2'));
    const fe = await join(region, member('a-frontend-1', 'frontend'));
    assert.deepEqual(ids(b), ['a-history-1', 'a-history-2'], 'a joiner sees the members after start()');
    await waitFor('a to see b and the frontend', () => ids(a).length === 2 && ids(a, 'frontend').length === 1);
    assert.deepEqual(ids(a), ['a-history-1', 'a-history-2']);
    assert.deepEqual(ids(a, 'frontend'), ['a-frontend-1']);
    assert.deepEqual(a.members('history')[1], b.self, 'the member record travels whole');
    assert.ok(changes >= 1);

    await b.stop();
    assert.equal(await raw.exists(`tandem:${region}:members:history:a-history-2`), 0, 'a graceful leave deletes the key');
    await waitFor('a and the frontend to see b leave', () => ids(a).length === 1 && ids(fe).length === 1);
    // Another region's members are invisible.
    const other = await join(freshRegion(), member('a-history-9'));
    assert.deepEqual(ids(other), ['a-history-9']);
  });

  test('a crashed member expires after ttlMs; a paused one drops out and comes back on resume', async () => {
    const region = freshRegion();
    const a = await join(region, member('a-history-1'));
    const crash = await spawnMember({ redisUrl, region, self: member('a-history-crash'), ...TIMING });
    children.push(crash);
    const pause = await spawnMember({ redisUrl, region, self: member('a-history-pause'), ...TIMING });
    children.push(pause);
    await waitFor('both children visible', () => ids(a).length === 3);

    crash.kill('SIGKILL');
    pause.kill('SIGSTOP');
    await waitFor('the crashed and the paused member to expire', () => ids(a).length === 1);
    assert.equal(await raw.exists(`tandem:${region}:members:history:a-history-crash`), 0);

    pause.kill('SIGCONT');
    await waitFor('the resumed member to be back', () => ids(a).includes('a-history-pause'));
    assert.deepEqual(ids(a), ['a-history-1', 'a-history-pause']);
    const exited = new Promise((r) => pause.once('exit', r));
    pause.kill('SIGTERM');
    await exited;
    await waitFor('the resumed member’s graceful leave', () => ids(a).length === 1);
  });

  test('a Redis restart: the last view is kept through the outage, then registrations and changes resume', async () => {
    const name = `membership-restart-${process.pid}`;
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    await startRedis({ name, port });
    try {
      const region = freshRegion();
      const a = await join(region, member('a-history-1'), url);
      const b = await join(region, member('a-history-2'), url);
      await waitFor('a and b to see each other', () => ids(a).length === 2 && ids(b).length === 2);

      await stopRedis(name);
      // Well past ttlMs: nothing refreshes the keys, yet nobody is dropped from the views.
      const outageUntil = Date.now() + 2 * TIMING.ttlMs;
      await waitFor('the outage to last 2 ttl', () => Date.now() > outageUntil);
      assert.deepEqual(ids(a), ['a-history-1', 'a-history-2']);
      assert.deepEqual(ids(b), ['a-history-1', 'a-history-2']);

      await startRedis({ name, port });
      const check = new Redis(url);
      try {
        await waitFor('both members to re-register in the empty Redis', async () => (await check.keys(`tandem:${region}:members:*`)).length === 2);
      } finally {
        check.disconnect();
      }
      const c = await join(region, member('a-history-3'), url);
      await waitFor('a and b to see the member that joined after the restart', () => ids(a).length === 3 && ids(b).length === 3);
      assert.deepEqual(ids(c), ['a-history-1', 'a-history-2', 'a-history-3']);
      await c.stop();
      await waitFor('the leave after the restart', () => ids(a).length === 2);
      await Promise.all([a.stop(), b.stop()]);
    } finally {
      await stopRedis(name);
      rmSync(instanceDir(name), { recursive: true, force: true });
    }
  });

  test('start waits for an unreachable Redis and stop ends the wait', async () => {
    const port = await freePort();
    const m = new RedisMembership({ redisUrl: `redis://127.0.0.1:${port}`, region: freshRegion(), self: member('lonely'), ...TIMING }, silentLogger());
    const started = m.start();
    let done = false;
    void started.then(() => (done = true));
    const until = Date.now() + 500;
    await waitFor('a moment', () => Date.now() > until);
    assert.equal(done, false, 'start has not resolved without Redis');
    assert.deepEqual(m.members('history').map((x) => x.id), ['lonely']);
    await m.stop();
    await started;
  });
});
