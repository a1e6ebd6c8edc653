// Two controller replicas on one lease store: exactly one leads; when it stops, the other takes
// over. On the in-memory store and on the test Redis (the regions are unreachable: a leader with
// nothing to observe still holds its lease). The TTL leaves room for a busy machine's late timers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureTestRedis } from '../../deploy/redis/test-instance.js';
import { silentLogger } from '../common/logger.js';
import { createRegistry } from '../common/metrics.js';
import { InMemoryRouteRegistry } from '../routes/in-memory.js';
import { FailoverController } from './controller.js';
import { InMemoryControllerStore } from './controller-store.js';
import { InMemoryLeaseStore, type LeaseStore } from './leader-lease.js';
import { RedisLeaseStore } from './redis-lease-store.js';

const regions = [
  { name: 'a', endpoint: '127.0.0.1:1' },
  { name: 'b', endpoint: '127.0.0.1:2' },
];

async function eventually(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function electionSuite(name: string, open: () => Promise<LeaseStore>): void {
  describe(`leader election on ${name}`, () => {
    test('one leader of two replicas; the other takes over when it stops', async () => {
      const leases = await open();
      const leaseName = `controller-${randomUUID()}`;
      const replica = (id: string) =>
        new FailoverController(
          { id, regions, leaseName, leaseTtlMs: 2_000, tickMs: 100, staleAfterMs: 1_000 },
          { leases, store: new InMemoryControllerStore(), routes: new InMemoryRouteRegistry(), logger: silentLogger(), registry: createRegistry() },
        );
      const [r1, r2] = [replica('r1'), replica('r2')];
      try {
        await r1.start();
        await r2.start();
        await new Promise((r) => setTimeout(r, 1_000));
        assert.deepEqual([r1.isLeader, r2.isLeader], [true, false], 'the first holds the lease through renewals');
        assert.equal((await leases.current(leaseName))?.holder, 'r1');
        await r1.stop();
        await eventually('r2 leads', () => r2.isLeader);
        assert.equal((await leases.current(leaseName))?.holder, 'r2');
      } finally {
        await r1.stop();
        await r2.stop();
        await leases.close();
      }
    });
  });
}

electionSuite('memory', async () => new InMemoryLeaseStore());
electionSuite('redis', async () => {
  const s = new RedisLeaseStore(`redis://${await ensureTestRedis()}`, `test-${randomUUID().slice(0, 8)}`);
  await s.connect();
  return s;
});
