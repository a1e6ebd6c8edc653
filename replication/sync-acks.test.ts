// Sync replication between two regions in one process (issue 10, item 7): a namespace registered
// with data tandem.replication=sync through Temporal's own API is answered only once b applied the
// write, so every acknowledged start and signal is in b the moment it is acknowledged; with the
// link cut a write is answered UNAVAILABLE after the bound; a forced failover to b during the cut
// loses nothing that was acknowledged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { Connection } from '@temporalio/client';
import { FailoverServiceClient, type FailoverNamespaceResponse } from '../proto/gen/tandem/admin/v1/failover.js';
import { enums } from '../services/common/temporal.js';
import type { EmbeddedCluster } from '../deploy/processes/embedded.js';
import { silentLogger } from '../services/common/logger.js';
import type { Shard } from '../services/history/shard.js';
import type { Persistence } from '../services/persistence/store.js';
import type { NamespaceRecord } from '../services/persistence/types.js';
import { metricValue, startTwoRegions, type TwoRegions } from '../test-e2e/two-regions.js';
import { ShardAcks } from './shard-acks.js';
import { SyncAcks } from './sync-acks.js';

const ET = enums.EventType;
const TANDEM = fileURLToPath(new URL('../bin/tandem.mjs', import.meta.url));
const run = promisify(execFile);
/** The history config's default bound (EmbeddedCluster passes no history config). */
const BOUND_MS = 5_000;

describe('SyncAcks', () => {
  const shard = () => ({ shardId: 0, ackLevels: { 'replication:b': '5' } }) as unknown as Shard;
  const acksOf = (s: Shard) => new ShardAcks(s, {} as Persistence, ['b', 'c'], 60_000, silentLogger());
  const settled = (p: Promise<void>) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);

  test('resolves at once for a task already acked, then on the first ack of that region that covers the task', async () => {
    const s = shard();
    const acks = acksOf(s);
    const waiter = new SyncAcks();
    const never = new AbortController().signal;
    assert.equal(await settled(waiter.acked(s, 'b', 5n, never)), true);
    const b = waiter.acked(s, 'b', 8n, never);
    acks.advance('c', 9n);
    acks.advance('b', 7n);
    assert.equal(await settled(b), false);
    acks.advance('b', 10n);
    assert.equal(await settled(b), true);
  });

  test('an aborted wait stops listening; a shard without a sender side waits until aborted', async () => {
    const s = shard();
    const acks = acksOf(s);
    const stop = new AbortController();
    const w = new SyncAcks().acked(s, 'c', 3n, stop.signal);
    stop.abort();
    acks.advance('c', 3n);
    assert.equal(await settled(w), false);
    assert.equal(await settled(new SyncAcks().acked({} as Shard, 'b', 1n, new AbortController().signal)), false);
  });
});

