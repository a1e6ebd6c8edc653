// Where a namespace may be written (DESIGN invariants 4, 8, 10): only in its active region, and not
// while a graceful failover drains it. The frontend and every history writer ask the same question.
import { apiErrorWithDetails, type TandemError } from '../common/errors.js';
import type { NamespaceRecord } from '../persistence/types.js';

/** NamespaceNotActive (FAILED_PRECONDITION with the Temporal detail) for a namespace active elsewhere. */
export function namespaceNotActive(rec: NamespaceRecord, currentRegion: string): TandemError {
  return apiErrorWithDetails(
    'NAMESPACE_NOT_ACTIVE',
    [
      {
        typeName: 'temporal.api.errordetails.v1.NamespaceNotActiveFailure',
        value: { namespace: rec.name, currentCluster: currentRegion, activeCluster: rec.activeRegion },
      },
    ],
    rec.name,
    rec.activeRegion,
    currentRegion,
  );
}

export function namespaceInHandover(rec: NamespaceRecord): TandemError {
  return apiErrorWithDetails(
    'NAMESPACE_HANDOVER',
    [{ typeName: 'temporal.api.errordetails.v1.NamespaceUnavailableFailure', value: { namespace: rec.name } }],
    rec.name,
  );
}

/**
 * Throws unless region may write the namespace: 'worker' calls (polls, completions of tasks
 * already handed out) only need it active; 'write' calls also refuse a handover in progress.
 */
export function assertActive(rec: NamespaceRecord, region: string, access: 'worker' | 'write'): void {
  if (rec.activeRegion !== region) throw namespaceNotActive(rec, region);
  if (access === 'write' && rec.failoverState === 'handover') throw namespaceInHandover(rec);
}
