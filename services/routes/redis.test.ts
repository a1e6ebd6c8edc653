// RedisRouteRegistry against the shared test Redis (deploy/redis): each registry pair gets its own
// key prefix, so tests never see each other's routes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { ensureTestRedis, freePort } from '../../deploy/redis/test-instance.js';
import { silentLogger } from '../common/logger.js';
import { routeRegistryConformance } from './conformance.js';
import { RedisRouteRegistry, redisRouteConfig } from './redis.js';

let redisUrl = '';
before(async () => {
  redisUrl = `redis://${await ensureTestRedis()}`;
});

routeRegistryConformance('redis', async () => {
  const keyPrefix = `t${randomBytes(4).toString('hex')}`;
  const pair: [RedisRouteRegistry, RedisRouteRegistry] = [
    new RedisRouteRegistry({ redisUrl, keyPrefix }, silentLogger()),
    new RedisRouteRegistry({ redisUrl, keyPrefix }, silentLogger()),
  ];
  await Promise.all(pair.map((r) => r.start()));
  return pair;
});

describe('RedisRouteRegistry', () => {
  test('config: defaults in one place, bad values refused', () => {
    const c = redisRouteConfig({ redisUrl: 'redis://127.0.0.1:6379' });
    assert.deepEqual([c.keyPrefix, c.commandTimeoutMs, c.connectWaitMs], ['tandem', 1000, 5000]);
    assert.throws(() => redisRouteConfig({ redisUrl: 'http://x' }), /redisUrl/);
    assert.throws(() => redisRouteConfig({ redisUrl: 'redis://x:1', keyPrefix: 'a:*' }), /keyPrefix/);
    assert.throws(() => redisRouteConfig({ redisUrl: 'redis://x:1', commandTimeoutMs: 0 }), /commandTimeoutMs/);
  });

  test('an unreachable Redis: start gives up waiting after connectWaitMs and commands fail fast', async () => {
    const r = new RedisRouteRegistry({ redisUrl: `redis://127.0.0.1:${await freePort()}`, connectWaitMs: 300, commandTimeoutMs: 300 }, silentLogger());
    const t0 = Date.now();
    await r.start();
    assert.ok(Date.now() - t0 < 2000);
    await assert.rejects(r.get('orders'));
    await r.stop();
  });
});
