// Schedule RPCs. A schedule is its scheduler run (services/schedules): Create starts it, Update
// and Patch signal it, Delete terminates it, Describe and List fold its history, and ListSchedules
// reads visibility's scheduler division. All of them are served where the namespace is active.
import { apiError, isTandemError } from '../common/errors.js';
import { enums, type api, type commonv1, type historyv1, type workflowservice as ws } from '../common/temporal.js';
import { durationFromMs, msFromTimestamp, timestampFromMs } from '../common/proto-time.js';
import type { NamespaceRef } from '../history/api.js';
import { searchAttributeTypes, validateSearchAttributes } from '../namespaces/search-attributes.js';
import { parseVisibilityQuery } from '../persistence/visibility-parser.js';
import { canonicalScheduleSpec, compileScheduleSpec, matchingTimes, type CompiledSpec } from '../schedules/schedule-spec.js';
import { catchupWindowMs, futureActionTimes } from '../schedules/scheduler.js';
import { foldSchedulerState, pausedOf, PAUSED_SEARCH_ATTRIBUTE, type SchedulerState } from '../schedules/scheduler-state.js';
import {
  SCHEDULER_NAMESPACE_DIVISION,
  SCHEDULER_SEARCH_ATTRIBUTES,
  SCHEDULER_TASK_QUEUE,
  SCHEDULER_WORKFLOW_TYPE,
  SIGNAL_PATCH,
  SIGNAL_UPDATE,
  decodeConflictToken,
  encodeConflictToken,
  encodePatch,
  encodeStartArgs,
  encodeUpdateArgs,
  scheduleIdOf,
  schedulerWorkflowId,
  type ScheduleActionResult,
} from '../schedules/scheduler-wire.js';
import type { CallContext, FrontendContext, Handlers } from './context.js';
import { checkLength, pageSize, requestIdOrNew, requireString } from './validation.js';

type ISchedule = api.schedule.v1.ISchedule;
const Status = enums.WorkflowExecutionStatus;
const DIVISION = 'TemporalNamespaceDivision';
const FUTURE_ACTIONS = 10;
const LIST_ACTIONS = 5;

const jsonPayload = (v: unknown): commonv1.IPayload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) });

/** The user's search attributes, without the ones the scheduler keeps for itself. */
/** The schedule's own search attributes; none: unset, as the reference answers. */
function userSearchAttributes(sa: commonv1.ISearchAttributes | null): commonv1.ISearchAttributes | null {
  const fields = Object.entries(sa?.indexedFields ?? {}).filter(([name]) => !SCHEDULER_SEARCH_ATTRIBUTES.has(name));
  return fields.length > 0 ? { indexedFields: Object.fromEntries(fields) } : null;
}

function compile(schedule: ISchedule, scheduleId: string): CompiledSpec {
  try {
    return compileScheduleSpec(schedule.spec ?? {}, scheduleId);
  } catch (err) {
    if (isTandemError(err)) throw err;
    throw apiError('INVALID_ARGUMENT', `Invalid schedule spec: ${(err as Error).message}`);
  }
}

function checkSchedule(schedule: ISchedule | null | undefined, scheduleId: string, limits: FrontendContext['config']): ISchedule {
  if (!schedule) throw apiError('REQUIRED', 'Schedule');
  const start = schedule.action?.startWorkflow;
  if (!start) throw apiError('INVALID_ARGUMENT', 'Schedule action must start a workflow.');
  requireString(start.workflowId, 'WorkflowId', limits);
  requireString(start.workflowType?.name, 'WorkflowType', limits);
  requireString(start.taskQueue?.name, 'TaskQueue', limits);
  compile(schedule, scheduleId);
  return schedule;
}

const actionResult = (a: ScheduleActionResult) => ({
  scheduleTime: timestampFromMs(a.scheduleMs),
  actualTime: timestampFromMs(a.actualMs),
  startWorkflowResult: { workflowId: a.workflowId, runId: a.runId },
});

