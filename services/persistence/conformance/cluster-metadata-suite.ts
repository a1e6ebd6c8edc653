// Cluster metadata: remote clusters, the namespace replication queue and positions, the failover
// audit log. The queue is one per store, shared with other tests, so only order and growth are
// asserted, never absolute positions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { FailoverAuditEntry, RemoteClusterRecord } from '../cluster-store.js';
import type { Persistence } from '../store.js';
import { BIG_VERSION } from './fixtures.js';

export function describeClusterMetadata(store: () => Persistence): void {
  describe('cluster metadata', () => {
    const remote = (over: Partial<RemoteClusterRecord> = {}): RemoteClusterRecord => ({
      name: `r-${randomUUID()}`,
      clusterId: randomUUID(),
      frontendAddress: '127.0.0.1:7302',
      initialFailoverVersion: 2n,
      failoverVersionIncrement: 10n,
      historyShardCount: 16,
      enabled: true,
      updatedAtMs: 1_700_000_000_123,
      ...over,
    });

    test('remote clusters: upsert inserts then replaces, delete removes, unknown delete is a no-op', async () => {
      const p = store();
      const c = remote();
      await p.clusterMetadata.upsertRemoteCluster(c);
      assert.deepEqual((await p.clusterMetadata.listRemoteClusters()).find((x) => x.name === c.name), c);
      const moved = { ...c, frontendAddress: '10.0.0.2:7233', enabled: false, updatedAtMs: c.updatedAtMs + 1 };
      await p.clusterMetadata.upsertRemoteCluster(moved);
      assert.deepEqual((await p.clusterMetadata.listRemoteClusters()).filter((x) => x.name === c.name), [moved]);
      await p.clusterMetadata.deleteRemoteCluster(c.name);
      await p.clusterMetadata.deleteRemoteCluster(c.name);
      assert.equal((await p.clusterMetadata.listRemoteClusters()).find((x) => x.name === c.name), undefined);
    });

    test('the namespace replication queue assigns growing positions and reads after one, in order, at most limit', async () => {
      const p = store();
      const ns = randomUUID();
      const entry = (configVersion: bigint) => ({ namespaceId: ns, failoverVersion: BIG_VERSION, configVersion, createdAtMs: 1_700_000_000_000 });
      const s1 = await p.clusterMetadata.appendNamespaceReplication(entry(1n));
      const s2 = await p.clusterMetadata.appendNamespaceReplication(entry(2n));
      const s3 = await p.clusterMetadata.appendNamespaceReplication(entry(3n));
      assert.ok(s1 >= 1n && s2 > s1 && s3 > s2, `positions ${s1} ${s2} ${s3}`);
      const read = (await p.clusterMetadata.readNamespaceReplication(s1 - 1n, 10_000)).filter((e) => e.namespaceId === ns);
      assert.deepEqual(read, [
        { seq: s1, ...entry(1n) },
        { seq: s2, ...entry(2n) },
        { seq: s3, ...entry(3n) },
      ]);
      const page = await p.clusterMetadata.readNamespaceReplication(s1, 1);
      assert.equal(page.length, 1);
      assert.ok(page[0]!.seq > s1 && page[0]!.seq <= s2);
      assert.ok((await p.clusterMetadata.readNamespaceReplication(s3, 10_000)).every((e) => e.seq > s3));
    });

    test('concurrent appends never share a position', async () => {
      const p = store();
      const ns = randomUUID();
      const seqs = await Promise.all(
        Array.from({ length: 8 }, (_, i) => p.clusterMetadata.appendNamespaceReplication({ namespaceId: ns, failoverVersion: 1n, configVersion: BigInt(i), createdAtMs: 1 })),
      );
      assert.equal(new Set(seqs).size, seqs.length);
    });

    test('replication positions: 0 when unknown, then the last one set', async () => {
      const p = store();
      const region = `r-${randomUUID()}`;
      assert.equal(await p.clusterMetadata.getReplicationPosition(region), 0n);
      await p.clusterMetadata.setReplicationPosition(region, 41n);
      await p.clusterMetadata.setReplicationPosition(region, BIG_VERSION);
      assert.equal(await p.clusterMetadata.getReplicationPosition(region), BIG_VERSION);
    });

    test('the failover audit lists newest first, by namespace, at most limit', async () => {
      const p = store();
      const namespace = `ns-${randomUUID()}`;
      const entry = (startedAtMs: number, over: Partial<FailoverAuditEntry> = {}): FailoverAuditEntry => ({
        namespace,
        namespaceId: 'id-1',
        fromRegion: 'a',
        toRegion: 'b',
        fromVersion: 1n,
        toVersion: BIG_VERSION,
        mode: 'graceful',
        outcome: 'completed',
        identity: 'sre@host',
        message: '',
        startedAtMs,
        finishedAtMs: startedAtMs + 250,
        ...over,
      });
      const first = entry(1_700_000_000_000);
      const second = entry(1_700_000_001_000, { fromRegion: 'b', toRegion: 'a', mode: 'forced', outcome: 'aborted', message: 'timed out' });
      const forced = entry(1_700_000_000_500, { mode: 'forced', lagTasks: 3, lagSeconds: 1.25 });
      await p.clusterMetadata.appendFailoverAudit(first);
      await p.clusterMetadata.appendFailoverAudit(second);
      await p.clusterMetadata.appendFailoverAudit(forced);
      await p.clusterMetadata.appendFailoverAudit(entry(1_700_000_002_000, { namespace: `other-${randomUUID()}` }));
      assert.deepEqual(await p.clusterMetadata.listFailoverAudit(namespace, 10), [second, forced, first]);
      assert.deepEqual(await p.clusterMetadata.listFailoverAudit(namespace, 1), [second]);
      assert.ok((await p.clusterMetadata.listFailoverAudit(undefined, 2)).length === 2);
    });
  });
}
