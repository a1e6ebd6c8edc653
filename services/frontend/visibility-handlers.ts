// List/count executions from the VisibilityStore. Queries are parsed here against the namespace's
// search attributes (../namespaces/search-attributes.ts), so stores receive typed queries. The
// record's `data` JSON, written by history, holds memo and search attributes in protobufjs JSON
// form (bytes as base64), as fromObject reads it.
import { enums, type commonv1, type workflowv1, type workflowservice as ws } from '../common/temporal.js';
import type { NamespaceRef } from '../history/api.js';
import { durationToMs, msToSecondsNanos as timestamp } from '../namespaces/convert.js';
import { searchAttributeTypes } from '../namespaces/search-attributes.js';
import type { VisibilityRecord } from '../persistence/types.js';
import { executionStatusNames as visibilityStatusNames, sortGroups } from '../persistence/visibility-eval.js';
import { visibilityColumns, type Condition, type FieldRef, type ScalarValue, type VisibilityColumn, type VisibilityQuery } from '../persistence/visibility-query.js';
import type { CallContext, FrontendContext, Handlers } from './context.js';
import { checkLength, pageSize } from './validation.js';
import { parseVisibilityQuery, type ParsedVisibilityQuery } from '../persistence/visibility-parser.js';

function parseData(data: string): { memo?: commonv1.IMemo; searchAttributes?: commonv1.ISearchAttributes } {
  if (!data) return {};
  try {
    const parsed = JSON.parse(data) as Record<string, unknown> | null;
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}

export function toWorkflowExecutionInfo(r: VisibilityRecord): workflowv1.IWorkflowExecutionInfo {
  const { memo, searchAttributes } = parseData(r.data);
  const duration = r.executionDurationMs === null ? null : timestamp(r.executionDurationMs);
  return {
    execution: { workflowId: r.workflowId, runId: r.runId },
    type: { name: r.workflowType },
    startTime: timestamp(r.startTimeMs) as never,
    closeTime: r.closeTimeMs === null ? null : (timestamp(r.closeTimeMs) as never),
    executionTime: timestamp(r.executionTimeMs) as never,
    executionDuration: duration as never,
    status: r.status,
    historyLength: BigInt(r.historyLength) as never,
    historySizeBytes: BigInt(r.historySizeBytes) as never,
    stateTransitionCount: BigInt(r.stateTransitionCount) as never,
    // A child runs in its parent's namespace: the record has no other.
    parentNamespaceId: r.parentWorkflowId === null ? '' : r.namespaceId,
    parentExecution: r.parentWorkflowId === null ? null : { workflowId: r.parentWorkflowId, runId: r.parentRunId ?? '' },
    rootExecution: { workflowId: r.rootWorkflowId, runId: r.rootRunId },
    taskQueue: r.taskQueue,
    memo,
    searchAttributes,
    versioningInfo: versioningOf(r),
  };
}

/** Worker Versioning: the deployment version and behavior history keeps in the record's search attributes. */
function versioningOf(r: VisibilityRecord): workflowv1.IWorkflowExecutionVersioningInfo | null {
  const version = r.searchAttributes.TemporalWorkerDeploymentVersion?.value;
  const sep = typeof version === 'string' ? version.indexOf(':') : -1;
  if (typeof version !== 'string' || sep <= 0) return null;
  const deploymentVersion = { deploymentName: version.slice(0, sep), buildId: version.slice(sep + 1) };
  const behavior = r.searchAttributes.TemporalWorkflowVersioningBehavior?.value;
  return {
    deploymentVersion,
    version: `${deploymentVersion.deploymentName}.${deploymentVersion.buildId}`,
    behavior:
      behavior === 'Pinned'
        ? enums.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED
        : behavior === 'AutoUpgrade'
          ? enums.VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE
          : enums.VersioningBehavior.VERSIONING_BEHAVIOR_UNSPECIFIED,
  };
}

function pageToken(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes?.length ? Buffer.from(bytes).toString('utf8') : undefined;
}

const column = (name: VisibilityColumn): FieldRef => ({ name, type: visibilityColumns[name], builtin: true });

/** A group value as the reference server answers it: the value as a json/plain Payload. */
function groupValue(v: ScalarValue | null): commonv1.IPayload {
  return { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) };
}

