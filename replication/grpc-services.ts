// The replication services a region serves on its frontend's port (the one address other regions
// know): the stream, handed to the sender of the shard's owner, and the admin API (the DLQ verbs
// and the receiving side's lag measure).
import type * as grpc from '@grpc/grpc-js';
import { apiError } from '../services/common/errors.js';
import type { Logger } from '../services/common/logger.js';
import type { ExtraService } from '../services/frontend/server.js';
import type { RequestOf, ResponseOf } from '../services/rpc/definition.js';
import { unaryHandler } from '../services/rpc/unary-handler.js';
import {
  ReplicationAdminServiceService,
  ReplicationServiceService,
  type DlqSelector,
  type ListDlqResponse,
  type MeasureLagResponse,
  type PurgeDlqResponse,
  type RetryDlqResponse,
} from '../proto/gen/tandem/replication/v1/replication.js';
import type { SenderCall } from './stream-sender.js';

/** What serves the DLQ verbs (`tandem dlq list|retry|purge`). */
export interface DlqAdmin {
  listDlq(selector: DlqSelector | undefined, limit: number): Promise<ListDlqResponse>;
  retryDlq(selector: DlqSelector | undefined): Promise<RetryDlqResponse>;
  purgeDlq(selector: DlqSelector | undefined): Promise<PurgeDlqResponse>;
}

/** What serves MeasureLag: what a forced failover from sourceRegion would lose of the namespace (receiver-lag.ts). */
export interface LagAdmin {
  measureLag(namespaceId: string, sourceRegion: string): Promise<MeasureLagResponse>;
}

/** What ListDlq answers at most when the request names no limit. */
const DEFAULT_DLQ_LIST_LIMIT = 100;

export function replicationStreamService(serve: (call: SenderCall) => void): ExtraService {
  return {
    definition: ReplicationServiceService as unknown as grpc.ServiceDefinition,
    implementation: { streamShard: serve },
    peersOnly: true,
  };
}

type AdminDef = typeof ReplicationAdminServiceService;

/** The admin verbs as request handlers: served by a history node for its shards, or by a frontend. */
export function adminHandlers(dlq: DlqAdmin, lag: LagAdmin): { [K in keyof AdminDef]: (request: RequestOf<AdminDef[K]>) => Promise<ResponseOf<AdminDef[K]>> } {
  return {
    listDlq: (req) => dlq.listDlq(req.selector, req.limit > 0 ? req.limit : DEFAULT_DLQ_LIST_LIMIT),
    retryDlq: (req) => dlq.retryDlq(req.selector),
    purgeDlq: (req) => dlq.purgeDlq(req.selector),
    measureLag: async (req) => {
      if (!req.namespaceId) throw apiError('REQUIRED', 'namespace_id');
      if (!req.sourceRegion) throw apiError('REQUIRED', 'source_region');
      return lag.measureLag(req.namespaceId, req.sourceRegion);
    },
  };
}

export function replicationAdminService(dlq: DlqAdmin, lag: LagAdmin, log: Logger): ExtraService {
  const h = adminHandlers(dlq, lag);
  return {
    definition: ReplicationAdminServiceService as unknown as grpc.ServiceDefinition,
    implementation: {
      listDlq: unaryHandler('ListDlq', h.listDlq, log),
      retryDlq: unaryHandler('RetryDlq', h.retryDlq, log),
      purgeDlq: unaryHandler('PurgeDlq', h.purgeDlq, log),
      measureLag: unaryHandler('MeasureLag', h.measureLag, log),
    },
  };
}
