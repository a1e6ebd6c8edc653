// Rendezvous (highest-random-weight) hashing: every member scores every key, the highest score
// owns it. Each process computes the same owner from the same member list with no coordination,
// and a join or leave moves only the keys the changed member wins or held.
import type { Member } from './membership.js';

/** MurmurHash3 x86_32 of the UTF-8 bytes: fixed by its spec, so every process and version agrees. */
export function murmur3(text: string, seed = 0): number {
  const bytes = Buffer.from(text, 'utf8');
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = bytes.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = bytes.length & 3;
  if (tail > 0) {
    let k = 0;
    for (let j = tail - 1; j >= 0; j--) k = (k << 8) | bytes[blocks + j]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The member that owns `key`: the highest murmur3(`${member.id}\n${key}`). Ties (a 32-bit
 * collision) go to the smaller id, so the answer never depends on the order of `members`.
 */
export function ownerOf(key: string, members: readonly Member[]): Member | undefined {
  let best: Member | undefined;
  let bestScore = -1;
  for (const m of members) {
    const score = murmur3(`${m.id}\n${key}`);
    if (score > bestScore || (score === bestScore && best !== undefined && m.id < best.id)) {
      best = m;
      bestScore = score;
    }
  }
  return best;
}

/** The history member that owns a shard; `members` are the live history members. */
export function shardOwner(shardId: number, members: readonly Member[]): Member | undefined {
  return ownerOf(`shard/${shardId}`, members);
}
