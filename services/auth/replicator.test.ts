// Identity replication between two regions, each a SQLite store with its IdentityReplicationService
// on a port: records written in either region, even the same user changed in both, end up the same
// in both once each has read the other (the higher version wins everywhere); a deletion travels as
// a tombstone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { bindInsecure } from '../common/grpc-server.js';
import { silentLogger } from '../common/logger.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import type { Persistence } from '../persistence/store.js';
import { IdentityDirectory } from './directory.js';
import { identityReplicationService } from './identity-service.js';
import { IdentityReplicator } from './replicator.js';
import { regionTag } from './versions.js';

interface Region {
  name: string;
  store: Persistence;
  dir: IdentityDirectory;
  server: grpc.Server;
  address: string;
  replicator?: IdentityReplicator;
}

const regions: Region[] = [];

async function region(name: string, initialFailoverVersion: bigint, now: () => number): Promise<Region> {
  const store = await openSqlitePersistence({ path: ':memory:' });
  const dir = new IdentityDirectory(store.identity, regionTag(initialFailoverVersion), undefined, now);
  const server = new grpc.Server();
  const service = identityReplicationService(dir, silentLogger());
  server.addService(service.definition, service.implementation);
  const port = await bindInsecure(server, '127.0.0.1', 0);
  return { name, store, dir, server, address: `127.0.0.1:${port}` };
}

function connect(self: Region, other: Region): void {
  const clusters = { local: { name: self.name, initialFailoverVersion: 0n, failoverVersionIncrement: 10n }, remotes: () => [{ name: other.name, frontendAddress: other.address }] };
  self.replicator = new IdentityReplicator({ store: self.store.identity, clusters: clusters as never, log: silentLogger() });
}

async function both(kind: 'user' | 'apikey') {
  const [a, b] = regions;
  return [await a!.store.identity.listIdentities(kind), await b!.store.identity.listIdentities(kind)] as const;
}

let clock = 1_000_000;
before(async () => {
  regions.push(await region('a', 1n, () => clock), await region('b', 2n, () => clock));
  connect(regions[0]!, regions[1]!);
  connect(regions[1]!, regions[0]!);
});

after(async () => {
  for (const r of regions) {
    await r.replicator?.stop();
    r.server.forceShutdown();
    await r.store.close();
  }
});

test('records of both regions meet, concurrent changes of one user converge, deletions replicate', async () => {
  const [a, b] = regions as [Region, Region];
  await a.dir.createUser('ann', 'developer', {}, false);
  const { key } = await a.dir.createApiKey('ann', '', 0);
  await b.dir.createUser('bob', 'read-only', {}, false);
  assert.ok((await b.replicator!.syncOnce()) >= 2);
  assert.ok((await a.replicator!.syncOnce()) >= 1);
  const [ua, ub] = await both('user');
  assert.deepEqual(ua!.map((r) => r.id), ['ann', 'bob']);
  assert.deepEqual(ua, ub);

  // The same user changed in both regions at the same millisecond: b's version is higher (its tag).
  await a.dir.updateUser('ann', 'admin', {});
  await b.dir.updateUser('ann', 'read-only', { orders: 'write' });
  await a.replicator!.syncOnce();
  await b.replicator!.syncOnce();
  assert.deepEqual(...(await both('user')));
  assert.equal((await a.dir.getUser('ann'))?.role, 'read-only');

  // A later change in a wins over both.
  clock += 10;
  await a.dir.setApiKeyDisabled(key.id, true);
  await a.dir.deleteUser('bob');
  await b.replicator!.syncOnce();
  assert.equal((await b.dir.getApiKey(key.id))?.disabled, true);
  assert.equal(await b.dir.getUser('bob'), undefined);
  assert.equal(await a.replicator!.syncOnce(), 0, 'nothing new to take back');
  assert.deepEqual(...(await both('apikey')));
});
