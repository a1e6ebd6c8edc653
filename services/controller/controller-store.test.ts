// One suite for both controller stores: the in-memory one and Redis (the shared test Redis).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureTestRedis } from '../../deploy/redis/test-instance.js';
import { InMemoryControllerStore, type ControllerStore, type ObserverReport } from './controller-store.js';
import { RedisControllerStore } from './redis-controller-store.js';

const report = (observer: string, region: string, atMs: number, healthy: boolean): ObserverReport => ({
  observer,
  failureDomain: `${observer}-domain`,
  region,
  healthy,
  atMs,
  unhealthySinceMs: healthy ? null : atMs,
  detail: healthy ? 'health 1 ms' : 'health: UNAVAILABLE',
  lag: [{ target: 'b', tasks: 1, seconds: 0.5 }],
});

function storeSuite(name: string, open: () => Promise<ControllerStore>): void {
  describe(`controller store on ${name}`, () => {
    test("each observer's newest report per region; an older one does not replace it", async () => {
      const store = await open();
      try {
        await store.putReport(report('o1', 'a', 2_000, false));
        await store.putReport(report('o1', 'a', 1_000, true));
        await store.putReport(report('o1', 'b', 1_000, true));
        await store.putReport(report('o2', 'a', 1_500, true));
        const got = (await store.reports()).sort((x, y) => `${x.observer}${x.region}`.localeCompare(`${y.observer}${y.region}`));
        assert.deepEqual(got, [report('o1', 'a', 2_000, false), report('o1', 'b', 1_000, true), report('o2', 'a', 1_500, true)]);
      } finally {
        await store.close();
      }
    });

    test('evacuations: the first home is kept until cleared', async () => {
      const store = await open();
      try {
        await store.markEvacuated('orders', 'a');
        await store.markEvacuated('orders', 'b');
        assert.deepEqual([...(await store.evacuations())], [['orders', 'a']]);
        await store.clearEvacuated('orders');
        assert.equal((await store.evacuations()).size, 0);
      } finally {
        await store.close();
      }
    });
  });
}

storeSuite('memory', async () => new InMemoryControllerStore());
storeSuite('redis', async () => {
  const s = new RedisControllerStore(`redis://${await ensureTestRedis()}`, `test-${randomUUID().slice(0, 8)}`);
  await s.connect();
  return s;
});
