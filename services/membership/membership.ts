// The membership seam: which processes of a region are alive. Two implementations: in-memory
// (the embedded process) and Redis (a region: TTL heartbeats). Shard ownership is derived from it
// with rendezvous hashing, but a node writes a shard only after the range_id bump (fencing), so a
// stale view can never make two nodes write one shard.
import type { Service } from '../common/lifecycle.js';

export type Role = 'history' | 'matching' | 'frontend';

export interface Member {
  /** Stable node id, e.g. `a-history-1`. */
  id: string;
  role: Role;
  /** host:port of the node's internal gRPC server. */
  address: string;
  startedAtMs: number;
}

export interface Membership extends Service {
  readonly self: Member;
  /** Live members of a role (self included when it has that role), sorted by id. */
  members(role: Role): Member[];
  /** Called after every change of the live set (join, leave, expiry). Returns an unsubscribe. */
  onChange(listener: () => void): () => void;
}
