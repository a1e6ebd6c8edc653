// The layout of a run's history tree that both stores follow (DESIGN invariants 1 and 5): where a
// branch's own events start, which branch ranges a read covers, and which row of an event id a
// read returns. The stores differ only in how they fetch and write rows.
import type { HistoryAppend, HistoryBranch, HistoryEventRow } from './types.js';

/** The first event id of a run. */
const FIRST_EVENT_ID = 1;

/** Where a branch's own events start: the end of the range it shares with its last ancestor. */
export function forkPoint(branch: HistoryBranch): number {
  return branch.ancestors.at(-1)?.endEventId ?? FIRST_EVENT_ID;
}

/** A range of event ids [min, max) read from one branch's own rows. */
export interface BranchRange {
  branchId: string;
  min: number;
  max: number;
}

/** The ranges of [minEventId, maxEventId) on a branch: each ancestor's share, oldest first, then its own. */
export function readRanges(branch: HistoryBranch, minEventId: number, maxEventId: number): BranchRange[] {
  const ranges: BranchRange[] = [];
  let start = FIRST_EVENT_ID;
  for (const { branchId, endEventId } of [...branch.ancestors, { branchId: branch.branchId, endEventId: Infinity }]) {
    const min = Math.max(start, minEventId);
    const max = Math.min(endEventId, maxEventId);
    if (min < max) ranges.push({ branchId, min, max });
    start = endEventId;
  }
  return ranges;
}

/**
 * Rows of one branch range in (eventId ascending, taskId descending) order, enough for `limit`
 * event ids. An event id may have several rows: the committed one and orphans of failed writes.
 */
export type RangeRows = (range: BranchRange, limit: number) => AsyncIterable<HistoryEventRow> | Iterable<HistoryEventRow>;

/**
 * Reads a branch: for every event id, the row with the highest taskId. Rows past the committed
 * nextEventId are orphans the caller's maxEventId leaves out. Below it, a committed write shadows
 * every orphan written before it (task ids only grow); a writer whose expected nextEventId was
 * stale fails its batch, and the store removes what it wrote before answering.
 */
export async function readBranch(branch: HistoryBranch, minEventId: number, maxEventId: number, limit: number, rows: RangeRows): Promise<HistoryEventRow[]> {
  const out: HistoryEventRow[] = [];
  for (const range of readRanges(branch, minEventId, maxEventId)) {
    if (out.length >= limit) break;
    let last = -Infinity;
    for await (const row of rows(range, limit - out.length)) {
      if (row.eventId === last) continue;
      out.push(row);
      last = row.eventId;
      if (out.length === limit) return out;
    }
  }
  return out;
}

/** An append that starts where the stored branch ends is valid on any branch; only others need the stored branch. */
export function startsAtStoredEnd(append: HistoryAppend, expectedNextEventId: number): boolean {
  return append.events.length === 0 || append.events[0]!.eventId === expectedNextEventId;
}
