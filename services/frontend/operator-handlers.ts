// Temporal's OperatorService. The cluster part: the regions this one knows (the topology's and
// those added at run time) and adding or removing a remote one. A remote cluster is described by
// its own frontend (GetClusterInfo), so what is stored is what that region says of itself.
// Search attributes: a namespace's custom ones are part of its record, so adding or removing one
// is a namespace update, made in its active region and replicated with the record.
import * as grpc from '@grpc/grpc-js';
import { apiError } from '../common/errors.js';
import { reflectionRoot, serviceDefinition } from '../common/grpc-codec.js';
import type { operatorservice as ops, workflowservice as ws } from '../common/temporal.js';
import { toBigInt } from '../namespaces/convert.js';
import {
  checkCustomSearchAttributeName,
  customSearchAttributes,
  predefinedSearchAttributes,
  systemSearchAttributes,
  typeFromEnum,
  typeToEnum,
  withCustomSearchAttributes,
} from '../namespaces/search-attributes.js';
import type { SearchAttributeType } from '../persistence/visibility-query.js';
import type { CallContext, FrontendContext, Handlers } from './context.js';
import { requireString } from './validation.js';

export const OPERATOR_SERVICE = 'temporal.api.operatorservice.v1.OperatorService';
const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
/** How long AddOrUpdateRemoteCluster waits for the remote frontend to describe itself. */
const REMOTE_INFO_TIMEOUT_MS = 5_000;

/** The remote frontend's own GetClusterInfo; FAILED_PRECONDITION when it cannot be reached. */
function remoteClusterInfo(address: string, credentials = grpc.credentials.createInsecure()): Promise<ws.GetClusterInfoResponse> {
  const method = serviceDefinition(reflectionRoot.lookupService(WORKFLOW_SERVICE)).GetClusterInfo!;
  const client = new grpc.Client(address, credentials);
  return new Promise<ws.GetClusterInfoResponse>((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, {}, new grpc.Metadata(), { deadline: Date.now() + REMOTE_INFO_TIMEOUT_MS }, (err, res) => {
      if (err) reject(apiError('FAILED_PRECONDITION', `Cannot read cluster info from ${address}: ${err.details || err.message}.`));
      else resolve(res as ws.GetClusterInfoResponse);
    });
  }).finally(() => client.close());
}

/** Attribute types as IndexedValueType numbers, as the API answers them. */
function typeEnums(types: Readonly<Record<string, SearchAttributeType>>): Record<string, number> {
  return Object.fromEntries(Object.entries(types).map(([name, type]) => [name, typeToEnum(type)]));
}

/** The requested additions, typed; INVALID_ARGUMENT for a reserved or malformed name or an unknown type. */
function requestedAdditions(req: ops.IAddSearchAttributesRequest): Record<string, SearchAttributeType> {
  const entries = Object.entries(req.searchAttributes ?? {});
  if (entries.length === 0) throw apiError('REQUIRED', 'SearchAttributes');
  return Object.fromEntries(
    entries.map(([name, value]) => {
      checkCustomSearchAttributeName(name);
      const type = typeFromEnum(value);
      if (!type) throw apiError('INVALID_ARGUMENT', `Unknown search attribute type: ${value}.`);
      return [name, type];
    }),
  );
}

function searchAttributeHandlers(ctx: FrontendContext): Handlers {
  return {
    ListSearchAttributes: (req: ops.ListSearchAttributesRequest, call: CallContext) =>
      ctx.serve(req, call, 'read', async (ns) => {
        const rec = await ctx.namespaces.requireById(ns.id);
        return {
          customAttributes: typeEnums(customSearchAttributes(rec)),
          systemAttributes: typeEnums({ ...systemSearchAttributes, ...predefinedSearchAttributes }),
          // Values are stored typed beside the record, with no per-attribute column to report.
          storageSchema: {},
        };
      }),

    // Adding what exists with the same type is a no-op, so a create can be retried; another type is ALREADY_EXISTS.
    AddSearchAttributes: (req: ops.AddSearchAttributesRequest, call: CallContext) => {
      const wanted = requestedAdditions(req);
      return ctx.serve(req, call, 'write', async (ns) => {
        const current = customSearchAttributes(await ctx.namespaces.requireById(ns.id));
        for (const [name, type] of Object.entries(wanted)) {
          if (current[name] && current[name] !== type) {
            throw apiError('SEARCH_ATTRIBUTE_ALREADY_EXISTS', name, current[name]);
          }
        }
        if (Object.entries(wanted).every(([name]) => current[name])) return {};
        await ctx.namespaces.update(ns.name, (rec) => ({ ...rec, config: withCustomSearchAttributes(rec.config, (custom) => ({ ...custom, ...wanted })) }));
        ctx.deps.logger.info({ namespace: ns.name, added: wanted }, 'search attributes added');
        return {};
      });
    },

    RemoveSearchAttributes: (req: ops.RemoveSearchAttributesRequest, call: CallContext) => {
      const names = req.searchAttributes ?? [];
      if (names.length === 0) throw apiError('REQUIRED', 'SearchAttributes');
      return ctx.serve(req, call, 'write', async (ns) => {
        const current = customSearchAttributes(await ctx.namespaces.requireById(ns.id));
        for (const name of names) {
          if (current[name]) continue;
          if (name in systemSearchAttributes || name in predefinedSearchAttributes) {
            throw apiError('INVALID_ARGUMENT', `Unable to remove non-custom search attributes: ${name}.`);
          }
          throw apiError('SEARCH_ATTRIBUTE_NOT_FOUND', name);
        }
        await ctx.namespaces.update(ns.name, (rec) => ({
          ...rec,
          config: withCustomSearchAttributes(rec.config, (custom) => Object.fromEntries(Object.entries(custom).filter(([name]) => !names.includes(name)))),
        }));
        ctx.deps.logger.info({ namespace: ns.name, removed: names }, 'search attributes removed');
        return {};
      });
    },
  };
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
      const info = await remoteClusterInfo(address, ctx.deps.links);
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

    ...searchAttributeHandlers(ctx),
  };
}
