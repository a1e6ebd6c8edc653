// The tandem.admin.v1 services a region serves on its frontend's port (the one address other
// regions and operators know): its namespace replication queue, and failovers (`tandem failover`).
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { apiError } from '../common/errors.js';
import { unaryHandler } from '../rpc/unary-handler.js';
import {
  NamespaceReplicationServiceService,
  type ReadNamespaceReplicationRequest,
  type ReadNamespaceReplicationResponse,
} from '../../proto/gen/tandem/admin/v1/namespace_replication.js';
import { FailoverServiceService, type FailoverNamespaceRequest, type FailoverNamespaceResponse } from '../../proto/gen/tandem/admin/v1/failover.js';
import type { FailoverCoordinator } from './failover-coordinator.js';
import type { NamespaceReplicationSource } from './replication-source.js';
import { toWireRecord } from './record-wire.js';

/** The same shape as the frontend's ExtraService: a definition and its implementation. */
export interface AdminService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
  /** For other regions only: with TLS, a caller must present a certificate the region's CA signed. */
  peersOnly?: boolean;
}

/** Entries per read when the reader asks for none or too many. */
const MAX_ENTRIES = 1_000;

export function namespaceReplicationService(source: NamespaceReplicationSource, log: Logger): AdminService {
  const read = async (req: ReadNamespaceReplicationRequest): Promise<ReadNamespaceReplicationResponse> => {
    if (req.afterSequence < 0n) throw apiError('INVALID_ARGUMENT', `after_sequence must be >= 0, got ${req.afterSequence}.`);
    const limit = req.maxEntries > 0 ? Math.min(req.maxEntries, MAX_ENTRIES) : MAX_ENTRIES;
    const page = await source.read(req.afterSequence, limit);
    return { entries: page.entries.map((e) => ({ sequence: e.seq, namespace: toWireRecord(e.record) })), lastSequence: page.lastSeq };
  };
  return {
    definition: NamespaceReplicationServiceService as unknown as grpc.ServiceDefinition,
    implementation: { readNamespaceReplication: unaryHandler('ReadNamespaceReplication', read, log) },
    peersOnly: true,
  };
}

export function failoverService(coordinator: FailoverCoordinator, log: Logger): AdminService {
  const failover = async (req: FailoverNamespaceRequest): Promise<FailoverNamespaceResponse> => {
    if (!req.namespace) throw apiError('REQUIRED', 'namespace');
    if (!req.targetRegion) throw apiError('REQUIRED', 'target_region');
    const r = await coordinator.failover(req.namespace, req.targetRegion, {
      graceful: !req.force,
      timeoutMs: Number(req.timeoutMs),
      identity: req.identity,
    });
    return {
      namespace: r.namespace,
      fromRegion: r.fromRegion,
      toRegion: r.toRegion,
      fromVersion: r.fromVersion,
      toVersion: r.toVersion,
      mode: r.mode,
      durationMs: BigInt(r.durationMs),
      ...(r.lag && { lagTasks: BigInt(r.lag.tasks), lagSeconds: r.lag.seconds, lagShardsUnknown: r.lag.shardsUnknown ?? 0 }),
    };
  };
  return {
    definition: FailoverServiceService as unknown as grpc.ServiceDefinition,
    implementation: { failoverNamespace: unaryHandler('FailoverNamespace', failover, log) },
  };
}
