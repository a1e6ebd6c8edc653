// Jitter spreads a schedule's actions: actual = nominal + an offset in [0, maxJitter). The offset
// is a hash of the seed (the schedule id) and the nominal time, not a random draw, so every
// region and every replay of the scheduler computes the same actual time.
import { createHash } from 'node:crypto';

export function jitteredMs(seed: string, nominalMs: number, maxJitterMs: number): number {
  if (maxJitterMs <= 0) return nominalMs;
  const fp = createHash('sha256').update(`${seed}\0${nominalMs}`).digest().readUInt32BE(0);
  // As the reference: 32 hash bits scale a millisecond range capped at 2^32 ms (~49 days).
  const range = Math.min(Math.floor(maxJitterMs), 0xffffffff);
  return nominalMs + Math.floor((fp * range) / 2 ** 32);
}
