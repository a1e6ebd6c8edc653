import { after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../common/logger.js';
import { isTandemError } from '../common/errors.js';
import { NamespaceRegistry } from './registry.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import type { NamespaceStore } from '../persistence/store.js';
import { fromDescribeNamespaceResponse, toDescribeNamespaceResponse } from './convert.js';
import { namespacev1 } from '../common/temporal.js';

const a = { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n };
const b = { name: 'b', initialFailoverVersion: 2n, failoverVersionIncrement: 10n };

/** The SQLite store, counting reads; `beforeUpdate` runs once before the next conditional write. */
class ObservedStore implements NamespaceStore {
  reads = 0;
  beforeUpdate?: () => Promise<void>;
  constructor(readonly inner: NamespaceStore) {}
  createNamespace(ns: Parameters<NamespaceStore['createNamespace']>[0]) {
    return this.inner.createNamespace(ns);
  }
  getNamespaceByName(name: string) {
    this.reads++;
    return this.inner.getNamespaceByName(name);
  }
  getNamespaceById(id: string) {
    this.reads++;
    return this.inner.getNamespaceById(id);
  }
  listNamespaces() {
    this.reads++;
    return this.inner.listNamespaces();
  }
  async updateNamespace(ns: Parameters<NamespaceStore['updateNamespace']>[0], expected: bigint) {
    const hook = this.beforeUpdate;
    this.beforeUpdate = undefined;
    await hook?.();
    return this.inner.updateNamespace(ns, expected);
  }
}

const opened: { close(): Promise<void> }[] = [];
after(async () => {
  for (const p of opened) await p.close();
});

async function setup() {
  const persistence = await openSqlitePersistence({ path: ':memory:' });
  opened.push(persistence);
  const store = new ObservedStore(persistence.namespaces);
  const registry = new NamespaceRegistry(store, { region: a, regions: [a, b], refreshIntervalMs: 60_000 }, silentLogger());
  return { store, registry };
}

describe('NamespaceRegistry', () => {
  test('register makes a local namespace active here at the region initial version', async () => {
    const { registry } = await setup();
    const rec = await registry.register({ name: 'orders', description: 'd', retentionMs: 86_400_000 });
    assert.equal(rec.activeRegion, 'a');
    assert.deepEqual(rec.regions, ['a']);
    assert.equal(rec.failoverVersion, 1n);
    assert.equal(rec.isGlobal, false);
    assert.equal((await registry.requireByName('orders')).id, rec.id);
    assert.equal((await registry.requireById(rec.id)).name, 'orders');
  });

  test('a global namespace can be active in another known region', async () => {
    const { registry } = await setup();
    const rec = await registry.register({ name: 'g', isGlobal: true, activeRegion: 'b', regions: ['a'] });
    assert.equal(rec.failoverVersion, 2n);
    assert.deepEqual(rec.regions, ['b', 'a']);
    await assert.rejects(registry.register({ name: 'g2', isGlobal: true, activeRegion: 'zz' }), (e) =>
      isTandemError(e, 'INVALID_ARGUMENT'),
    );
    await assert.rejects(registry.register({ name: 'l', activeRegion: 'b' }), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
  });

  test('duplicate and invalid names are refused', async () => {
    const { registry } = await setup();
    await registry.register({ name: 'x' });
    await assert.rejects(registry.register({ name: 'x' }), (e) => isTandemError(e, 'NAMESPACE_ALREADY_EXISTS'));
    await assert.rejects(registry.register({ name: '' }), (e) => isTandemError(e, 'REQUIRED'));
    await assert.rejects(registry.register({ name: 'has space' }), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(registry.register({ name: 'n'.repeat(300) }), (e) => isTandemError(e, 'TOO_LONG'));
  });

  test('unknown namespaces are NOT_FOUND with the NamespaceNotFoundFailure detail', async () => {
    const { registry } = await setup();
    await assert.rejects(registry.requireByName('nope'), (e) => {
      assert.ok(isTandemError(e, 'NAMESPACE_NOT_FOUND'));
      assert.equal(e.message, 'Namespace nope is not found.');
      assert.equal(e.details[0]!.typeName, 'temporal.api.errordetails.v1.NamespaceNotFoundFailure');
      return true;
    });
  });

  test('lookups are cached; a miss reads the store; writes of other processes show after refresh', async () => {
    const { store, registry } = await setup();
    await registry.start();
    const rec = await registry.register({ name: 'cached' });
    const reads = store.reads;
    await registry.requireByName('cached');
    await registry.requireById(rec.id);
    assert.equal(store.reads, reads);

    // Another process registers and updates behind our back.
    const other = new NamespaceRegistry(store.inner, { region: a }, silentLogger());
    await other.register({ name: 'elsewhere' });
    assert.ok(await registry.getByName('elsewhere'));
    await other.update('cached', (r) => ({ ...r, description: 'changed' }));
    assert.equal((await registry.requireByName('cached')).description, '');
    await registry.refresh();
    assert.equal((await registry.requireByName('cached')).description, 'changed');
    await registry.stop();
  });

  test('update bumps the notification version and re-applies after losing a race', async () => {
    const { store, registry } = await setup();
    const rec = await registry.register({ name: 'u' });
    store.beforeUpdate = async () => {
      // Another writer lands between our read and our write.
      const row = (await store.inner.getNamespaceById(rec.id))!;
      await store.inner.updateNamespace({ ...row, ownerEmail: 'o@x', notificationVersion: row.notificationVersion + 1n }, row.notificationVersion);
    };
    let calls = 0;
    const updated = await registry.update('u', (r) => {
      calls++;
      return { ...r, description: 'mine' };
    });
    assert.equal(calls, 2);
    assert.equal(updated.description, 'mine');
    assert.equal(updated.ownerEmail, 'o@x');
    assert.equal(updated.notificationVersion, 3n);
    assert.deepEqual(await store.getNamespaceByName('u'), updated);
    await assert.rejects(registry.update('missing', (r) => r), (e) => isTandemError(e, 'NAMESPACE_NOT_FOUND'));
  });

  test('onChange tells each newer record once: own writes, other writers seen by refresh and refreshNamespace', async () => {
    const { store, registry } = await setup();
    const rec = await registry.register({ name: 'watched', isGlobal: true, regions: ['b'] });
    const seen: [string, bigint][] = [];
    const unsubscribe = registry.onChange((r) => seen.push([r.activeRegion, r.notificationVersion]));
    registry.onChange(() => {
      throw new Error('a broken listener does not stop the others');
    });

    await registry.update('watched', (r) => ({ ...r, activeRegion: 'b' }));
    assert.deepEqual(seen, [['b', 2n]]);

    // Another process fails it back: the periodic refresh sees the newer row, once.
    const other = new NamespaceRegistry(store.inner, { region: b, regions: [a, b] }, silentLogger());
    await other.update('watched', (r) => ({ ...r, activeRegion: 'a' }));
    await registry.refresh();
    await registry.refresh();
    assert.deepEqual(seen, [['b', 2n], ['a', 3n]]);

    // refreshNamespace makes one namespace current at once, and answers the current record.
    await other.update('watched', (r) => ({ ...r, failoverState: 'handover' }));
    const current = await registry.refreshNamespace(rec.id);
    assert.equal(current.failoverState, 'handover');
    assert.equal((await registry.requireById(rec.id)).failoverState, 'handover');
    assert.deepEqual(seen, [['b', 2n], ['a', 3n], ['a', 4n]]);
    assert.equal((await registry.refreshNamespace(rec.id)).notificationVersion, 4n);
    assert.equal(seen.length, 3, 'an unchanged row is no change');
    await assert.rejects(registry.refreshNamespace('no-such-id'), (e) => isTandemError(e, 'NAMESPACE_NOT_FOUND'));

    unsubscribe();
    await registry.update('watched', (r) => ({ ...r, description: 'after unsubscribe' }));
    assert.equal(seen.length, 3);
  });

  test('list pages in name order', async () => {
    const { registry } = await setup();
    for (const n of ['c', 'a1', 'b1', 'd', 'e']) await registry.register({ name: n });
    const p1 = await registry.list(2);
    assert.deepEqual(p1.namespaces.map((n) => n.name), ['a1', 'b1']);
    const p2 = await registry.list(2, p1.nextAfter);
    assert.deepEqual(p2.namespaces.map((n) => n.name), ['c', 'd']);
    const p3 = await registry.list(2, p2.nextAfter);
    assert.deepEqual(p3.namespaces.map((n) => n.name), ['e']);
    assert.equal(p3.nextAfter, undefined);
  });
});

test('NamespaceRecord <-> DescribeNamespaceResponse round trip', async () => {
  const { registry } = await setup();
  const rec = await registry.register({
    name: 'rt',
    description: 'desc',
    ownerEmail: 'me@x',
    data: { k: 'v' },
    retentionMs: 86_400_000 + 1500,
    isGlobal: true,
    regions: ['b'],
    extra: { historyArchivalState: 2, historyArchivalUri: 'file:///tmp' },
  });
  const resp = toDescribeNamespaceResponse({ ...rec, failoverState: 'handover', failoverVersion: 2n ** 60n + 1n });
  assert.equal(resp.namespaceInfo!.name, 'rt');
  assert.equal(resp.namespaceInfo!.state, 1);
  assert.equal(resp.replicationConfig!.activeClusterName, 'a');
  assert.deepEqual(resp.replicationConfig!.clusters!.map((c) => c.clusterName), ['a', 'b']);
  assert.equal(resp.replicationConfig!.state, 2);
  assert.equal(resp.isGlobalNamespace, true);
  assert.equal(resp.config!.historyArchivalUri, 'file:///tmp');
  // Encodes through protobufjs with the bigint version intact.
  const T = namespacev1.NamespaceInfo;
  assert.equal(T.decode(T.encode(resp.namespaceInfo!).finish()).ownerEmail, 'me@x');
  const back = fromDescribeNamespaceResponse(resp, rec.notificationVersion);
  // The replication config version is not part of Temporal's API: it does not come back.
  const { replicationConfigVersion: _, ...temporalConfig } = JSON.parse(rec.config) as Record<string, unknown>;
  assert.deepEqual(
    { ...back, config: JSON.parse(back.config) },
    { ...rec, failoverState: 'handover', failoverVersion: 2n ** 60n + 1n, config: { ...temporalConfig, customSearchAttributeAliases: {}, visibilityArchivalState: 1, visibilityArchivalUri: '' } },
  );
});
