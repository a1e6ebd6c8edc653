// Where another region's events go (DESIGN invariants 5, 6): compared by (event id, version) with
// every branch of the run, they are a duplicate (every one known), extend a branch (the current one
// or a fork seen before), fork a new branch at the lowest common ancestor, or leave a gap the
// sender must fill. An event id the run has at another version is never a duplicate.
import type { BranchVersionHistory, ExecutionInfo, HistoryEvent, VersionHistoryItem } from './state.js';
import { allBranches, itemsOf, lastEventId, lowestCommonAncestor, truncate } from './version-history.js';

type Branch = BranchVersionHistory & { current: boolean };

export type ReplicatedPlan =
  | { kind: 'duplicate'; branch: Branch }
  /** The events after the branch's common part do not start right after it: resend from there. */
  | { kind: 'gap'; resendFrom: number }
  | { kind: 'append'; branch: Branch; events: HistoryEvent[] }
  /** New branch sharing [1, lca] with `from`; `events` start at lca + 1. */
  | { kind: 'fork'; from: Branch; lca: number; events: HistoryEvent[] };

/**
 * events: contiguous, in id order, not empty. remote: the sender's version history of the branch
 * they were read from (older senders ship none: the batch is then assumed to continue the current
 * branch, as before branches existed).
 */
export function planReplicated(info: ExecutionInfo, events: HistoryEvent[], remote?: VersionHistoryItem[]): ReplicatedPlan {
  const first = Number(events[0]!.eventId);
  const last = Number(events.at(-1)!.eventId);
  const branches = allBranches(info);
  // The sender's history up to the batch, then the batch itself as its events say.
  const incoming = itemsOf(events, truncate(remote ?? branches[0]!.items, first - 1));
  let best = branches[0]!;
  let lca = lowestCommonAncestor(best.items, incoming);
  for (const b of branches.slice(1)) {
    const l = lowestCommonAncestor(b.items, incoming);
    if (l > lca) [best, lca] = [b, l];
  }
  if (lca >= last) return { kind: 'duplicate', branch: best };
  const fresh = events.filter((e) => Number(e.eventId) > lca);
  if (Number(fresh[0]!.eventId) !== lca + 1) return { kind: 'gap', resendFrom: lca + 1 };
  if (lca === lastEventId(best.items)) return { kind: 'append', branch: best, events: fresh };
  return { kind: 'fork', from: best, lca, events: fresh };
}
