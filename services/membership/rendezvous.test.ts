import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Member } from './membership.js';
import { murmur3, ownerOf, shardOwner } from './rendezvous.js';

const member = (id: string): Member => ({ id, role: 'history', address: `${id}:7234`, startedAtMs: 0 });
const cluster = (...ids: string[]) => ids.map(member);

function assignment(numShards: number, members: Member[]): string[] {
  return Array.from({ length: numShards }, (_, s) => shardOwner(s, members)!.id);
}

function counts(owners: string[]): Map<string, number> {
  const c = new Map<string, number>();
  for (const o of owners) c.set(o, (c.get(o) ?? 0) + 1);
  return c;
}

const NAMINGS = [
  cluster('a-history-1', 'a-history-2', 'a-history-3'),
  cluster('b-history-0', 'b-history-1', 'b-history-2'),
  cluster('h1', 'h2', 'h3'),
  cluster('10.0.0.7:7234', '10.0.0.8:7234', '10.0.0.9:7234'),
];

describe('rendezvous hashing', () => {
  test('murmur3 matches the reference vectors', () => {
    assert.equal(murmur3(''), 0);
    assert.equal(murmur3('', 1), 0x514e28b7);
    assert.equal(murmur3('abc'), 0xb3dd93fa);
    assert.equal(murmur3('abcd'), 0x43ed676a);
    assert.equal(murmur3('The quick brown fox jumps over the lazy dog'), 0x2e4ff723);
    assert.equal(murmur3('h€llo'), murmur3('h€llo'), 'UTF-8 input is hashed by its bytes');
  });

  test('no members, no owner; one member owns everything', () => {
    assert.equal(ownerOf('k', []), undefined);
    const solo = cluster('only');
    assert.deepEqual(new Set(assignment(64, solo)), new Set(['only']));
  });

  test('the owner depends on the members only, not on their order (same in every process)', () => {
    const members = cluster('a-history-1', 'a-history-2', 'a-history-3', 'a-history-4');
    const reversed = [...members].reverse();
    for (let s = 0; s < 256; s++) assert.equal(shardOwner(s, members)!.id, shardOwner(s, reversed)!.id);
    // Pinned: a change of hash or key format would move every shard of a running cluster.
    assert.deepEqual(assignment(8, members), assignment(8, cluster('a-history-4', 'a-history-3', 'a-history-2', 'a-history-1')));
    assert.deepEqual(assignment(8, cluster('a-history-1', 'a-history-2', 'a-history-3')), [
      'a-history-2', 'a-history-2', 'a-history-1', 'a-history-2', 'a-history-1', 'a-history-3', 'a-history-3', 'a-history-2',
    ]);
  });

  test('balance across 3 nodes', () => {
    for (const members of NAMINGS) {
      // Rendezvous spreads like independent random draws: small shard counts are only roughly even.
      for (const [numShards, min, max] of [[16, 2, 9], [64, 12, 32], [1024, 300, 380]] as const) {
        const c = counts(assignment(numShards, members));
        assert.equal(c.size, 3, `${numShards} shards over ${members.map((m) => m.id)}: every node gets some`);
        for (const [id, n] of c) assert.ok(n >= min && n <= max, `${numShards} shards: ${id} got ${n}, expected ${min}..${max}`);
      }
    }
  });

  test('a join moves only the shards the new node wins, about 1/(n+1) of them', () => {
    for (const members of NAMINGS) {
      const before = assignment(1024, members);
      const after = assignment(1024, [...members, member('newcomer')]);
      let moved = 0;
      before.forEach((owner, s) => {
        if (after[s] !== owner) {
          moved++;
          assert.equal(after[s], 'newcomer', `shard ${s} moved between old nodes`);
        }
      });
      assert.ok(moved > 1024 / 4 - 60 && moved < 1024 / 4 + 60, `moved ${moved} of 1024 to the 4th node`);
    }
  });

  test('a leave moves only the shards of the node that left', () => {
    for (const members of NAMINGS) {
      const before = assignment(1024, members);
      const gone = members[1]!.id;
      const after = assignment(1024, members.filter((m) => m.id !== gone));
      before.forEach((owner, s) => {
        if (owner !== gone) assert.equal(after[s], owner, `shard ${s} of a staying node moved`);
      });
      const inherited = counts(after.filter((_, s) => before[s] === gone));
      assert.equal(inherited.size, 2, 'the leaver’s shards spread over both remaining nodes');
    }
  });
});
