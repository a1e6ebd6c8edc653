// Failover-version math (DESIGN invariant 4). Every region owns one residue class modulo the shared
// increment, so a version names the region that wrote it and only grows across failovers.
import { apiError } from '../common/errors.js';
import type { Int64 } from '../persistence/types.js';

export interface RegionConfig {
  name: string;
  /** This region's residue: 0 <= initialFailoverVersion < failoverVersionIncrement. */
  initialFailoverVersion: Int64;
  /** The same in every region of a cluster. */
  failoverVersionIncrement: Int64;
  /**
   * host:port of the region's frontend: where other regions forward calls, stream replication
   * and read namespace replication from. Unset for a region nobody reaches (tests, one region).
   */
  frontendAddress?: string;
}

export function validateRegionConfig(r: RegionConfig): RegionConfig {
  if (!r.name) throw new Error('region config: name is required');
  if (r.failoverVersionIncrement <= 0n) throw new Error(`region ${r.name}: failoverVersionIncrement must be > 0`);
  if (r.initialFailoverVersion < 0n || r.initialFailoverVersion >= r.failoverVersionIncrement) {
    throw new Error(
      `region ${r.name}: initialFailoverVersion ${r.initialFailoverVersion} must be in [0, ${r.failoverVersionIncrement})`,
    );
  }
  return r;
}

/** The smallest version >= current that is congruent to the target region's initial version. */
export function nextFailoverVersion(current: Int64, targetRegionInitialVersion: Int64, increment: Int64): Int64 {
  if (increment <= 0n) throw new RangeError(`failover version increment must be > 0, got ${increment}`);
  if (targetRegionInitialVersion < 0n || targetRegionInitialVersion >= increment) {
    throw new RangeError(`initial failover version ${targetRegionInitialVersion} must be in [0, ${increment})`);
  }
  if (current < 0n) throw new RangeError(`current failover version must be >= 0, got ${current}`);
  const candidate = (current / increment) * increment + targetRegionInitialVersion;
  return candidate >= current ? candidate : candidate + increment;
}

/** The region a version was written in, by its residue. */
export function regionOfVersion(version: Int64, regions: RegionConfig[]): RegionConfig | undefined {
  return regions.find((r) => version % r.failoverVersionIncrement === r.initialFailoverVersion);
}

export function findRegion(regions: RegionConfig[], name: string): RegionConfig {
  const r = regions.find((x) => x.name === name);
  if (!r) throw apiError('INVALID_ARGUMENT', `Unknown cluster ${name}; known: ${regions.map((x) => x.name).join(', ')}.`);
  return r;
}
