// Temporal's OperatorService, the cluster part: the regions this one knows (the topology's and
// those added at run time) and adding or removing a remote one. A remote cluster is described by
// its own frontend (GetClusterInfo), so what is stored is what that region says of itself.
import * as grpc from '@grpc/grpc-js';
import { apiError } from '../common/errors.js';
import { reflectionRoot, serviceDefinition } from '../common/grpc-codec.js';
import type { workflowservice as ws } from '../common/temporal.js';
import { toBigInt } from '../namespaces/convert.js';
import type { FrontendContext, Handlers } from './context.js';
import { requireString } from './validation.js';

export const OPERATOR_SERVICE = 'temporal.api.operatorservice.v1.OperatorService';
const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
/** How long AddOrUpdateRemoteCluster waits for the remote frontend to describe itself. */
const REMOTE_INFO_TIMEOUT_MS = 5_000;

/** The remote frontend's own GetClusterInfo; FAILED_PRECONDITION when it cannot be reached. */
function remoteClusterInfo(address: string): Promise<ws.GetClusterInfoResponse> {
  const method = serviceDefinition(reflectionRoot.lookupService(WORKFLOW_SERVICE)).GetClusterInfo!;
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<ws.GetClusterInfoResponse>((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, {}, new grpc.Metadata(), { deadline: Date.now() + REMOTE_INFO_TIMEOUT_MS }, (err, res) => {
      if (err) reject(apiError('FAILED_PRECONDITION', `Cannot read cluster info from ${address}: ${err.details || err.message}.`));
      else resolve(res as ws.GetClusterInfoResponse);
    });
  }).finally(() => client.close());
}

export function operatorHandlers(ctx: FrontendContext): Handlers {
  const clusters = () => ctx.namespaces.clusters;
  return {
    ListClusters: async () => ({
      clusters: clusters()
        .clusters()
        .map((c) => ({
          clusterName: c.name,
          clusterId: c.clusterId || c.name,
          address: c.frontendAddress ?? '',
          initialFailoverVersion: c.initialFailoverVersion as never,
          // Every region of a cluster has the same shard count (invariant 1); run-time additions were checked.
          historyShardCount: c.historyShardCount ?? ctx.config.historyShardCount,
          isConnectionEnabled: c.enabled,
          isReplicationEnabled: c.enabled,
        })),
    }),

    AddOrUpdateRemoteCluster: async (req: { frontendAddress?: string; enableRemoteClusterConnection?: boolean }) => {
      const address = requireString(req.frontendAddress, 'FrontendAddress', ctx.config);
      const info = await remoteClusterInfo(address);
      if (!info.clusterName) throw apiError('FAILED_PRECONDITION', `The frontend at ${address} reports no cluster name.`);
      if (info.historyShardCount !== ctx.config.historyShardCount) {
        throw apiError(
          'INVALID_ARGUMENT',
          `Cluster ${info.clusterName} has ${info.historyShardCount} history shards; this cluster has ${ctx.config.historyShardCount}. They must match.`,
        );
      }
      await clusters().addOrUpdate({
        name: info.clusterName,
        clusterId: info.clusterId || info.clusterName,
        frontendAddress: address,
        initialFailoverVersion: toBigInt(info.initialFailoverVersion),
        failoverVersionIncrement: toBigInt(info.failoverVersionIncrement),
        historyShardCount: info.historyShardCount,
        enabled: req.enableRemoteClusterConnection === true,
        updatedAtMs: Date.now(),
      });
      ctx.deps.logger.info({ cluster: info.clusterName, address, enabled: req.enableRemoteClusterConnection === true }, 'remote cluster added or updated');
      return {};
    },

    RemoveRemoteCluster: async (req: { clusterName?: string }) => {
      const name = requireString(req.clusterName, 'ClusterName', ctx.config);
      await clusters().remove(name);
      ctx.deps.logger.info({ cluster: name }, 'remote cluster removed');
      return {};
    },
  };
}
