import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Member } from './membership.js';
import { InMemoryCluster, InMemoryMembership } from './in-memory.js';

const member = (id: string, role: Member['role'] = 'history'): Member => ({ id, role, address: `${id}:7234`, startedAtMs: 1 });
const ids = (ms: Member[]) => ms.map((m) => m.id);
/** Change listeners run in a microtask after the mutation. */
const settled = () => new Promise<void>((r) => setImmediate(r));

describe('InMemoryMembership', () => {
  test('join and leave are seen by every member, sorted by id, per role', async () => {
    const cluster = new InMemoryCluster();
    const b = new InMemoryMembership(cluster, member('h-b'));
    const a = new InMemoryMembership(cluster, member('h-a'));
    const fe = new InMemoryMembership(cluster, member('fe-1', 'frontend'));
    let changesSeenByA = 0;
    a.onChange(() => changesSeenByA++);
    await b.start();
    await a.start();
    await fe.start();
    await settled();
    assert.deepEqual(ids(b.members('history')), ['h-a', 'h-b']);
    assert.deepEqual(ids(a.members('frontend')), ['fe-1']);
    assert.deepEqual(ids(fe.members('matching')), []);
    assert.equal(changesSeenByA, 2, 'its own join and the frontend’s');

    await b.stop();
    await settled();
    assert.deepEqual(ids(a.members('history')), ['h-a']);
    assert.equal(changesSeenByA, 3);
    await a.stop();
    await fe.stop();
    assert.deepEqual(ids(cluster.members('history')), []);
  });

  test('a duplicate id is refused', async () => {
    const cluster = new InMemoryCluster();
    await new InMemoryMembership(cluster, member('h-a')).start();
    await assert.rejects(new InMemoryMembership(cluster, member('h-a')).start(), /already in the cluster/);
  });

  test('a killed node keeps its last view and hears nothing until revived', async () => {
    const cluster = new InMemoryCluster();
    const a = new InMemoryMembership(cluster, member('h-a'));
    const b = new InMemoryMembership(cluster, member('h-b'));
    let changesSeenByB = 0;
    b.onChange(() => changesSeenByB++);
    await a.start();
    await b.start();
    await settled();
    const before = changesSeenByB;

    cluster.kill('h-b');
    await settled();
    assert.deepEqual(ids(a.members('history')), ['h-a'], 'the others see it gone');
    assert.deepEqual(ids(b.members('history')), ['h-a', 'h-b'], 'the victim still sees itself and the others');
    const c = new InMemoryMembership(cluster, member('h-c'));
    await c.start();
    await settled();
    assert.deepEqual(ids(b.members('history')), ['h-a', 'h-b'], 'it missed the join');
    assert.equal(changesSeenByB, before);

    cluster.revive('h-b');
    await settled();
    assert.deepEqual(ids(b.members('history')), ['h-a', 'h-b', 'h-c']);
    assert.deepEqual(ids(a.members('history')), ['h-a', 'h-b', 'h-c']);
    assert.equal(changesSeenByB, before + 1);
    assert.throws(() => cluster.revive('h-a'), /not a killed member/);
  });

  test('bare members (no process behind them) can be added and removed', async () => {
    const cluster = new InMemoryCluster();
    const a = new InMemoryMembership(cluster, member('h-a'));
    await a.start();
    cluster.join(member('m-1', 'matching'));
    await settled();
    assert.deepEqual(ids(a.members('matching')), ['m-1']);
    cluster.kill('m-1');
    assert.deepEqual(ids(a.members('matching')), []);
  });
});
