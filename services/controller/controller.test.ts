// The controller over two real regions in one process (DevRegions, what `make dev` runs, on SQLite
// files so a stopped region comes back with its data): one partitioned observer changes nothing; a
// stopped region has its namespaces promoted in the other and their routes re-pointed; once it is
// back, a namespace whose policy says so fails back home, and one whose policy does not stays.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DevRegions, devRegionsDefaults } from '../../deploy/processes/dev-regions.js';
import { freePort } from '../common/free-port.js';
import { silentLogger } from '../common/logger.js';
import { FAILBACK_KEY } from './controller.js';
import { drillRegion } from './drill.js';
import { RegionClient } from './region-client.js';

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const DOWN_AFTER_MS = 1_500;

describe('failover controller over two regions (make dev, SQLite)', { timeout: 180_000 }, () => {
  let dir: string;
  let dev: DevRegions;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-controller-'));
    const defaults = devRegionsDefaults({ kind: 'sqlite', dir });
    const ports = [await freePort(), await freePort()];
    dev = new DevRegions(
      {
        ...defaults,
        opsPagePort: 0,
        devPort: await freePort(),
        numShards: 4,
        routeTtlMs: 1000,
        logLevel: 'silent',
        regions: defaults.regions.map((r, i) => ({ ...r, port: ports[i]!, metricsPort: 0 })),
        controller: { downAfterMs: DOWN_AFTER_MS, staleAfterMs: 3_000, tickMs: 200, leaseTtlMs: 1_000, gracefulTimeoutMs: 3_000, failback: { namespaces: [], afterUpMs: 1_000, maxLagSeconds: 1 } },
        observers: { intervalMs: 200, probeTimeoutMs: 1_000 },
      },
      silentLogger(),
    );
    await dev.start();
    await dev.home.namespaces!.register({ name: 'orders', isGlobal: true, regions: ['a', 'b'], activeRegion: 'a', data: { [FAILBACK_KEY]: 'auto' } });
    await eventually('orders reaches b', async () => (await dev.clusters[1]!.namespaces!.getByName('orders')) ?? undefined, 10_000);
  });

  after(async () => {
    await dev?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const activeIn = async (region: 0 | 1, name: string) => {
    // The store, not the registry's cache: what the region would read after a restart.
    return (await dev.clusters[region]!.store!.namespaces.getNamespaceByName(name))?.activeRegion;
  };

  test('one partitioned observer seeing a down for long never fails it over', async () => {
    const store = dev.controllerStore;
    const since = Date.now() - 60_000;
    const until = Date.now() + DOWN_AFTER_MS * 2;
    while (Date.now() < until) {
      await store.putReport({ observer: 'cut-off', failureDomain: 'partitioned', region: 'a', healthy: false, atMs: Date.now(), unhealthySinceMs: since, detail: 'health: UNAVAILABLE' });
      await new Promise((r) => setTimeout(r, 100));
    }
    const snap = await dev.controller!.snapshot();
    assert.equal(snap.regions.find((r) => r.name === 'a')?.status, 'suspect', 'seen down by one domain: suspect, not down');
    assert.equal(snap.controller?.leader, 'dev');
    assert.deepEqual(dev.controller!.actions(), [], 'no failover');
    assert.equal(await activeIn(1, 'orders'), 'a');
    assert.equal((await dev.routes.get('orders'))?.region, 'a');
  });

  test('region a stopped: b promoted, routes re-pointed with a higher epoch, audited; a back: orders fails back, default stays', async () => {
    const before = (await dev.routes.get('orders'))!;
    assert.equal(before.region, 'a');
    await dev.clusters[0]!.stop();

    await eventually('orders active in b and routed there', async () => ((await activeIn(1, 'orders')) === 'b' && (await dev.routes.get('orders'))?.region === 'b' ? true : undefined), 30_000);
    const moved = (await dev.routes.get('orders'))!;
    assert.ok(moved.epoch > before.epoch, 'the epoch grew');
    assert.equal(moved.endpoint, dev.clusters[1]!.address);
    await eventually('default active in b', async () => ((await activeIn(1, 'default')) === 'b' ? true : undefined), 10_000);
    assert.equal((await dev.routes.get('_default'))?.region, 'b', 'the default route follows the default namespace');

    const kinds = () => dev.controller!.actions().map((x) => `${x.kind} ${x.outcome.namespace} ${x.outcome.mode} ${x.outcome.ok}`);
    // The route follower may re-point the route before the controller has recorded its action.
    await eventually('the forced failover recorded', async () => (kinds().includes('region down orders forced true') ? true : undefined), 5_000);
    assert.ok(kinds().includes('region down orders graceful false'), 'graceful was tried first');
    const audit = await dev.clusters[1]!.store!.clusterMetadata.listFailoverAudit('orders', 10);
    const forced = audit.find((e) => e.mode === 'forced' && e.outcome === 'completed');
    assert.ok(forced, `a forced failover audited in b: ${JSON.stringify(audit, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    assert.equal(forced.identity, 'controller dev (region a down)');

    await dev.clusters[0]!.start();
    await eventually('orders back home in a and routed there', async () => ((await activeIn(1, 'orders')) === 'a' && (await dev.routes.get('orders'))?.region === 'a' ? true : undefined), 60_000);
    const home = (await dev.routes.get('orders'))!;
    assert.ok(home.epoch > moved.epoch);
    const failback = await eventually('the failback recorded', async () => dev.controller!.actions().find((x) => x.kind === 'failback'), 5_000);
    assert.ok(failback.outcome.ok && failback.outcome.mode === 'graceful', JSON.stringify(failback));
    assert.equal(await activeIn(1, 'default'), 'b', 'default has no failback policy: it stays in b');
    assert.deepEqual([...(await dev.controllerStore.evacuations()).entries()], [['default', 'a']]);
  });

  test('a drill of a and back: each namespace active in a goes to b and home again; its canaries are neither lost nor duplicated; audited with the drill identity', async () => {
    const clients = new Map(dev.clusters.map((c) => [c.config.region.name, new RegionClient(c.config.region.name, c.address)]));
    try {
      await eventually('orders active in a everywhere', async () => ((await activeIn(0, 'orders')) === 'a' ? true : undefined), 10_000);
      const reports = await drillRegion(clients, 'a', { andBack: true, identity: 'controller.test drill', timeoutMs: 5_000, canaries: 3, callTimeoutMs: 5_000 });
      const orders = reports.find((r) => r.namespace === 'orders');
      assert.ok(orders, `orders drilled: ${reports.map((r) => r.namespace).join(', ')}`);
      assert.deepEqual(orders.steps.map((s) => `${s.fromRegion}->${s.toRegion} ${s.ok}`), ['a->b true', 'b->a true'], orders.steps.map((s) => s.message).join('; '));
      assert.deepEqual(orders.checks.map((c) => [c.region, c.started, c.lost.length, c.duplicated.length]), [['b', 3, 0, 0], ['a', 3, 0, 0]]);
      // Read from the stores: the regions' frontends serve FailoverAuditService once region-services.ts registers it.
      const audit = (await Promise.all(dev.clusters.map((c) => c.store!.clusterMetadata.listFailoverAudit('orders', 20)))).flat();
      assert.ok(audit.some((e) => e.identity === 'controller.test drill' && e.namespace === 'orders' && e.fromRegion === 'b' && e.toRegion === 'a'));
    } finally {
      await Promise.all([...clients.values()].map((c) => c.close()));
    }
  });
});
