// Cluster info and namespace administration.
import { apiError } from '../common/errors.js';
import { enums, type workflowservice as ws } from '../common/temporal.js';
import { durationToMs, namespaceStateFromProto, parseExtraConfig, toDescribeNamespaceResponse } from '../namespaces/convert.js';
import { findRegion } from '../namespaces/failover.js';
import type { FrontendContext, Handlers } from './context.js';
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
  const region = () => findRegion(ctx.namespaces.config.regions, ctx.config.region);
  return {
    GetSystemInfo: async (): Promise<ws.IGetSystemInfoResponse> => ({
      serverVersion: ctx.config.serverVersion,
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: true,
        activityFailureIncludeHeartbeat: true,
        encodedFailureAttributes: true,
        upsertMemo: true,
        // Eager start and SDK metadata need history support first (see DESIGN SDK notes).
        eagerWorkflowStart: false,
        sdkMetadata: false,
        supportsSchedules: false,
        buildIdBasedVersioning: false,
      },
    }),
    GetClusterInfo: async (): Promise<ws.IGetClusterInfoResponse> => ({
      supportedClients: {},
      serverVersion: ctx.config.serverVersion,
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

export function namespaceHandlers(ctx: FrontendContext): Handlers {
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

    UpdateNamespace: async (req: ws.UpdateNamespaceRequest): Promise<ws.IUpdateNamespaceResponse> => {
      const name = requireString(req.namespace, 'Namespace', limits);
      const info = req.updateInfo;
      const config = req.config;
      const retentionMs = nonNegativeMs(config?.workflowExecutionRetentionTtl, 'WorkflowExecutionRetentionTtl');
      const state = info?.state ? namespaceStateFromProto(info.state) : undefined;
      if (info?.state && !state) throw apiError('INVALID_ARGUMENT', `Unknown namespace state ${info.state}.`);
      if (req.promoteNamespace) throw apiError('INVALID_ARGUMENT', 'Promoting a local namespace to global is not supported.');
      const current = await ctx.namespaces.requireByName(name);
      const repl = req.replicationConfig;
      if (repl?.activeClusterName && repl.activeClusterName !== current.activeRegion) {
        // Failovers need the handover protocol, the route update and the audit log of the controller.
        throw apiError('INVALID_ARGUMENT', `Namespace ${name}: change the active cluster through the failover controller.`);
      }
      if (repl?.clusters?.length) throw apiError('INVALID_ARGUMENT', `Namespace ${name}: the cluster list cannot be changed.`);
      const updated = await ctx.namespaces.update(name, (rec) => {
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
      });
      const d = toDescribeNamespaceResponse(updated);
      return {
        namespaceInfo: d.namespaceInfo,
        config: d.config,
        replicationConfig: d.replicationConfig,
        failoverVersion: d.failoverVersion,
        isGlobalNamespace: d.isGlobalNamespace,
      };
    },

    DeprecateNamespace: async (req: ws.DeprecateNamespaceRequest): Promise<ws.IDeprecateNamespaceResponse> => {
      const name = requireString(req.namespace, 'Namespace', limits);
      await ctx.namespaces.update(name, (rec) => ({ ...rec, state: 'deprecated' }));
      return {};
    },
  };
}
