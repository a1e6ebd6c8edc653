// The parity suite's scenarios (issue 14): each drives one workflow through the official client
// and answers what a server wrote and said, normalized so that two servers compare equal when they
// behave the same. `record-reference.ts` runs them against the reference server once and keeps
// the answers as a fixture; `parity.test.ts` runs them against Tandem and compares.
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { toPayloads } from '@temporalio/common';
import { enums, historyv1, updatev1, workflowservice as ws } from '../services/common/temporal.js';
import { eventually } from './harness.js';

export interface ScenarioEnv {
  client: Client;
  taskQueue: string;
}

/** A call's answer: the response, or the gRPC status it failed with. */
export type CallOutcome = { response: unknown } | { code: number; message: string };

export interface ScenarioResult {
  /** The run's history events, with what differs between any two runs (ids, times) removed. */
  history: Record<string, unknown>[];
  calls: Record<string, CallOutcome>;
}

/** A scenario's result and the workflow it ran (whose id differs on every run, so is not recorded). */
export type ScenarioRun = ScenarioResult & { workflowId: string };

/**
 * Fields that differ between any two executions of the same workflow on any server: times, ids,
 * the identity of the worker, the random task queue, sizes that depend on those.
 */
const volatileFields = new Set([
  'eventTime',
  'taskId',
  'version',
  'workflowId',
  'runId',
  'originalExecutionRunId',
  'firstExecutionRunId',
  'newExecutionRunId',
  'identity',
  'requestId',
  'taskQueue',
  'historySizeBytes',
  'binaryChecksum',
  'workflowExecutionExpirationTime',
  'expirationTime',
  'firstWorkflowTaskBackoff',
  'workerVersion',
  'sdkVersion',
]);

/** SDK flags are a set (core keeps them in a hash set): their order means nothing. */
const flagSets = new Set(['coreUsedFlags', 'langUsedFlags']);

function withoutVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVolatile);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (volatileFields.has(k)) continue;
    out[k] = flagSets.has(k) && Array.isArray(v) ? [...(v as number[])].sort((a, b) => a - b) : withoutVolatile(v);
  }
  return out;
}

const asObject = { enums: String, longs: String, bytes: String } as const;

export function normalizeEvent(e: historyv1.IHistoryEvent): Record<string, unknown> {
  return withoutVolatile(historyv1.HistoryEvent.toObject(historyv1.HistoryEvent.fromObject(e), asObject)) as Record<string, unknown>;
}

async function historyOf(client: Client, h: WorkflowHandle): Promise<Record<string, unknown>[]> {
  const res = await client.workflowService.getWorkflowExecutionHistory({ namespace: client.options.namespace, execution: { workflowId: h.workflowId } });
  return (res.history?.events ?? []).map(normalizeEvent);
}

async function outcomeOf(call: () => Promise<unknown>, toObject: (r: unknown) => unknown): Promise<CallOutcome> {
  try {
    return { response: withoutVolatile(toObject(await call())) };
  } catch (err) {
    const e = err as { code?: number; details?: string; message?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, message: e.details ?? e.message ?? '' };
  }
}

const updateResponse = (r: unknown) => ws.UpdateWorkflowExecutionResponse.toObject(r as never, asObject);
const pollUpdateResponse = (r: unknown) => ws.PollWorkflowExecutionUpdateResponse.toObject(r as never, asObject);
const empty = () => ({});

function rawUpdate(env: ScenarioEnv, workflowId: string, updateId: string, name: string, args: unknown[]) {
  const { client } = env;
  const payloads = toPayloads(client.options.loadedDataConverter.payloadConverter, ...args);
  return () =>
    client.workflowService.updateWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId },
      waitPolicy: { lifecycleStage: enums.UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED },
      request: {
        meta: { updateId, identity: 'parity' },
        input: { name, args: { payloads } },
      } satisfies updatev1.IRequest,
    });
}

async function firstTaskDone(client: Client, h: WorkflowHandle): Promise<void> {
  await eventually('first workflow task completed', async () =>
    (await historyOf(client, h)).some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED') ? true : undefined,
  );
}

function start(env: ScenarioEnv, workflowType: string): Promise<WorkflowHandle> {
  return env.client.workflow.start(workflowType, { workflowId: `${workflowType}-${randomUUID()}`, taskQueue: env.taskQueue, args: [] });
}

export const scenarios = {
  /** Issue 14.1: a cancelled timer; the history must replay on any worker. */
  async cancelledTimer(env: ScenarioEnv): Promise<ScenarioRun> {
    const h = await start(env, 'cancelledTimer');
    await h.result();
    return { workflowId: h.workflowId, history: await historyOf(env.client, h), calls: {} };
  },

  /** Issue 14.2: an update and a signal to a completed run, and an update id seen before. */
  async afterCompletion(env: ScenarioEnv): Promise<ScenarioRun> {
    const { client } = env;
    const h = await start(env, 'bumpCounter');
    await firstTaskDone(client, h);
    await h.executeUpdate('bump', { args: [2], updateId: 'bump-before' });
    await h.signal('finish');
    await h.result();
    const calls: Record<string, CallOutcome> = {
      updateAfterCompletion: await outcomeOf(rawUpdate(env, h.workflowId, 'bump-after', 'bump', [3]), updateResponse),
      repeatedUpdateId: await outcomeOf(rawUpdate(env, h.workflowId, 'bump-before', 'bump', [2]), updateResponse),
      signalAfterCompletion: await outcomeOf(
        () => client.workflowService.signalWorkflowExecution({ namespace: client.options.namespace, workflowExecution: { workflowId: h.workflowId }, signalName: 'finish' }),
        empty,
      ),
    };
    return { workflowId: h.workflowId, history: await historyOf(client, h), calls };
  },

  /** Issue 14.2: the workflow completes while an accepted update's handler still runs. */
  async unfinishedUpdate(env: ScenarioEnv): Promise<ScenarioRun> {
    const { client } = env;
    const h = await start(env, 'leavesHandlerRunning');
    await firstTaskDone(client, h);
    const calls: Record<string, CallOutcome> = { update: await outcomeOf(rawUpdate(env, h.workflowId, 'slow-1', 'slow', []), updateResponse) };
    await h.result();
    calls.pollAfterCompletion = await outcomeOf(
      () =>
        client.workflowService.pollWorkflowExecutionUpdate({
          namespace: client.options.namespace,
          updateRef: { workflowExecution: { workflowId: h.workflowId }, updateId: 'slow-1' },
          waitPolicy: { lifecycleStage: enums.UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED },
        }),
      pollUpdateResponse,
    );
    return { workflowId: h.workflowId, history: await historyOf(client, h), calls };
  },

  /** Issue 14.2: the workflow completes while a signal's handler still runs. */
  async unfinishedSignal(env: ScenarioEnv): Promise<ScenarioRun> {
    const { client } = env;
    const h = await start(env, 'leavesHandlerRunning');
    await firstTaskDone(client, h);
    await h.signal('slowSignal');
    await h.result();
    return { workflowId: h.workflowId, history: await historyOf(client, h), calls: {} };
  },
};

export type ScenarioName = keyof typeof scenarios;
