// The replication services a region serves on its frontend's port (the one address other regions
// know): the stream, handed to the sender of the shard's owner, and the DLQ admin API.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../services/common/logger.js';
import type { ExtraService } from '../services/frontend/server.js';
import { toServiceStatus } from '../services/rpc/error-trailers.js';
import {
  ReplicationAdminServiceService,
  ReplicationServiceService,
  type DlqSelector,
  type ListDlqResponse,
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

export function replicationStreamService(serve: (call: SenderCall) => void): ExtraService {
  return {
    definition: ReplicationServiceService as unknown as grpc.ServiceDefinition,
    implementation: { streamShard: serve },
  };
}

export function replicationAdminService(admin: DlqAdmin, log: Logger): ExtraService {
  const unary =
    <Req, Res>(method: string, fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      fn(call.request).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceStatus(err, method, log), null),
      );
    };
  return {
    definition: ReplicationAdminServiceService as unknown as grpc.ServiceDefinition,
    implementation: {
      listDlq: unary('ListDlq', (req: { selector?: DlqSelector; limit: number }) => admin.listDlq(req.selector, req.limit > 0 ? req.limit : 100)),
      retryDlq: unary('RetryDlq', (req: { selector?: DlqSelector }) => admin.retryDlq(req.selector)),
      purgeDlq: unary('PurgeDlq', (req: { selector?: DlqSelector }) => admin.purgeDlq(req.selector)),
    },
  };
}
