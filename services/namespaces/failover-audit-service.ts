// tandem.admin.v1.FailoverAuditService: this region's failover audit (what its coordinator
// wrote), read by `tandem failover log` and the failover controller. Served on the frontend's
// port beside FailoverService; a process main adds it to the frontend's extra services.
import type * as grpc from '@grpc/grpc-js';
import { apiError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ClusterMetadataStore } from '../persistence/cluster-store.js';
import { unaryHandler } from '../rpc/unary-handler.js';
import {
  FailoverAuditServiceService,
  type ListFailoverAuditRequest,
  type ListFailoverAuditResponse,
} from '../../proto/gen/tandem/admin/v1/failover_audit.js';
import type { AdminService } from './admin-service.js';

/** Entries per answer when the caller asks for none or too many. */
const MAX_ENTRIES = 1_000;

export function failoverAuditService(audit: Pick<ClusterMetadataStore, 'listFailoverAudit'>, region: string, log: Logger): AdminService {
  const list = async (req: ListFailoverAuditRequest): Promise<ListFailoverAuditResponse> => {
    if (req.limit < 0) throw apiError('INVALID_ARGUMENT', `limit must be >= 0, got ${req.limit}.`);
    const limit = req.limit > 0 ? Math.min(req.limit, MAX_ENTRIES) : MAX_ENTRIES;
    const entries = await audit.listFailoverAudit(req.namespace || undefined, limit);
    return {
      region,
      entries: entries.map((e) => ({
        ...e,
        startedAtMs: BigInt(e.startedAtMs),
        finishedAtMs: BigInt(e.finishedAtMs),
        lagTasks: e.lagTasks === undefined ? undefined : BigInt(e.lagTasks),
      })),
    };
  };
  return {
    definition: FailoverAuditServiceService as unknown as grpc.ServiceDefinition,
    implementation: { listFailoverAudit: unaryHandler('ListFailoverAudit', list, log) },
  };
}