describe('sync replication between two regions', () => {
  let r: TwoRegions;
  let clientA: Connection;
  let clientB: Connection;
  let ns: NamespaceRecord;
  /** Acknowledged writes: workflow id -> signals acknowledged on it. */
  const acked = new Map<string, number>();

  before(async () => {
    r = await startTwoRegions({ reconnectMaxBackoffMs: 500 });
    // What each history process main does when it composes replication.
    // No retry interceptor: the test sees each UNAVAILABLE itself.
    [clientA, clientB] = await Promise.all([r.a, r.b].map((c) => Connection.connect({ address: c.address, interceptors: [] })));
    const name = `sync-${randomUUID().slice(0, 8)}`;
    // Registered as an SRE does: RegisterNamespace with data tandem.replication=sync.
    const { stdout } = await run(process.execPath, [TANDEM, 'namespace', 'create', name, '--regions', 'a,b', '--replication', 'sync', '--address', r.a.address]);
    const printed = JSON.parse(stdout) as { activeRegion: string; regions: string[]; isGlobal: boolean; replication: string };
    assert.deepEqual([printed.activeRegion, printed.regions, printed.isGlobal, printed.replication], ['a', ['a', 'b'], true, 'sync']);
    ns = await r.a.namespaces!.requireByName(name);
    for (let i = 0; !(await r.b.store!.namespaces.getNamespaceById(ns.id)); i++) {
      if (i > 100) throw new Error(`namespace ${name} did not reach b`);
      await new Promise((res) => setTimeout(res, 100));
    }
  });

  after(async () => {
    await Promise.all([clientA?.close(), clientB?.close()]);
    await r?.stop();
  });

  function start(workflowId: string, requestId = randomUUID()) {
    return clientA.workflowService.startWorkflowExecution({
      namespace: ns.name,
      workflowId,
      workflowType: { name: 'w' },
      taskQueue: { name: `q-${workflowId}` },
      requestId,
    });
  }

  function signal(workflowId: string) {
    return clientA.workflowService.signalWorkflowExecution({ namespace: ns.name, workflowExecution: { workflowId }, signalName: 'hello', requestId: randomUUID() });
  }

  /** The run's event types as c's store holds them; null when c has no such run. */
  async function eventTypes(c: EmbeddedCluster, workflowId: string): Promise<number[] | null> {
    const tx = c.history!.engine.tx;
    const ms = await tx.read(ns.id, workflowId, '').catch(() => null);
    if (!ms) return null;
    return (await tx.readAllEvents(ms, 1, ms.info.nextEventId)).map((e) => e.eventType!);
  }

  const signals = (types: number[] | null) => (types ?? []).filter((t) => t === ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).length;

  test('Describe shows the mode in the namespace data map, in both regions (tandem namespace create --replication sync set it)', async () => {
    for (const c of [clientA, clientB]) {
      const d = await c.workflowService.describeNamespace({ namespace: ns.name });
      assert.equal(d.namespaceInfo?.data?.['tandem.replication'], 'sync');
    }
  });

  test('every acknowledged start and signal is in b when it is acknowledged', async () => {
    for (let i = 0; i < 8; i++) {
      const workflowId = `ok-${i}-${randomUUID().slice(0, 6)}`;
      await start(workflowId);
      assert.notEqual(await eventTypes(r.b, workflowId), null, `start of ${workflowId} acknowledged but not in b`);
      acked.set(workflowId, 0);
      await signal(workflowId);
      acked.set(workflowId, 1);
      assert.equal(signals(await eventTypes(r.b, workflowId)), 1, `signal to ${workflowId} acknowledged but not in b`);
    }
    assert.ok((await metricValue(r.a, 'tandem_replication_sync_wait_seconds')) > 0);
  });

  test('with the link cut, a start and a signal are answered UNAVAILABLE after the bound, and a retry with the same request id once healed', async () => {
    await r.link.cut();
    const workflowId = `cut-${randomUUID().slice(0, 6)}`;
    const requestId = randomUUID();
    const [signaled] = [...acked.keys()];
    const began = Date.now();
    const outcomes = await Promise.allSettled([start(workflowId, requestId), signal(signaled!)]);
    const tookMs = Date.now() - began;
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected');
      const err = (o as PromiseRejectedResult).reason as grpc.ServiceError;
      assert.equal(err.code, grpc.status.UNAVAILABLE, err.message);
      assert.match(err.details, new RegExp(`committed in region a, not yet replicated to b within ${BOUND_MS / 1000}s \\(sync replication\\)`));
    }
    assert.ok(tookMs >= BOUND_MS - 100 && tookMs < BOUND_MS + 3_000, `answered after ${tookMs} ms`);
    assert.equal(await metricValue(r.a, 'tandem_replication_sync_timeouts_total'), 2);
    // Committed in a (not rolled back), not in b: not acknowledged, so not in `acked`.
    assert.notEqual(await eventTypes(r.a, workflowId), null);
    assert.equal(await eventTypes(r.b, workflowId), null);

    await r.link.heal();
    // What an SDK does on UNAVAILABLE: the same start again (deduplicated by its request id).
    const again = await start(workflowId, requestId);
    assert.equal(again.started, false);
    acked.set(workflowId, 0);
    assert.notEqual(await eventTypes(r.b, workflowId), null, 'the retried start was acknowledged before b had it');
  });

  test('a forced failover to b during an outage loses nothing that was acknowledged', async () => {
    // More acknowledged writes, then the outage starts right after the last acknowledgement.
    for (let i = 0; i < 4; i++) {
      const workflowId = `late-${i}-${randomUUID().slice(0, 6)}`;
      await start(workflowId);
      acked.set(workflowId, 0);
      await signal(workflowId);
      acked.set(workflowId, 1);
    }
    await r.link.cut();
    const admin = new FailoverServiceClient(r.b.address, grpc.credentials.createInsecure());
    try {
      const res = await new Promise<FailoverNamespaceResponse>((resolve, reject) =>
        admin.failoverNamespace({ namespace: ns.name, targetRegion: 'b', force: true, timeoutMs: 0n, identity: 'sync-replication test' }, (err, out) => (err ? reject(err) : resolve(out))),
      );
      assert.deepEqual([res.fromRegion, res.toRegion, res.mode], ['a', 'b', 'forced']);
    } finally {
      admin.close();
    }
    for (const [workflowId, count] of acked) {
      // Through b's client-facing API, now that b is active.
      const d = await clientB.workflowService.describeWorkflowExecution({ namespace: ns.name, execution: { workflowId } });
      assert.equal(d.workflowExecutionInfo?.execution?.workflowId, workflowId);
      // More than acknowledged is fine: the signal answered UNAVAILABLE committed in a and reached b once healed.
      assert.ok(signals(await eventTypes(r.b, workflowId)) >= count, `${workflowId}: b lost an acknowledged signal`);
    }
  });
});
