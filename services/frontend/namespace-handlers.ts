// Cluster info and namespace administration. Writes of a global namespace happen in its active
// region only (one writer, so replication never merges concurrent edits): sent to another region
// they are forwarded there. A change of the active cluster is a graceful failover, handed to the
// FailoverCoordinator of the active region (forced ones come through tandem.admin.v1 only).
import { apiError } from '../common/errors.js';
import { enums, type workflowservice as ws } from '../common/temporal.js';
import { durationToMs, namespaceStateFromProto, parseExtraConfig, toDescribeNamespaceResponse } from '../namespaces/convert.js';
import { findRegion } from '../namespaces/failover.js';
import type { FailoverCoordinator } from '../namespaces/failover-coordinator.js';
import type { NamespaceRecord } from '../persistence/types.js';
import type { CallContext, FrontendContext, Handlers } from './context.js';
import { checkLength, pageSize, requireString } from './validation.js';

const IVT = enums.IndexedValueType;

/** The search attributes every execution has, by the name queries use. */
const systemSearchAttributes: Record<string, number> = {
  WorkflowId: IVT.INDEXED_VALUE_TYPE_KEYWORD,
  WorkflowType: IVT.INDEXED_VALUE_TYPE_KEYWORD,
  RunId: IVT.INDEXED_VALUE_TYPE_KEYWORD,
  ExecutionStatus: IVT.INDEXED_VALUE_TYPE_KEYWORD,
  TaskQueue: IVT.INDEXED_VALUE_TYPE_KEYWORD,
  StartTime: IVT.INDEXED_VALUE_TYPE_DATETIME,
  ExecutionTime: IVT.INDEXED_VALUE_TYPE_DATETIME,
  CloseTime: IVT.INDEXED_VALUE_TYPE_DATETIME,
  HistoryLength: IVT.INDEXED_VALUE_TYPE_INT,
};

function nonNegativeMs(d: Parameters<typeof durationToMs>[0], field: string): number | undefined {
  const ms = durationToMs(d);
  if (ms !== undefined && ms < 0) throw apiError('INVALID_ARGUMENT', `${field} must not be negative.`);
  return ms;
}

export function systemHandlers(ctx: FrontendContext): Handlers {
  const region = () => findRegion(ctx.namespaces.regions(), ctx.config.region);
  return {
    GetSystemInfo: async (): Promise<ws.IGetSystemInfoResponse> => ({
      serverVersion: ctx.config.serverVersion,
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: true,
        activityFailureIncludeHeartbeat: true,
        encodedFailureAttributes: true,
        upsertMemo: true,
        countGroupByExecutionStatus: true,
        // WorkflowTaskCompleted events keep the worker's sdk_metadata, so SDK flags a worker
        // recorded replay the same way on every other worker.
        sdkMetadata: true,
        eagerWorkflowStart: true,
        supportsSchedules: true,
        buildIdBasedVersioning: false,
      },
    }),
    GetClusterInfo: async (): Promise<ws.IGetClusterInfoResponse> => ({
      supportedClients: {},
      serverVersion: ctx.config.serverVersion,
      versionInfo: { current: { version: ctx.config.serverVersion } },
      clusterId: ctx.config.region,
      clusterName: ctx.config.region,
      historyShardCount: ctx.config.historyShardCount,
      persistenceStore: ctx.deps.persistence.kind,
      visibilityStore: ctx.deps.persistence.kind,
      initialFailoverVersion: region().initialFailoverVersion as never,
      failoverVersionIncrement: region().failoverVersionIncrement as never,
    }),
    GetSearchAttributes: async (): Promise<ws.IGetSearchAttributesResponse> => ({ keys: { ...systemSearchAttributes } }),
  };
}

/** Sameness of a requested cluster list and a namespace's: order does not matter. */
function sameClusters(requested: string[], rec: NamespaceRecord): boolean {
  const want = new Set(requested);
  return want.size === rec.regions.length && rec.regions.every((r) => want.has(r));
}

function updateResponse(rec: NamespaceRecord): ws.IUpdateNamespaceResponse {
  const d = toDescribeNamespaceResponse(rec);
  return {
    namespaceInfo: d.namespaceInfo,
    config: d.config,
    replicationConfig: d.replicationConfig,
    failoverVersion: d.failoverVersion,
    isGlobalNamespace: d.isGlobalNamespace,
  };
}

