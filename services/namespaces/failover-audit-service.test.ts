// ListFailoverAudit over a grpc-js server: newest first, a namespace filter, a limit, lag fields.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../common/logger.js';
import { openSqlitePersistence, type SqlitePersistence } from '../persistence/sqlite/index.js';
import type { FailoverAuditEntry } from '../persistence/cluster-store.js';
import { FailoverAuditServiceClient, type ListFailoverAuditResponse } from '../../proto/gen/tandem/admin/v1/failover_audit.js';
import { failoverAuditService } from './failover-audit-service.js';

let store: SqlitePersistence;
let server: grpc.Server;
let client: FailoverAuditServiceClient;

const entry = (namespace: string, startedAtMs: number, over: Partial<FailoverAuditEntry> = {}): FailoverAuditEntry => ({
  namespace,
  namespaceId: `${namespace}-id`,
  fromRegion: 'a',
  toRegion: 'b',
  fromVersion: 1n,
  toVersion: 12n,
  mode: 'graceful',
  outcome: 'completed',
  identity: 'test',
  message: '',
  startedAtMs,
  finishedAtMs: startedAtMs + 5,
  ...over,
});

before(async () => {
  store = await openSqlitePersistence({ path: ':memory:' });
  await store.clusterMetadata.appendFailoverAudit(entry('orders', 1_000));
  await store.clusterMetadata.appendFailoverAudit(entry('orders', 3_000, { mode: 'forced', lagTasks: 4, lagSeconds: 0.25 }));
  await store.clusterMetadata.appendFailoverAudit(entry('billing', 2_000));
  const svc = failoverAuditService(store.clusterMetadata, 'b', silentLogger());
  server = new grpc.Server();
  server.addService(svc.definition, svc.implementation);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  client = new FailoverAuditServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client.close();
  server.forceShutdown();
  await store.close();
});

const list = (namespace: string, limit: number) =>
  new Promise<ListFailoverAuditResponse>((resolve, reject) => client.listFailoverAudit({ namespace, limit }, (err, r) => (err ? reject(err) : resolve(r))));

test('every namespace newest first, the region named; a filter and a limit; a forced entry keeps its lag', async () => {
  const all = await list('', 0);
  assert.equal(all.region, 'b');
  assert.deepEqual(all.entries.map((e) => `${e.namespace}@${e.startedAtMs}`), ['orders@3000', 'billing@2000', 'orders@1000']);
  assert.equal(all.entries[0]!.lagSeconds, 0.25);
  assert.equal(all.entries[0]!.lagTasks, 4n);
  assert.equal(all.entries[1]!.lagSeconds, undefined);
  assert.deepEqual((await list('orders', 1)).entries.map((e) => e.startedAtMs), [3000n]);
  await assert.rejects(list('', -1), /limit must be >= 0/);
});
