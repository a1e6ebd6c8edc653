// The replication mode carried by the namespace data map (key tandem.replication): what the
// registry accepts on register and update, and how the record reads it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isTandemError } from '../common/errors.js';
import { silentLogger } from '../common/logger.js';
import { openSqlitePersistence, type SqlitePersistence } from '../persistence/sqlite/index.js';
import { REPLICATION_MODE_KEY, replicationModeOf, toDescribeNamespaceResponse } from './convert.js';
import { NamespaceRegistry } from './registry.js';

const a = { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n };
const b = { name: 'b', initialFailoverVersion: 2n, failoverVersionIncrement: 10n };

describe('replication mode (namespace data tandem.replication)', () => {
  let persistence: SqlitePersistence;
  let registry: NamespaceRegistry;
  const global = { isGlobal: true, regions: ['a', 'b'] };
  after(() => persistence.close());

  test('a global namespace registered with sync reads as sync, stored and described as data', async () => {
    persistence = await openSqlitePersistence({ path: ':memory:' });
    registry = new NamespaceRegistry(persistence.namespaces, { region: a, regions: [a, b] }, silentLogger());
    await registry.register({ name: 'pay', ...global, data: { [REPLICATION_MODE_KEY]: 'sync', team: 'x' } });
    const stored = (await persistence.namespaces.getNamespaceByName('pay'))!;
    assert.equal(replicationModeOf(stored), 'sync');
    assert.deepEqual(toDescribeNamespaceResponse(stored).namespaceInfo?.data, { [REPLICATION_MODE_KEY]: 'sync', team: 'x' });
  });

  test('no key, async, or a local namespace read as async', async () => {
    assert.equal(replicationModeOf(await registry.register({ name: 'plain', ...global })), 'async');
    assert.equal(replicationModeOf(await registry.register({ name: 'explicit', ...global, data: { [REPLICATION_MODE_KEY]: 'async' } })), 'async');
    assert.equal(replicationModeOf({ isGlobal: false, data: { [REPLICATION_MODE_KEY]: 'sync' } }), 'async');
  });

  test('an unknown mode, or sync without a standby, is INVALID_ARGUMENT', async () => {
    const refused = (p: Promise<unknown>, message: RegExp) =>
      assert.rejects(p, (err: unknown) => isTandemError(err, 'INVALID_ARGUMENT') && message.test((err as Error).message));
    await refused(registry.register({ name: 'typo', ...global, data: { [REPLICATION_MODE_KEY]: 'synchronous' } }), /must be one of async, sync, got "synchronous"/);
    await refused(registry.register({ name: 'local', data: { [REPLICATION_MODE_KEY]: 'sync' } }), /needs a global namespace with more than one cluster/);
    await refused(registry.register({ name: 'alone', isGlobal: true, regions: ['a'], data: { [REPLICATION_MODE_KEY]: 'sync' } }), /more than one cluster/);
    assert.equal(await persistence.namespaces.getNamespaceByName('typo'), null);
  });

  test('UpdateNamespace data switches the mode; a bad value is refused and leaves the record as it was', async () => {
    const set = (mode: string) => registry.update('plain', (rec) => ({ ...rec, data: { ...rec.data, [REPLICATION_MODE_KEY]: mode } }));
    assert.equal(replicationModeOf(await set('sync')), 'sync');
    await assert.rejects(set('fast'), (err: unknown) => isTandemError(err, 'INVALID_ARGUMENT'));
    assert.equal(replicationModeOf((await persistence.namespaces.getNamespaceByName('plain'))!), 'sync');
    assert.equal(replicationModeOf(await set('async')), 'async');
  });
});
