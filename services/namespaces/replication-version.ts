// The order of a global namespace's records across regions. A record replaces another only when
// its (failoverVersion, configVersion) is greater: the failover version grows with every failover
// and names the region that wrote it (invariant 4); the config version grows with every write, so
// two writes of one failover version order by it. notificationVersion is a counter of one store
// and means nothing in another region, so it is never compared here.
//
// The config version lives in the record's config JSON (owned by this layer, opaque to the store),
// so it travels with the record and needs no column.
import type { Int64, NamespaceRecord } from '../persistence/types.js';

const KEY = 'replicationConfigVersion';

export interface ReplicationVersion {
  failoverVersion: Int64;
  configVersion: Int64;
}

export function configVersionOf(rec: Pick<NamespaceRecord, 'config'>): Int64 {
  try {
    const v: unknown = rec.config ? (JSON.parse(rec.config) as Record<string, unknown>)[KEY] : undefined;
    return typeof v === 'string' ? BigInt(v) : 0n;
  } catch {
    return 0n;
  }
}

export function withConfigVersion(rec: NamespaceRecord, configVersion: Int64): NamespaceRecord {
  let config: Record<string, unknown> = {};
  try {
    const parsed: unknown = rec.config ? JSON.parse(rec.config) : {};
    if (parsed && typeof parsed === 'object') config = parsed as Record<string, unknown>;
  } catch {
    // An unreadable config keeps nothing but the version.
  }
  return { ...rec, config: JSON.stringify({ ...config, [KEY]: configVersion.toString() }) };
}

export function replicationVersion(rec: NamespaceRecord): ReplicationVersion {
  return { failoverVersion: rec.failoverVersion, configVersion: configVersionOf(rec) };
}

/** -1, 0 or 1 as a is older than, the same as, or newer than b. */
export function compareReplicationVersions(a: ReplicationVersion, b: ReplicationVersion): number {
  if (a.failoverVersion !== b.failoverVersion) return a.failoverVersion < b.failoverVersion ? -1 : 1;
  if (a.configVersion !== b.configVersion) return a.configVersion < b.configVersion ? -1 : 1;
  return 0;
}
