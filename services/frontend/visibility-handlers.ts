// List/count executions from the VisibilityStore. The record's `data` JSON, written by history,
// holds memo and search attributes in protobufjs JSON form (bytes as base64), as fromObject reads it.
import type { commonv1, workflowv1, workflowservice as ws } from '../common/temporal.js';
import { msToSecondsNanos as timestamp } from '../namespaces/convert.js';
import type { VisibilityFilter, VisibilityRecord } from '../persistence/types.js';
import type { CallContext, FrontendContext, Handlers } from './context.js';
import { checkLength, pageSize } from './validation.js';
import { parseVisibilityQuery } from './visibility-query.js';

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
  return {
    execution: { workflowId: r.workflowId, runId: r.runId },
    type: { name: r.workflowType },
    startTime: timestamp(r.startTimeMs) as never,
    closeTime: r.closeTimeMs === null ? null : (timestamp(r.closeTimeMs) as never),
    executionTime: timestamp(r.executionTimeMs) as never,
    status: r.status,
    historyLength: BigInt(r.historyLength) as never,
    taskQueue: r.taskQueue,
    memo,
    searchAttributes,
  };
}

function pageToken(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes?.length ? Buffer.from(bytes).toString('utf8') : undefined;
}

export function visibilityHandlers(ctx: FrontendContext): Handlers {
  const limits = ctx.config;

  const list = (
    req: { namespace?: string | null; nextPageToken?: Uint8Array | null },
    call: CallContext,
    filter: VisibilityFilter,
    size: number,
  ) =>
    ctx.serve(req, call, 'read', async (ns) => {
      const page = await ctx.deps.persistence.visibility.listVisibility({
        namespaceId: ns.id,
        filter,
        pageSize: size,
        nextPageToken: pageToken(req.nextPageToken),
      });
      return {
        executions: page.records.map(toWorkflowExecutionInfo),
        nextPageToken: page.nextPageToken ? Buffer.from(page.nextPageToken, 'utf8') : Buffer.alloc(0),
      };
    });

  type OpenClosedRequest = ws.ListOpenWorkflowExecutionsRequest | ws.ListClosedWorkflowExecutionsRequest;
  // The start-time filter is ignored: tools always send one (0..now) and the store has no range scan.
  const legacyFilter = (req: OpenClosedRequest, open: boolean): VisibilityFilter => ({
    open,
    workflowId: checkLength(req.executionFilter?.workflowId, 'WorkflowId', limits) || undefined,
    runId: checkLength(req.executionFilter?.runId, 'RunId', limits) || undefined,
    workflowType: checkLength(req.typeFilter?.name, 'WorkflowType', limits) || undefined,
    status: 'statusFilter' in req && req.statusFilter?.status ? req.statusFilter.status : undefined,
  });

  return {
    ListWorkflowExecutions: async (req: ws.ListWorkflowExecutionsRequest, call) =>
      list(req, call, parseVisibilityQuery(req.query), pageSize(req.pageSize, 'PageSize', limits)),

    ScanWorkflowExecutions: async (req: ws.ScanWorkflowExecutionsRequest, call) =>
      list(req, call, parseVisibilityQuery(req.query), pageSize(req.pageSize, 'PageSize', limits)),

    ListOpenWorkflowExecutions: async (req: ws.ListOpenWorkflowExecutionsRequest, call) =>
      list(req, call, legacyFilter(req, true), pageSize(req.maximumPageSize, 'MaximumPageSize', limits)),

    ListClosedWorkflowExecutions: async (req: ws.ListClosedWorkflowExecutionsRequest, call) =>
      list(req, call, legacyFilter(req, false), pageSize(req.maximumPageSize, 'MaximumPageSize', limits)),

    CountWorkflowExecutions: async (req: ws.CountWorkflowExecutionsRequest, call) => {
      const filter = parseVisibilityQuery(req.query);
      return ctx.serve(req, call, 'read', async (ns): Promise<ws.ICountWorkflowExecutionsResponse> => {
        const count = await ctx.deps.persistence.visibility.countVisibility(ns.id, filter);
        return { count: BigInt(count) as never };
      });
    },
  };
}
