// SyncReplication over a fake ReplicationAckWaiter: who waits (sync namespaces' client writes),
// for whom (every standby region), and what a standby that does not ack in time costs the client
// (UNAVAILABLE naming it, counted; the waits it left are released).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isTandemError } from '../common/errors.js';
import { createRegistry, type Registry } from '../common/metrics.js';
import type { NamespaceRecord } from '../persistence/types.js';
import type { Shard } from './shard.js';
import { SyncReplication, withoutStandbyWait, type ReplicationAckWaiter } from './sync-replication.js';

/** Acks by region, settable; records every wait and whether its signal was aborted. */
class FakeAcks implements ReplicationAckWaiter {
  readonly level = new Map<string, bigint>();
  readonly waits: { region: string; taskId: bigint; signal: AbortSignal }[] = [];
  private readonly wake = new Set<() => void>();

  acked(_shard: Shard, region: string, taskId: bigint, signal: AbortSignal): Promise<void> {
    this.waits.push({ region, taskId, signal });
    return new Promise((resolve) => {
      const check = () => {
        if ((this.level.get(region) ?? 0n) < taskId) return;
        this.wake.delete(check);
        resolve();
      };
      this.wake.add(check);
      signal.addEventListener('abort', () => this.wake.delete(check));
      check();
    });
  }

  ack(region: string, taskId: bigint): void {
    this.level.set(region, taskId);
    for (const w of [...this.wake]) w();
  }
}

const shard = (lastReplicationTaskId: bigint) => ({ lastReplicationTaskId }) as unknown as Shard;

function namespace(mode?: string, regions = ['a', 'b', 'c']): NamespaceRecord {
  return { name: 'pay', isGlobal: true, regions, data: mode ? { 'tandem.replication': mode } : {} } as unknown as NamespaceRecord;
}

function setup(timeoutMs = 5_000) {
  const registry = createRegistry();
  const acks = new FakeAcks();
  const sync = new SyncReplication('a', timeoutMs, registry);
  sync.use(acks);
  return { registry, acks, sync };
}

async function metric(registry: Registry, name: string): Promise<{ value: number; labels: object }[]> {
  return (await registry.getSingleMetric(name)!.get()).values.map((v) => ({ value: v.value, labels: v.labels }));
}

describe('SyncReplication', () => {
  test('an async namespace, a write no client waits on, or a shard with nothing replicated is answered at once', async () => {
    const { acks, sync } = setup();
    await sync.waitForStandbys(shard(7n), namespace());
    await sync.waitForStandbys(shard(7n), namespace('async'));
    await withoutStandbyWait(() => sync.waitForStandbys(shard(7n), namespace('sync')));
    await sync.waitForStandbys(shard(0n), namespace('sync'));
    assert.equal(acks.waits.length, 0);
  });

  test('a sync write returns once every standby region acked its shard up to the last task written', async () => {
    const { acks, sync, registry } = setup();
    let done = false;
    const waiting = sync.waitForStandbys(shard(42n), namespace('sync')).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(acks.waits.map((w) => [w.region, w.taskId]), [['b', 42n], ['c', 42n]]);
    acks.ack('b', 42n);
    acks.ack('c', 41n);
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false);
    acks.ack('c', 50n);
    await waiting;
    const waits = (await registry.getSingleMetric('tandem_replication_sync_wait_seconds')!.get()).values as { metricName?: string; value: number }[];
    assert.equal(waits.find((v) => v.metricName === 'tandem_replication_sync_wait_seconds_count')?.value, 1);
  });

  test('a standby that does not ack within the bound: UNAVAILABLE naming it, counted, its wait released', async () => {
    const { acks, sync, registry } = setup(200);
    acks.ack('b', 9n);
    const began = Date.now();
    const err = await sync.waitForStandbys(shard(9n), namespace('sync')).then(() => assert.fail('answered'), (e: unknown) => e);
    assert.ok(Date.now() - began >= 190);
    assert.ok(isTandemError(err, 'UNAVAILABLE'));
    assert.equal((err as Error).message, 'Namespace pay: committed in region a, not yet replicated to c within 0.2s (sync replication); retry with the same request id.');
    assert.deepEqual(await metric(registry, 'tandem_replication_sync_timeouts_total'), [{ value: 1, labels: { target: 'c' } }]);
    assert.ok(acks.waits.every((w) => w.signal.aborted));
  });
});
