// The global namespaces as the regions hold them now: each region asked, and per namespace the
// record with the highest replication version kept (the newest failover wins; a region that
// missed it, or cannot be reached, does not pull the view back). On a tie (a handover changes no
// failover version, and DescribeNamespace carries no config version) the active region's own
// record wins: it is the one that writes the handover.
import type { Logger } from '../common/logger.js';
import { compareReplicationVersions, replicationVersion } from '../namespaces/replication-version.js';
import type { NamespaceRecord } from '../persistence/types.js';
import { describeError, type RegionClient } from './region-client.js';

export async function newestGlobalNamespaces(clients: RegionClient[], timeoutMs: number, log?: Logger): Promise<NamespaceRecord[]> {
  const newest = new Map<string, NamespaceRecord>();
  const lists = await Promise.all(
    clients.map((c) =>
      c.namespaces(timeoutMs).then(
        (recs) => recs.map((rec) => ({ rec, fromActive: rec.activeRegion === c.region })),
        (err: unknown) => {
          log?.debug({ region: c.region, err: describeError(err) }, 'namespaces not listed');
          return [];
        },
      ),
    ),
  );
  const fromActive = new Set<string>();
  for (const { rec, fromActive: authoritative } of lists.flat()) {
    if (!rec.isGlobal || rec.state !== 'registered') continue;
    const seen = newest.get(rec.id);
    const order = seen ? compareReplicationVersions(replicationVersion(rec), replicationVersion(seen)) : 1;
    if (order > 0 || (order === 0 && authoritative && !fromActive.has(rec.id))) {
      newest.set(rec.id, rec);
      if (authoritative) fromActive.add(rec.id);
      else fromActive.delete(rec.id);
    }
  }
  return [...newest.values()].sort((a, b) => a.name.localeCompare(b.name));
}
