// One suite for both lease stores: the in-memory one and Redis (the shared test Redis).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureTestRedis } from '../../deploy/redis/test-instance.js';
import { InMemoryLeaseStore, type LeaseStore } from './leader-lease.js';
import { RedisLeaseStore } from './redis-lease-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function leaseSuite(name: string, open: () => Promise<LeaseStore>): void {
  describe(`leases on ${name}`, () => {
    let store: LeaseStore;
    before(async () => {
      store = await open();
    });
    after(() => store.close());

    test('one holder at a time; renew and release only by the holder; terms grow', async () => {
      const lease = `controller-${randomUUID()}`;
      const first = await store.acquire(lease, 'r1', 10_000);
      assert.ok(first, 'a free lease is taken');
      assert.deepEqual(await store.current(lease), first);
      assert.equal(await store.acquire(lease, 'r2', 10_000), null, 'a held lease is not');
      assert.equal(await store.renew(lease, 'r2', 10_000), false);
      assert.equal(await store.renew(lease, 'r1', 10_000), true);
      assert.deepEqual(await store.acquire(lease, 'r1', 10_000), first, 'the holder re-acquiring keeps its term');
      await store.release(lease, 'r2');
      assert.equal(await store.acquire(lease, 'r2', 10_000), null, 'a release by another holder does nothing');
      await store.release(lease, 'r1');
      assert.equal(await store.current(lease), null, 'released: nobody holds it');
      const second = await store.acquire(lease, 'r2', 10_000);
      assert.ok(second && second.term > first.term, 'a new acquisition has a higher term');
    });

    test('an expired lease is free for the next holder; the old one can no longer renew', async () => {
      const lease = `controller-${randomUUID()}`;
      assert.ok(await store.acquire(lease, 'r1', 150));
      await sleep(300);
      assert.ok(await store.acquire(lease, 'r2', 10_000));
      assert.equal(await store.renew(lease, 'r1', 10_000), false);
    });
  });
}

leaseSuite('memory', async () => new InMemoryLeaseStore());
leaseSuite('redis', async () => {
  const s = new RedisLeaseStore(`redis://${await ensureTestRedis()}`, `test-${randomUUID().slice(0, 8)}`);
  await s.connect();
  return s;
});
