// The page token of GetWorkflowExecutionHistory and of a workflow task's history pages: which run
// (a long poll keeps following the run it started on) and where the next page starts.
import { apiError } from '../common/errors.js';

interface HistoryPageToken {
  runId: string;
  nextEventId: number;
}

export function encodeHistoryPageToken(t: HistoryPageToken): Uint8Array {
  return Buffer.from(JSON.stringify(t), 'utf8');
}

export function decodeHistoryPageToken(b: Uint8Array | null | undefined): HistoryPageToken | null {
  if (!b || b.length === 0) return null;
  try {
    const t = JSON.parse(Buffer.from(b).toString('utf8')) as HistoryPageToken;
    if (typeof t.runId !== 'string' || typeof t.nextEventId !== 'number') throw new Error('bad token');
    return t;
  } catch {
    throw apiError('INVALID_ARGUMENT', 'Invalid NextPageToken.');
  }
}
