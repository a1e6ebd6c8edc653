// The check behind DESIGN invariant 4a: rebuilding a run from its history events gives the state
// that was stored, field by field, except the non-event part (NonEventState and each activity's
// progress), which replication ships beside the events. Used by tests over whole stores.
import type { Persistence } from '../persistence/store.js';
import type { ExecutionRecord } from '../persistence/types.js';
import { foldHistory } from './event-fold.js';
import { MutableState } from './mutable-state.js';
import type { HistoryEvent, MutableStateData } from './state.js';
import { historyv1 } from '../common/temporal.js';

const PAGE = 1000;

/** The part of a run's state that its events determine. */
export function eventPart(data: MutableStateData): unknown {
  const { progress: _nonEvent, ...rest } = structuredClone(data);
  return { ...rest, activities: rest.activities.map(({ progress: _attempt, ...event }) => event) };
}

/** Field paths where a and b differ (at most `limit`), e.g. `info.historySizeBytes: 812 != 790`. */
export function differences(a: unknown, b: unknown, path = '', limit = 20, out: string[] = []): string[] {
  if (out.length >= limit) return out;
  if (a === b) return out;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    out.push(`${path || '(root)'}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
    return out;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k, limit, out);
  return out;
}

export interface ReplayReport {
  runsChecked: number;
  /** One line per run whose replay differs: its key and the differing fields. */
  mismatches: string[];
}

/** Rebuilds every run of every shard from its events and compares with the stored state. */
export async function checkReplay(store: Persistence, numShards: number): Promise<ReplayReport> {
  const report: ReplayReport = { runsChecked: 0, mismatches: [] };
  for (let shardId = 0; shardId < numShards; shardId++) {
    let after: ExecutionRecord['key'] | null = null;
    for (;;) {
      const page = await store.executions.listExecutions(shardId, after, 100);
      for (const rec of page) {
        report.runsChecked++;
        const diff = await replayDifferences(store, shardId, rec);
        if (diff.length > 0) report.mismatches.push(`${rec.key.workflowId}/${rec.key.runId}: ${diff.join('; ')}`);
      }
      if (page.length < 100) break;
      after = page[page.length - 1]!.key;
    }
  }
  return report;
}

async function replayDifferences(store: Persistence, shardId: number, rec: ExecutionRecord): Promise<string[]> {
  const stored = MutableState.fromBlob(rec.data, rec.dbRecordVersion, 0n);
  const events: HistoryEvent[] = [];
  for (let from = 1; from < rec.nextEventId; ) {
    const rows = await store.executions.readHistory({ shardId, branch: stored.branch, minEventId: from, maxEventId: rec.nextEventId, limit: PAGE });
    if (rows.length === 0) break;
    for (const r of rows) events.push(historyv1.HistoryEvent.decode(r.data));
    from += rows.length;
  }
  const rebuilt = foldHistory(rec.key, stored.info.branchId, events);
  // Where the branch is stored and the run's other branches are tree metadata, not the fold.
  rebuilt.info.branchAncestors = stored.info.branchAncestors;
  rebuilt.info.nonCurrentBranches = stored.info.nonCurrentBranches;
  return differences(eventPart(stored.data), eventPart(rebuilt));
}
