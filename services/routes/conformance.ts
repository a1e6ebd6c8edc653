// What every RouteRegistry does, run against each implementation (in-memory.test.ts, redis.test.ts).
// `fresh()` returns two started registries over one new, empty state: two routers or two
// controllers (for in-memory, one object twice). The suite stops what it made.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sleep } from '../common/lifecycle.js';
import { DEFAULT_ROUTE, RouteError, defaultRoute, type RouteRecord, type RouteRegistry } from './route.js';

const route = (namespace: string, region: string, epoch: number, extra: Partial<RouteRecord> = {}): RouteRecord => ({
  namespace,
  region,
  endpoint: `127.0.0.${region === 'a' ? 1 : 2}:7233`,
  epoch,
  ttlMs: 2000,
  ...extra,
});

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function routeRegistryConformance(name: string, fresh: () => Promise<[RouteRegistry, RouteRegistry]>): void {
  describe(`RouteRegistry conformance: ${name}`, () => {
    const made: RouteRegistry[] = [];
    const makeTwo = async () => {
      const pair = await fresh();
      made.push(...pair);
      return pair;
    };
    const make = async () => (await makeTwo())[0];
    after(async () => {
      await Promise.all(made.map((r) => r.stop()));
    });

    test('put, get and list; records travel whole', async () => {
      const r = await make();
      assert.equal(await r.get('orders'), undefined);
      assert.deepEqual(await r.list(), []);
      await r.put(route('orders', 'a', 1));
      await r.put(route('billing', 'b', 4, { switching: true }));
      assert.deepEqual(await r.get('orders'), route('orders', 'a', 1));
      assert.deepEqual(await r.get('billing'), route('billing', 'b', 4, { switching: true }));
      assert.deepEqual(
        (await r.list()).map((x) => x.namespace),
        ['billing', 'orders'],
        'sorted by namespace',
      );
    });

    test('epochs only grow: an equal or lower epoch is refused with STALE_EPOCH and the stored epoch', async () => {
      const r = await make();
      await r.put(route('orders', 'a', 5));
      for (const epoch of [5, 4, 0]) {
        await assert.rejects(r.put(route('orders', 'b', epoch)), (err: unknown) => {
          assert.ok(err instanceof RouteError);
          assert.equal(err.code, 'STALE_EPOCH');
          assert.equal(err.storedEpoch, 5);
          return true;
        });
      }
      assert.equal((await r.get('orders'))?.region, 'a', 'a refused write changes nothing');
      await r.put(route('orders', 'b', 6));
      assert.equal((await r.get('orders'))?.region, 'b');
    });

    test('concurrent writers with the same epoch: exactly one wins, and both see its record', async () => {
      const [one, two] = await makeTwo();
      await one.put(route('orders', 'a', 1));
      const writes = ['a', 'b', 'a', 'b', 'b'].map((region, i) => (i % 2 ? two : one).put(route('orders', region, 2)));
      const results = await Promise.allSettled(writes);
      assert.equal(results.filter((x) => x.status === 'fulfilled').length, 1);
      assert.deepEqual(await one.get('orders'), await two.get('orders'));
      assert.equal((await two.get('orders'))?.epoch, 2);
    });

    test('bad records are refused with INVALID_ROUTE', async () => {
      const r = await make();
      const bad: Partial<RouteRecord>[] = [
        { namespace: '' },
        { region: '' },
        { endpoint: 'no-port' },
        { endpoint: '127.0.0.1:70000' },
        { epoch: -1 },
        { epoch: 1.5 },
        { ttlMs: 0 },
      ];
      for (const b of bad) {
        await assert.rejects(r.put({ ...route('orders', 'a', 1), ...b }), (err: unknown) => err instanceof RouteError && err.code === 'INVALID_ROUTE', JSON.stringify(b));
      }
      assert.deepEqual(await r.list(), []);
    });

    test('watch hears every record stored by any writer, never a refused one; unsubscribe stops it', async () => {
      const [r, watcher] = await makeTwo();
      const heard: RouteRecord[] = [];
      const unsubscribe = watcher.watch((rec) => heard.push(rec));
      await r.put(route('orders', 'a', 1));
      await r.put(route('orders', 'b', 2, { switching: true }));
      await assert.rejects(r.put(route('orders', 'a', 2)));
      await until('two changes', () => heard.length >= 2);
      assert.deepEqual(heard, [route('orders', 'a', 1), route('orders', 'b', 2, { switching: true })]);
      unsubscribe();
      await r.put(route('orders', 'a', 3));
      await sleep(100);
      assert.equal(heard.length, 2);
    });

    test('the default route: the DEFAULT_ROUTE record, else the first record', async () => {
      const r = await make();
      assert.equal(await defaultRoute(r), undefined);
      await r.put(route('zeta', 'b', 1));
      await r.put(route('alpha', 'a', 1));
      assert.equal((await defaultRoute(r))?.namespace, 'alpha');
      await r.put(route(DEFAULT_ROUTE, 'b', 1));
      assert.equal((await defaultRoute(r))?.region, 'b');
    });
  });
}
