// Routes follow namespace failovers: real registries over SQLite, the in-memory route registry.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../common/logger.js';
import { nextFailoverVersion, type RegionConfig } from '../namespaces/failover.js';
import { NamespaceRegistry } from '../namespaces/registry.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import type { Persistence } from '../persistence/store.js';
import { InMemoryRouteRegistry } from '../routes/in-memory.js';
import { DEFAULT_ROUTE } from '../routes/route.js';
import { RouteFollower } from './route-follower.js';

const regionA: RegionConfig = { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n };
const regionB: RegionConfig = { name: 'b', initialFailoverVersion: 2n, failoverVersionIncrement: 10n };
const endpoints = { a: '127.0.0.1:7301', b: '127.0.0.1:7302' };

let store: Persistence;
let registry: NamespaceRegistry;
let routes: InMemoryRouteRegistry;
let follower: RouteFollower;

before(async () => {
  store = await openSqlitePersistence({ path: ':memory:' });
  registry = new NamespaceRegistry(store.namespaces, { region: regionA, regions: [regionA, regionB] }, silentLogger());
  await registry.start();
  routes = new InMemoryRouteRegistry();
  await routes.start();
  await registry.register({ name: 'default', isGlobal: true, regions: ['a', 'b'], activeRegion: 'a' });
  follower = new RouteFollower([registry], routes, { endpoints, defaultNamespace: 'default', ttlMs: 1000 }, silentLogger());
  await follower.start();
});

after(async () => {
  await follower.stop();
  await routes.stop();
  await registry.stop();
  await store.close();
});

test('a namespace and the default route point at the active region; a handover marks them switching; a failover re-points them with a higher epoch', async () => {
  const first = await routes.get('default');
  assert.equal(first?.region, 'a');
  assert.equal(first?.endpoint, endpoints.a);
  assert.equal((await routes.get(DEFAULT_ROUTE))?.region, 'a');

  await registry.update('default', (r) => ({ ...r, failoverState: 'handover' }));
  await follower.settled();
  const handover = await routes.get('default');
  assert.equal(handover?.switching, true);
  assert.ok(handover!.epoch > first!.epoch);

  await registry.update('default', (r) => ({
    ...r,
    activeRegion: 'b',
    failoverState: 'normal',
    failoverVersion: nextFailoverVersion(r.failoverVersion, regionB.initialFailoverVersion, regionB.failoverVersionIncrement),
  }));
  await follower.settled();
  const moved = await routes.get('default');
  assert.equal(moved?.region, 'b');
  assert.equal(moved?.endpoint, endpoints.b);
  assert.ok(!moved?.switching, 'the switch is over');
  assert.ok(moved!.epoch > handover!.epoch);
  assert.equal((await routes.get(DEFAULT_ROUTE))?.region, 'b');
});
