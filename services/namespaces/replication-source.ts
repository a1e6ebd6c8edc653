// The sending side of namespace replication: this region's queue after a position, each entry
// with the namespace record as it is now (read at send time, like history events). An entry's
// record write may still be in flight (the entry is appended first, registry.ts): the answer
// stops before it so the reader asks again; one whose record never reaches its version within
// pendingWriteGraceMs lost its write race and carries nothing, so it is passed over.
import type { ClusterMetadataStore } from '../persistence/cluster-store.js';
import type { NamespaceStore } from '../persistence/store.js';
import type { Int64, NamespaceRecord } from '../persistence/types.js';
import { compareReplicationVersions, replicationVersion } from './replication-version.js';

export interface ReplicationPage {
  /** In queue order, one per namespace (its latest entry of the page), each with its current record. */
  entries: { seq: Int64; record: NamespaceRecord }[];
  /** The position the page covers: the reader stores it once it applied the entries. */
  lastSeq: Int64;
}

export class NamespaceReplicationSource {
  constructor(
    private readonly namespaces: NamespaceStore,
    private readonly queue: Pick<ClusterMetadataStore, 'readNamespaceReplication'>,
    private readonly pendingWriteGraceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async read(afterSeq: Int64, limit: number): Promise<ReplicationPage> {
    const queued = await this.queue.readNamespaceReplication(afterSeq, limit);
    const latest = new Map<string, { seq: Int64; record: NamespaceRecord }>();
    const records = new Map<string, NamespaceRecord | null>();
    let lastSeq = afterSeq;
    for (const e of queued) {
      if (!records.has(e.namespaceId)) records.set(e.namespaceId, await this.namespaces.getNamespaceById(e.namespaceId));
      const record = records.get(e.namespaceId) ?? null;
      const landed = record !== null && compareReplicationVersions(replicationVersion(record), e) >= 0;
      if (!landed && this.now() - e.createdAtMs < this.pendingWriteGraceMs) break;
      if (landed) {
        latest.delete(e.namespaceId);
        latest.set(e.namespaceId, { seq: e.seq, record });
      }
      lastSeq = e.seq;
    }
    return { entries: [...latest.values()], lastSeq };
  }
}