export function visibilityHandlers(ctx: FrontendContext): Handlers {
  const limits = ctx.config;

  /** The query against the namespace's own search attributes. */
  const parse = async (ns: NamespaceRef, query: string | null | undefined, count: boolean): Promise<ParsedVisibilityQuery> => {
    const rec = await ctx.deps.namespaces.requireById(ns.id);
    return parseVisibilityQuery(query ?? '', searchAttributeTypes(rec), { count });
  };

  const list = (
    req: { namespace?: string | null; nextPageToken?: Uint8Array | null },
    call: CallContext,
    query: (ns: NamespaceRef) => Promise<VisibilityQuery>,
    size: number,
  ) =>
    ctx.serve(req, call, 'read', async (ns) => {
      const page = await ctx.deps.persistence.visibility.listVisibility({
        namespaceId: ns.id,
        query: await query(ns),
        pageSize: size,
        nextPageToken: pageToken(req.nextPageToken),
      });
      return {
        executions: page.records.map(toWorkflowExecutionInfo),
        nextPageToken: page.nextPageToken ? Buffer.from(page.nextPageToken, 'utf8') : Buffer.alloc(0),
      };
    });

  type OpenClosedRequest = ws.ListOpenWorkflowExecutionsRequest | ws.ListClosedWorkflowExecutionsRequest;
  /** The legacy filters as a query: open runs by start time, closed ones by close time, as the reference. */
  const legacyQuery = (req: OpenClosedRequest, open: boolean): VisibilityQuery => {
    const items: Condition[] = [
      open ? { op: '=', field: column('ExecutionStatus'), value: 'Running' } : { op: '!=', field: column('ExecutionStatus'), value: 'Running' },
    ];
    const equal = (name: VisibilityColumn, value: string | null | undefined) => {
      if (value) items.push({ op: '=', field: column(name), value });
    };
    equal('WorkflowId', checkLength(req.executionFilter?.workflowId, 'WorkflowId', limits));
    equal('RunId', checkLength(req.executionFilter?.runId, 'RunId', limits));
    equal('WorkflowType', checkLength(req.typeFilter?.name, 'WorkflowType', limits));
    const status = 'statusFilter' in req && req.statusFilter?.status ? visibilityStatusNames[req.statusFilter.status] : undefined;
    if (status) items.push({ op: '=', field: column('ExecutionStatus'), value: status });
    const earliest = durationToMs(req.startTimeFilter?.earliestTime);
    const latest = durationToMs(req.startTimeFilter?.latestTime);
    const time = column(open ? 'StartTime' : 'CloseTime');
    if (earliest) items.push({ op: '>=', field: time, value: earliest });
    if (latest) items.push({ op: '<=', field: time, value: latest });
    return { where: { op: 'and', items } };
  };

  return {
    ListWorkflowExecutions: async (req: ws.ListWorkflowExecutionsRequest, call) =>
      list(req, call, async (ns) => (await parse(ns, req.query, false)).query, pageSize(req.pageSize, 'PageSize', limits)),

    ScanWorkflowExecutions: async (req: ws.ScanWorkflowExecutionsRequest, call) =>
      list(req, call, async (ns) => (await parse(ns, req.query, false)).query, pageSize(req.pageSize, 'PageSize', limits)),

    ListOpenWorkflowExecutions: async (req: ws.ListOpenWorkflowExecutionsRequest, call) =>
      list(req, call, async () => legacyQuery(req, true), pageSize(req.maximumPageSize, 'MaximumPageSize', limits)),

    ListClosedWorkflowExecutions: async (req: ws.ListClosedWorkflowExecutionsRequest, call) =>
      list(req, call, async () => legacyQuery(req, false), pageSize(req.maximumPageSize, 'MaximumPageSize', limits)),

    CountWorkflowExecutions: async (req: ws.CountWorkflowExecutionsRequest, call) =>
      ctx.serve(req, call, 'read', async (ns): Promise<ws.ICountWorkflowExecutionsResponse> => {
        const { query, groupBy } = await parse(ns, req.query, true);
        const result = await ctx.deps.persistence.visibility.countVisibility(ns.id, query, groupBy);
        return {
          count: BigInt(result.count) as never,
          groups: sortGroups(result.groups ?? []).map((g) => ({ groupValues: g.values.map(groupValue), count: BigInt(g.count) as never })),
        };
      }),
  };
}