export function namespaceHandlers(ctx: FrontendContext, failover: FailoverCoordinator): Handlers {
  const limits = ctx.config;
  return {
    RegisterNamespace: async (req: ws.RegisterNamespaceRequest): Promise<ws.IRegisterNamespaceResponse> => {
      const name = requireString(req.namespace, 'Namespace', limits);
      await ctx.namespaces.register({
        name,
        description: checkLength(req.description, 'Description', limits),
        ownerEmail: checkLength(req.ownerEmail, 'OwnerEmail', limits),
        data: req.data,
        retentionMs: nonNegativeMs(req.workflowExecutionRetentionPeriod, 'WorkflowExecutionRetentionPeriod'),
        isGlobal: req.isGlobalNamespace,
        activeRegion: req.activeClusterName || undefined,
        regions: req.clusters.map((c) => c.clusterName ?? '').filter(Boolean),
        extra: {
          historyArchivalState: req.historyArchivalState || undefined,
          historyArchivalUri: req.historyArchivalUri || undefined,
          visibilityArchivalState: req.visibilityArchivalState || undefined,
          visibilityArchivalUri: req.visibilityArchivalUri || undefined,
        },
      });
      return {};
    },

    DescribeNamespace: async (req: ws.DescribeNamespaceRequest): Promise<ws.IDescribeNamespaceResponse> => {
      if (req.id) return toDescribeNamespaceResponse(await ctx.namespaces.requireById(checkLength(req.id, 'Id', limits)));
      const name = requireString(req.namespace, 'Namespace', limits);
      return toDescribeNamespaceResponse(await ctx.namespaces.requireByName(name));
    },

    ListNamespaces: async (req: ws.ListNamespacesRequest): Promise<ws.IListNamespacesResponse> => {
      const size = pageSize(req.pageSize, 'PageSize', limits);
      const after = req.nextPageToken.length > 0 ? Buffer.from(req.nextPageToken).toString('utf8') : undefined;
      const includeDeleted = req.namespaceFilter?.includeDeleted === true;
      const page = await ctx.namespaces.list(size, after, includeDeleted);
      return {
        namespaces: page.namespaces.map(toDescribeNamespaceResponse),
        nextPageToken: page.nextAfter === undefined ? Buffer.alloc(0) : Buffer.from(page.nextAfter, 'utf8'),
      };
    },

    UpdateNamespace: async (req: ws.UpdateNamespaceRequest, call: CallContext): Promise<object> => {
      const name = requireString(req.namespace, 'Namespace', limits);
      const info = req.updateInfo;
      const config = req.config;
      const retentionMs = nonNegativeMs(config?.workflowExecutionRetentionTtl, 'WorkflowExecutionRetentionTtl');
      const state = info?.state ? namespaceStateFromProto(info.state) : undefined;
      if (info?.state && !state) throw apiError('INVALID_ARGUMENT', `Unknown namespace state ${info.state}.`);
      if (req.promoteNamespace) throw apiError('INVALID_ARGUMENT', 'Promoting a local namespace to global is not supported.');
      const current = await ctx.namespaces.requireByName(name);
      const repl = req.replicationConfig;
      const requested = (repl?.clusters ?? []).map((c) => c.clusterName ?? '');
      // The temporal CLI sends the cluster list it was given on every update: the same list is no change.
      if (requested.length > 0 && !sameClusters(requested, current)) {
        throw apiError('INVALID_ARGUMENT', `Namespace ${name}: the cluster list cannot be changed (it is ${current.regions.join(', ')}).`);
      }
      const target = repl?.activeClusterName;
      if (target && target !== current.activeRegion) {
        if (!current.isGlobal) {
          throw apiError('INVALID_ARGUMENT', `Namespace ${name} is local to cluster ${current.activeRegion}; only a global namespace changes its active cluster.`);
        }
        // 'worker': served by the active region even while it drains (it refuses a second failover itself).
        return ctx.serve(req, call, 'worker', async () => {
          await failover.failover(name, target, { graceful: true, identity: `UpdateNamespace via ${ctx.config.region}` });
          return updateResponse(await ctx.namespaces.refreshNamespace(current.id));
        });
      }
      return ctx.serve(req, call, 'write', async () => updateResponse(await ctx.namespaces.update(name, (rec) => {
        const extra = parseExtraConfig(rec.config);
        if (config?.historyArchivalState) extra.historyArchivalState = config.historyArchivalState;
        if (config?.historyArchivalUri) extra.historyArchivalUri = config.historyArchivalUri;
        if (config?.visibilityArchivalState) extra.visibilityArchivalState = config.visibilityArchivalState;
        if (config?.visibilityArchivalUri) extra.visibilityArchivalUri = config.visibilityArchivalUri;
        return {
          ...rec,
          description: info?.description ? checkLength(info.description, 'Description', limits) : rec.description,
          ownerEmail: info?.ownerEmail ? checkLength(info.ownerEmail, 'OwnerEmail', limits) : rec.ownerEmail,
          // Temporal merges data: keys sent are set, keys not sent are kept.
          data: { ...rec.data, ...(info?.data ?? {}) },
          state: state ?? rec.state,
          retentionMs: retentionMs ?? rec.retentionMs,
          config: JSON.stringify(extra),
        };
      })));
    },

    DeprecateNamespace: async (req: ws.DeprecateNamespaceRequest, call: CallContext): Promise<object> => {
      const name = requireString(req.namespace, 'Namespace', limits);
      return ctx.serve(req, call, 'write', async () => {
        await ctx.namespaces.update(name, (rec) => ({ ...rec, state: 'deprecated' }));
        return {};
      });
    },
  };
}
