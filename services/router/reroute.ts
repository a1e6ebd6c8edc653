// Which answers of a region send a call elsewhere (DESIGN invariant 9): UNAVAILABLE (the region is
// down, unreachable, or in a graceful handover) and FAILED_PRECONDITION carrying Temporal's
// NamespaceNotActiveFailure (the namespace moved and that region could not forward). Every other
// answer is the caller's.
import * as grpc from '@grpc/grpc-js';
import { reflectionRoot } from '../common/grpc-codec.js';

export type RerouteReason = 'unavailable' | 'not_active';

const statusType = reflectionRoot.lookupType('google.rpc.Status');
const NOT_ACTIVE = 'temporal.api.errordetails.v1.NamespaceNotActiveFailure';

interface AnyDetail {
  type_url?: string;
}

function carriesNotActive(trailers: grpc.Metadata | undefined): boolean {
  const bin = trailers?.get('grpc-status-details-bin')[0];
  if (!Buffer.isBuffer(bin)) return false;
  try {
    const details = (statusType.decode(bin) as unknown as { details?: AnyDetail[] }).details ?? [];
    return details.some((d) => d.type_url?.endsWith(`/${NOT_ACTIVE}`));
  } catch {
    return false;
  }
}

export function rerouteReason(status: Pick<grpc.StatusObject, 'code' | 'metadata'>): RerouteReason | undefined {
  if (status.code === grpc.status.UNAVAILABLE) return 'unavailable';
  if (status.code === grpc.status.FAILED_PRECONDITION && carriesNotActive(status.metadata)) return 'not_active';
  return undefined;
}