export function scheduleHandlers(ctx: FrontendContext): Handlers {
  const limits = ctx.config;

  /** The schedule's state, folded from its running scheduler run's history. */
  const load = async (ns: NamespaceRef, scheduleId: string): Promise<SchedulerState> => {
    const workflowId = schedulerWorkflowId(scheduleId);
    let runId: string;
    try {
      const d = await ctx.history.describeWorkflowExecution(ns, { namespace: ns.name, execution: { workflowId } });
      if (d.workflowExecutionInfo?.status !== Status.WORKFLOW_EXECUTION_STATUS_RUNNING) throw apiError('SCHEDULE_NOT_FOUND', scheduleId);
      runId = d.workflowExecutionInfo.execution?.runId ?? '';
    } catch (err) {
      if (isTandemError(err, 'WORKFLOW_NOT_FOUND')) throw apiError('SCHEDULE_NOT_FOUND', scheduleId);
      throw err;
    }
    const events: historyv1.IHistoryEvent[] = [];
    let nextPageToken: Uint8Array | null | undefined;
    do {
      const page = await ctx.history.getWorkflowExecutionHistory(
        ns,
        { namespace: ns.name, execution: { workflowId, runId }, nextPageToken },
        new AbortController().signal,
      );
      events.push(...(page.history?.events ?? []));
      nextPageToken = page.nextPageToken;
    } while (nextPageToken?.length);
    return foldSchedulerState(events);
  };

  const signal = async (ns: NamespaceRef, scheduleId: string, signalName: string, input: commonv1.IPayloads, identity: string, requestId: string) => {
    try {
      await ctx.history.signalWorkflowExecution(ns, {
        namespace: ns.name,
        workflowExecution: { workflowId: schedulerWorkflowId(scheduleId) },
        signalName,
        input,
        identity,
        requestId,
      });
    } catch (err) {
      if (isTandemError(err, 'WORKFLOW_NOT_FOUND') || isTandemError(err, 'WORKFLOW_ALREADY_COMPLETED')) throw apiError('SCHEDULE_NOT_FOUND', scheduleId);
      throw err;
    }
  };

  const describe = (state: SchedulerState, scheduleId: string): ws.IDescribeScheduleResponse => {
    const spec = compile(state.schedule, scheduleId);
    return {
      schedule: {
        ...state.schedule,
        spec: canonicalScheduleSpec(state.schedule.spec ?? {}),
        policies: { ...state.schedule.policies, catchupWindow: durationFromMs(catchupWindowMs(state)) },
      },
      info: {
        actionCount: BigInt(state.actionCount) as never,
        missedCatchupWindow: BigInt(state.missedCatchupWindow) as never,
        overlapSkipped: BigInt(state.overlapSkipped) as never,
        bufferDropped: BigInt(state.bufferDropped) as never,
        bufferSize: BigInt(state.buffered.length) as never,
        runningWorkflows: state.running,
        recentActions: state.recent.map(actionResult),
        futureActionTimes: futureActionTimes(state, spec, Date.now(), FUTURE_ACTIONS).map(timestampFromMs),
        createTime: timestampFromMs(state.createTimeMs),
        updateTime: state.updateTimeMs ? timestampFromMs(state.updateTimeMs) : null,
      },
      memo: state.memo,
      searchAttributes: userSearchAttributes(state.searchAttributes),
      conflictToken: encodeConflictToken(state.conflictToken),
    };
  };

  const listEntry = (state: SchedulerState, scheduleId: string): api.schedule.v1.IScheduleListEntry => ({
    scheduleId,
    memo: state.memo,
    searchAttributes: userSearchAttributes(state.searchAttributes),
    info: {
      spec: canonicalScheduleSpec(state.schedule.spec ?? {}),
      workflowType: state.schedule.action?.startWorkflow?.workflowType,
      notes: state.schedule.state?.notes ?? '',
      paused: pausedOf(state.schedule),
      recentActions: state.recent.slice(-LIST_ACTIONS).map(actionResult),
      futureActionTimes: futureActionTimes(state, compile(state.schedule, scheduleId), Date.now(), LIST_ACTIONS).map(timestampFromMs),
    },
  });

  const requireScheduleId = (req: { scheduleId?: string | null }) => requireString(req.scheduleId, 'ScheduleId', limits);

  return {
    CreateSchedule: async (req: ws.CreateScheduleRequest, call: CallContext) => {
      const scheduleId = requireScheduleId(req);
      const schedule = checkSchedule(req.schedule, scheduleId, limits);
      checkLength(req.identity, 'Identity', limits);
      const requestId = requestIdOrNew(req.requestId, limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        const rec = await ctx.namespaces.requireById(ns.id);
        validateSearchAttributes(rec, req.searchAttributes);
        validateSearchAttributes(rec, schedule.action?.startWorkflow?.searchAttributes);
        try {
          await ctx.history.startWorkflowExecution(ns, {
            namespace: ns.name,
            workflowId: schedulerWorkflowId(scheduleId),
            workflowType: { name: SCHEDULER_WORKFLOW_TYPE },
            taskQueue: { name: SCHEDULER_TASK_QUEUE },
            input: encodeStartArgs({ schedule, initialPatch: req.initialPatch ?? null, createTimeMs: Date.now(), carried: null }),
            identity: req.identity ?? '',
            requestId,
            // A deleted schedule's id may be used again.
            workflowIdReusePolicy: enums.WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
            memo: req.memo,
            searchAttributes: {
              indexedFields: {
                ...(req.searchAttributes?.indexedFields ?? {}),
                [DIVISION]: jsonPayload(SCHEDULER_NAMESPACE_DIVISION),
                [PAUSED_SEARCH_ATTRIBUTE]: jsonPayload(pausedOf(schedule)),
              },
            },
          });
        } catch (err) {
          if (isTandemError(err, 'WORKFLOW_ALREADY_STARTED')) throw apiError('SCHEDULE_ALREADY_EXISTS');
          throw err;
        }
        return { conflictToken: encodeConflictToken(0) };
      });
    },

    DescribeSchedule: async (req: ws.DescribeScheduleRequest, call: CallContext) => {
      const scheduleId = requireScheduleId(req);
      return ctx.serve(req, call, 'read', async (ns) => describe(await load(ns, scheduleId), scheduleId));
    },

    UpdateSchedule: async (req: ws.UpdateScheduleRequest, call: CallContext) => {
      const scheduleId = requireScheduleId(req);
      const schedule = checkSchedule(req.schedule, scheduleId, limits);
      checkLength(req.identity, 'Identity', limits);
      const requestId = requestIdOrNew(req.requestId, limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        const rec = await ctx.namespaces.requireById(ns.id);
        validateSearchAttributes(rec, schedule.action?.startWorkflow?.searchAttributes);
        validateSearchAttributes(rec, req.searchAttributes);
        const state = await load(ns, scheduleId);
        // No token: the caller does not guard against concurrent updates.
        const token = req.conflictToken?.length ? decodeConflictToken(req.conflictToken) : state.conflictToken;
        if (token !== state.conflictToken) throw apiError('FAILED_PRECONDITION', 'mismatched conflict token');
        await signal(ns, scheduleId, SIGNAL_UPDATE, encodeUpdateArgs({ schedule, conflictToken: token, searchAttributes: req.searchAttributes ?? null, memo: req.memo ?? null }), req.identity ?? '', requestId);
        return {};
      });
    },

    PatchSchedule: async (req: ws.PatchScheduleRequest, call: CallContext) => {
      const scheduleId = requireScheduleId(req);
      if (!req.patch) throw apiError('REQUIRED', 'Patch');
      checkLength(req.patch.pause, 'Pause', limits);
      checkLength(req.patch.unpause, 'Unpause', limits);
      for (const b of req.patch.backfillRequest ?? []) {
        if (msFromTimestamp(b.endTime) < msFromTimestamp(b.startTime)) throw apiError('INVALID_ARGUMENT', 'Backfill end time is before its start time.');
      }
      const requestId = requestIdOrNew(req.requestId, limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        await signal(ns, scheduleId, SIGNAL_PATCH, encodePatch(req.patch!), req.identity ?? '', requestId);
        return {};
      });
    },

    DeleteSchedule: async (req: ws.DeleteScheduleRequest, call: CallContext) => {
      const scheduleId = requireScheduleId(req);
      checkLength(req.identity, 'Identity', limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        try {
          await ctx.history.terminateWorkflowExecution(ns, {
            namespace: ns.name,
            workflowExecution: { workflowId: schedulerWorkflowId(scheduleId) },
            reason: 'schedule deleted',
            identity: req.identity ?? '',
          });
        } catch (err) {
          if (isTandemError(err, 'WORKFLOW_NOT_FOUND') || isTandemError(err, 'WORKFLOW_ALREADY_COMPLETED')) throw apiError('SCHEDULE_NOT_FOUND', scheduleId);
          throw err;
        }
        return {};
      });
    },

    ListSchedules: async (req: ws.ListSchedulesRequest, call: CallContext) => {
      const size = pageSize(req.maximumPageSize, 'MaximumPageSize', limits);
      return ctx.serve(req, call, 'read', async (ns) => {
        const division = `${DIVISION} = '${SCHEDULER_NAMESPACE_DIVISION}' AND ExecutionStatus = 'Running'`;
        const query = req.query ? `${division} AND (${req.query})` : division;
        const parsed = parseVisibilityQuery(query, searchAttributeTypes(await ctx.namespaces.requireById(ns.id)), { count: false });
        const page = await ctx.deps.persistence.visibility.listVisibility({
          namespaceId: ns.id,
          query: parsed.query,
          pageSize: size,
          nextPageToken: req.nextPageToken?.length ? Buffer.from(req.nextPageToken).toString('utf8') : undefined,
        });
        const entries = await Promise.all(
          page.records.map(async (r) => {
            const scheduleId = scheduleIdOf(r.workflowId);
            try {
              return listEntry(await load(ns, scheduleId), scheduleId);
            } catch (err) {
              // Deleted since visibility listed it.
              if (isTandemError(err, 'SCHEDULE_NOT_FOUND')) return null;
              throw err;
            }
          }),
        );
        return {
          schedules: entries.filter((e) => e !== null),
          nextPageToken: page.nextPageToken ? Buffer.from(page.nextPageToken, 'utf8') : Buffer.alloc(0),
        };
      });
    },

    ListScheduleMatchingTimes: async (req: ws.ListScheduleMatchingTimesRequest, call: CallContext) => {
      const scheduleId = requireScheduleId(req);
      return ctx.serve(req, call, 'read', async (ns) => {
        const state = await load(ns, scheduleId);
        const times = matchingTimes(compile(state.schedule, scheduleId), msFromTimestamp(req.startTime), msFromTimestamp(req.endTime));
        return { startTime: times.map(timestampFromMs) };
      });
    },
  };
}
