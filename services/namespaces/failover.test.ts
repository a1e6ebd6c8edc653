import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../common/logger.js';
import { createRegistry } from '../common/metrics.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import { NamespaceFailoverCoordinator, type WaitForReplication } from './failover-coordinator.js';
import { nextFailoverVersion, regionOfVersion, validateRegionConfig, type RegionConfig } from './failover.js';
import { NamespaceRegistry } from './registry.js';

describe('nextFailoverVersion', () => {
  test('moves to the smallest version >= current in the target residue class', () => {
    assert.equal(nextFailoverVersion(1n, 2n, 10n), 2n);
    assert.equal(nextFailoverVersion(2n, 1n, 10n), 11n);
    assert.equal(nextFailoverVersion(11n, 2n, 10n), 12n);
    assert.equal(nextFailoverVersion(12n, 1n, 10n), 21n);
    assert.equal(nextFailoverVersion(0n, 0n, 10n), 0n);
    assert.equal(nextFailoverVersion(9n, 0n, 10n), 10n);
  });

  test('is the identity when the namespace already is in the target class', () => {
    assert.equal(nextFailoverVersion(21n, 1n, 10n), 21n);
  });

  test('works past 2^53', () => {
    const big = 2n ** 60n + 3n;
    const v = nextFailoverVersion(big, 7n, 100n);
    assert.ok(v >= big && v - big < 100n);
    assert.equal(v % 100n, 7n);
  });

  test('a round trip a -> b -> a only grows', () => {
    let v = 1n;
    for (let i = 0; i < 50; i++) {
      const next = nextFailoverVersion(v, i % 2 === 0 ? 2n : 1n, 10n);
      assert.ok(next > v);
      v = next;
    }
  });

  test('rejects a bad increment or initial version', () => {
    assert.throws(() => nextFailoverVersion(1n, 1n, 0n), RangeError);
    assert.throws(() => nextFailoverVersion(1n, 10n, 10n), RangeError);
    assert.throws(() => nextFailoverVersion(1n, -1n, 10n), RangeError);
    assert.throws(() => nextFailoverVersion(-1n, 1n, 10n), RangeError);
  });
});

test('regionOfVersion finds the writer by residue', () => {
  const regions: RegionConfig[] = [
    { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n },
    { name: 'b', initialFailoverVersion: 2n, failoverVersionIncrement: 10n },
  ];
  assert.equal(regionOfVersion(21n, regions)?.name, 'a');
  assert.equal(regionOfVersion(32n, regions)?.name, 'b');
  assert.equal(regionOfVersion(33n, regions), undefined);
});

test('validateRegionConfig', () => {
  assert.throws(() => validateRegionConfig({ name: 'a', initialFailoverVersion: 10n, failoverVersionIncrement: 10n }));
  assert.throws(() => validateRegionConfig({ name: '', initialFailoverVersion: 1n, failoverVersionIncrement: 10n }));
  validateRegionConfig({ name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n });
});

describe('NamespaceFailoverCoordinator metrics', () => {
  const regions: RegionConfig[] = [
    { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n },
    { name: 'b', initialFailoverVersion: 2n, failoverVersionIncrement: 10n },
  ];

  test('times the handover wait by outcome and counts failovers by mode and outcome, with the forced one\'s lag audited as fields', async () => {
    const store = await openSqlitePersistence({ path: ':memory:' });
    const namespaces = new NamespaceRegistry(store.namespaces, { region: regions[0]!, regions }, silentLogger(), store.clusterMetadata);
    await namespaces.start();
    try {
      const metrics = createRegistry();
      const wait = { fn: (async () => {}) as WaitForReplication };
      const coordinator = new NamespaceFailoverCoordinator({
        registry: namespaces,
        audit: store.clusterMetadata,
        log: silentLogger(),
        metrics,
        waitForReplication: (id, deadline) => wait.fn(id, deadline),
        measureLag: async () => ({ tasks: 4, seconds: 2.5, shardsUnknown: 0 }),
      });
      const ns = await namespaces.register({ name: 'payments', isGlobal: true, regions: ['a', 'b'], activeRegion: 'a' });
      wait.fn = () => new Promise((resolve) => setTimeout(resolve, 50));
      await coordinator.failover(ns.name, 'b', { graceful: true });
      // Back in a by force (b is the active one now), then a drill that runs out of time.
      const forced = await coordinator.failover(ns.name, 'a', { graceful: false });
      assert.deepEqual(forced.lag, { tasks: 4, seconds: 2.5, shardsUnknown: 0 });
      wait.fn = () => Promise.reject(new Error('a shard did not ack'));
      await assert.rejects(coordinator.failover(ns.name, 'b', { graceful: true }), /aborted/);

      // A histogram's values name their series (_bucket, _sum, _count); prom-client's type omits it.
      const values = async (name: string) => (await metrics.getSingleMetric(name)!.get()).values as { value: number; labels: Record<string, string | number>; metricName?: string }[];
      const counts = (await values('tandem_failovers_total')).map((v) => `${v.labels.mode}/${v.labels.outcome}=${v.value}`).sort();
      assert.deepEqual(counts, ['forced/completed=1', 'graceful/aborted=1', 'graceful/completed=1']);
      const waits = (await values('tandem_failover_handover_wait_seconds')).filter((v) => v.metricName === 'tandem_failover_handover_wait_seconds_count');
      assert.deepEqual(waits.map((v) => `${v.labels.outcome}=${v.value}`).sort(), ['aborted=1', 'completed=1']);
      const sum = (await values('tandem_failover_handover_wait_seconds')).find((v) => v.metricName === 'tandem_failover_handover_wait_seconds_sum' && v.labels.outcome === 'completed');
      assert.ok(sum!.value >= 0.04, `the completed wait took about 50 ms, got ${sum!.value} s`);

      const [aborted, forcedEntry, graceful] = await store.clusterMetadata.listFailoverAudit(ns.name, 10);
      assert.equal(forcedEntry!.mode, 'forced');
      assert.deepEqual([forcedEntry!.lagTasks, forcedEntry!.lagSeconds], [4, 2.5]);
      assert.deepEqual([aborted!.lagTasks, graceful!.lagTasks], [undefined, undefined], 'graceful failovers lose nothing and measure nothing');
    } finally {
      await namespaces.stop();
      await store.close();
    }
  });
});
