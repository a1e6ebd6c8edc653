// Versions of identity records. A record replaces another only when its version is higher
// (persistence/identity-store.ts), so two regions writing the same record must never pick the
// same version: the low 10 bits name the writing region, the rest is a millisecond clock that
// never goes back below the record's last version. The later write (by the writers' clocks) wins.
const REGION_BITS = 10n;
const REGION_MASK = (1n << REGION_BITS) - 1n;

/** The region's tag: its initial failover version, which is unique per cluster. */
export function regionTag(initialFailoverVersion: bigint): bigint {
  return initialFailoverVersion & REGION_MASK;
}

export function nextVersion(previous: bigint | undefined, nowMs: number, tag: bigint): bigint {
  const clock = BigInt(nowMs);
  const after = previous === undefined ? 0n : (previous >> REGION_BITS) + 1n;
  return ((clock > after ? clock : after) << REGION_BITS) | (tag & REGION_MASK);
}
