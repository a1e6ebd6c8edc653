// A namespace record on the admin wire (tandem.admin.v1.NamespaceRecord) and back. The
// notification version is a counter of one store and stays behind.
import type { NamespaceRecord as WireRecord } from '../../proto/gen/tandem/admin/v1/namespace_replication.js';
import type { NamespaceRecord, NamespaceState } from '../persistence/types.js';

const STATES: readonly NamespaceState[] = ['registered', 'deprecated', 'deleted'];

export function toWireRecord(rec: NamespaceRecord): WireRecord {
  return {
    id: rec.id,
    name: rec.name,
    state: rec.state,
    description: rec.description,
    ownerEmail: rec.ownerEmail,
    data: { ...rec.data },
    retentionMs: BigInt(rec.retentionMs),
    isGlobal: rec.isGlobal,
    activeRegion: rec.activeRegion,
    regions: [...rec.regions],
    failoverVersion: rec.failoverVersion,
    failoverState: rec.failoverState,
    config: rec.config,
  };
}

/** Throws on a record no sender of ours writes (unknown state), rather than storing it. */
export function fromWireRecord(w: WireRecord): Omit<NamespaceRecord, 'notificationVersion'> {
  const state = STATES.find((s) => s === w.state);
  if (!state) throw new Error(`replicated namespace ${w.name}: unknown state ${JSON.stringify(w.state)}`);
  if (w.failoverState !== 'normal' && w.failoverState !== 'handover') {
    throw new Error(`replicated namespace ${w.name}: unknown failover state ${JSON.stringify(w.failoverState)}`);
  }
  if (!w.id || !w.name) throw new Error('replicated namespace record without id or name');
  return {
    id: w.id,
    name: w.name,
    state,
    description: w.description,
    ownerEmail: w.ownerEmail,
    data: { ...w.data },
    retentionMs: Number(w.retentionMs),
    isGlobal: w.isGlobal,
    activeRegion: w.activeRegion,
    regions: [...w.regions],
    failoverVersion: w.failoverVersion,
    failoverState: w.failoverState,
    config: w.config,
  };
}
