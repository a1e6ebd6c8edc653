// Version histories (DESIGN invariant 5): per branch of a run, the last event id written at each
// failover version, [(eventId, version)...]. A version belongs to one region and a region writes
// an event id once at a version, so (eventId, version) names one event across every branch: two
// branches agree up to their lowest common ancestor, the last event id both have at the same
// version. Pure functions; the branches themselves live in ExecutionInfo.
import type { HistoryBranch } from '../persistence/types.js';
import type { BranchVersionHistory, ExecutionInfo, HistoryEvent, VersionHistoryItem } from './state.js';

/** The run's branches, the current one (the state is folded from it) first. */
export function allBranches(info: ExecutionInfo): (BranchVersionHistory & { current: boolean })[] {
  return [
    { branchId: info.branchId, ancestors: info.branchAncestors, items: info.versionHistory, current: true },
    ...(info.nonCurrentBranches ?? []).map((b) => ({ ...b, current: false })),
  ];
}

export function lastEventId(items: VersionHistoryItem[]): number {
  return items.at(-1)?.eventId ?? 0;
}

export function lastVersion(items: VersionHistoryItem[]): bigint {
  const last = items.at(-1);
  return last ? BigInt(last.version) : -1n;
}

/** The version event `eventId` was written at on this branch; undefined past its end. */
export function versionAt(items: VersionHistoryItem[], eventId: number): string | undefined {
  if (eventId < 1) return undefined;
  return items.find((i) => i.eventId >= eventId)?.version;
}

/** Adds one event to a version history (the fold and the planner share it). */
export function addItem(items: VersionHistoryItem[], eventId: number, version: string): void {
  const last = items.at(-1);
  if (last && last.version === version) last.eventId = eventId;
  else items.push({ eventId, version });
}

export function itemsOf(events: HistoryEvent[], before: VersionHistoryItem[] = []): VersionHistoryItem[] {
  const items = before.map((i) => ({ ...i }));
  for (const e of events) addItem(items, Number(e.eventId), String(e.version));
  return items;
}

/** The prefix of a version history up to (and including) eventId. */
export function truncate(items: VersionHistoryItem[], eventId: number): VersionHistoryItem[] {
  const out: VersionHistoryItem[] = [];
  for (const i of items) {
    if (i.eventId >= eventId) {
      if (eventId > 0) out.push({ eventId, version: i.version });
      return out;
    }
    out.push({ ...i });
  }
  return out;
}

/**
 * The last event id on which two version histories agree (0: none). Walking both from the end:
 * the same version at both means both wrote it up to the lower of the two event ids; otherwise
 * the higher version cannot be in the other history and is skipped.
 */
export function lowestCommonAncestor(a: VersionHistoryItem[], b: VersionHistoryItem[]): number {
  let i = a.length - 1;
  let j = b.length - 1;
  while (i >= 0 && j >= 0) {
    const va = BigInt(a[i]!.version);
    const vb = BigInt(b[j]!.version);
    if (va === vb) return Math.min(a[i]!.eventId, b[j]!.eventId);
    if (va > vb) i--;
    else j--;
  }
  return 0;
}

/** A new branch that shares [1, endEventId) with `from` and owns the events after it. */
export function forkAt(from: HistoryBranch, endEventId: number, branchId: string): HistoryBranch {
  const ancestors: HistoryBranch['ancestors'] = [];
  let start = 1;
  for (const a of from.ancestors) {
    if (start >= endEventId) break;
    ancestors.push({ branchId: a.branchId, endEventId: Math.min(a.endEventId, endEventId) });
    start = a.endEventId;
  }
  if (start < endEventId) ancestors.push({ branchId: from.branchId, endEventId });
  return { treeId: from.treeId, branchId, ancestors };
}
