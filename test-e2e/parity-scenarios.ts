// The parity suite's scenarios (issue 14): each drives one workflow through the official client
// and answers what a server wrote and said, normalized so that two servers compare equal when they
// behave the same. `record-reference.ts` runs them against the reference server once and keeps
// the answers as a fixture; `parity.test.ts` runs them against Tandem and compares.
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle, WorkflowStartOptions } from '@temporalio/client';
import { toPayloads } from '@temporalio/common';
import { enums, historyv1, protocolv1, updatev1, workflowservice as ws } from '../services/common/temporal.js';
import { durationFromMs } from '../services/common/proto-time.js';
import { eventually } from './harness.js';

export interface ScenarioEnv {
  client: Client;
  /** A client on the worker's own NativeConnection: the official client starts eagerly only through one. */
  workerClient: Client;
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
  'namespaceId',
  // The runs a reset read from and made.
  'baseRunId',
  'newRunId',
  // A failover version, as `version`: the reference's single cluster writes 0, Tandem's its own.
  'forkEventVersion',
  'pauseTime',
  // Written by the SDK from its own source paths, not by the server.
  'stackTrace',
]);

/** SDK flags are a set (core keeps them in a hash set): their order means nothing. */
const flagSets = new Set(['coreUsedFlags', 'langUsedFlags']);

function withoutVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVolatile);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // `version` is a failover version (a number) but for a worker deployment version (an object).
    if (volatileFields.has(k) && !(k === 'version' && v !== null && typeof v === 'object')) continue;
    out[k] = flagSets.has(k) && Array.isArray(v) ? [...(v as number[])].sort((a, b) => a - b) : withoutVolatile(v);
  }
  return out;
}

const asObject = { enums: String, longs: String, bytes: String } as const;

export function normalizeEvent(e: historyv1.IHistoryEvent): Record<string, unknown> {
  return withoutVolatile(historyv1.HistoryEvent.toObject(historyv1.HistoryEvent.fromObject(e), asObject)) as Record<string, unknown>;
}

/** Small pages: a page of the big histories of `suggestContinueAsNew` must stay under gRPC's 4 MiB. */
const HISTORY_PAGE_EVENTS = 2;

async function historyOf(client: Client, h: WorkflowHandle): Promise<Record<string, unknown>[]> {
  const events: Record<string, unknown>[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const res = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: h.workflowId },
      maximumPageSize: HISTORY_PAGE_EVENTS,
      nextPageToken,
    });
    events.push(...(res.history?.events ?? []).map(normalizeEvent));
    nextPageToken = res.nextPageToken?.length ? res.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
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

const describeResponse = (r: unknown) => ws.DescribeWorkflowExecutionResponse.toObject(r as never, asObject);
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

type StartOptions = Pick<WorkflowStartOptions, 'args' | 'retry' | 'workflowExecutionTimeout' | 'staticSummary' | 'staticDetails' | 'priority' | 'requestEagerStart'>;

function start(env: ScenarioEnv, workflowType: string, opts: StartOptions = {}, client = env.client): Promise<WorkflowHandle> {
  return client.workflow.start(workflowType, { workflowId: `${workflowType}-${randomUUID()}`, taskQueue: env.taskQueue, args: [], ...opts });
}

/** Runs a workflow to its close, whatever the close; its history is the result. */
async function runToClose(env: ScenarioEnv, workflowType: string, opts: StartOptions = {}): Promise<ScenarioRun> {
  const h = await start(env, workflowType, opts);
  await h.result().catch(() => undefined);
  return { workflowId: h.workflowId, history: await historyOf(env.client, h), calls: {} };
}

/** The run's calls: what `pick` takes from describing it (`describe`) and its child, `<id>-child` (`describeChild`). */
async function withDescribes(env: ScenarioEnv, run: ScenarioRun, pick: (d: ReturnType<typeof describeResponse>) => unknown): Promise<ScenarioRun> {
  const { client } = env;
  const describe = (workflowId: string) =>
    outcomeOf(() => client.workflowService.describeWorkflowExecution({ namespace: client.options.namespace, execution: { workflowId } }), (r) => pick(describeResponse(r)));
  run.calls = { describe: await describe(run.workflowId), describeChild: await describe(`${run.workflowId}-child`) };
  return run;
}

/**
 * A `retriedUnderNewOptions` run whose activity failed its first attempt and waits out its
 * ten-minute retry; `pending` reads that activity as DescribeWorkflowExecution shows it.
 */
async function retryWaiting(env: ScenarioEnv) {
  const namespace = env.client.options.namespace;
  const h = await start(env, 'retriedUnderNewOptions');
  const execution = { workflowId: h.workflowId };
  const pending = async () => (await env.client.workflowService.describeWorkflowExecution({ namespace, execution })).pendingActivities?.[0];
  await eventually('the first attempt failed, the retry waits', async () => {
    const a = await pending();
    return a?.attempt === 2 && a.state === enums.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED ? true : undefined;
  });
  return { h, namespace, execution, pending };
}

/** A pending activity in the JSON form the recordings hold. */
const pendingActivityObject = (r: unknown) => ws.DescribeWorkflowExecutionResponse.toObject({ pendingActivities: [r] } as never, asObject).pendingActivities?.[0];

const quickRetry = { initialInterval: '10ms', backoffCoefficient: 1 };
/** Big enough that a few of them cross the reference's 4 MiB suggestion threshold, small enough for the 2 MiB payload limit. */
const BLOB_BYTES = 1_200_000;

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

  /**
   * Issue 14.2: a worker closes the run while an update it has not seen yet waits. The test is
   * the worker (raw polls and completions on a queue no SDK worker polls), so the update surely
   * arrives while the task runs; the next task, if any, rejects it and closes the run.
   */
  async closeUnderPendingUpdate(env: ScenarioEnv): Promise<ScenarioRun> {
    const { client } = env;
    const namespace = client.options.namespace;
    const taskQueue = { name: `${env.taskQueue}-raw` };
    const workflowId = `closeUnderPendingUpdate-${randomUUID()}`;
    const updateId = 'pending-1';
    await client.workflowService.startWorkflowExecution({ namespace, workflowId, workflowType: { name: 'raw' }, taskQueue, requestId: randomUUID() });
    // A long poll needs a deadline; the task is already there.
    const poll = () =>
      client.connection.withDeadline(Date.now() + 30_000, () => client.workflowService.pollWorkflowTaskQueue({ namespace, taskQueue, identity: 'parity-raw' }));
    const close = (taskToken: Uint8Array, messages: protocolv1.IMessage[] = []) => () =>
      client.workflowService.respondWorkflowTaskCompleted({
        namespace,
        taskToken,
        identity: 'parity-raw',
        commands: [{ commandType: enums.CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }],
        messages,
      });
    const first = await poll();
    const update = outcomeOf(rawUpdate(env, workflowId, updateId, 'late', []), updateResponse);
    await eventually('the update admitted', async () => {
      const r = await client.workflowService.pollWorkflowExecutionUpdate({
        namespace,
        updateRef: { workflowExecution: { workflowId }, updateId },
        waitPolicy: { lifecycleStage: enums.UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED },
      });
      return r.stage ? true : undefined;
    });
    const calls: Record<string, CallOutcome> = { closeWithUpdatePending: await outcomeOf(close(first.taskToken!), empty) };
    if ('code' in calls.closeWithUpdatePending) {
      const second = await poll();
      const delivered = second.messages ?? [];
      calls.nextTaskMessages = { response: delivered.map((m) => ({ protocolInstanceId: m.protocolInstanceId, type: m.body?.type_url })) };
      const rejections = delivered.map((m) => ({
        id: `${m.protocolInstanceId}/reject`,
        protocolInstanceId: m.protocolInstanceId,
        body: {
          type_url: 'type.googleapis.com/temporal.api.update.v1.Rejection',
          value: updatev1.Rejection.encode({
            rejectedRequestMessageId: m.id,
            rejectedRequestSequencingEventId: m.eventId,
            rejectedRequest: updatev1.Request.decode(m.body!.value!),
            failure: { message: 'the run is closing', applicationFailureInfo: { type: 'Closing' } },
          }).finish(),
        },
      }));
      calls.closeAfterRejecting = await outcomeOf(close(second.taskToken!, rejections), empty);
    }
    calls.update = await update;
    return { workflowId, history: await historyOf(client, client.workflow.getHandle(workflowId)), calls };
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

  /** Issue 14.6: the retry state of each way an activity's retries end. */
  activityRetryStates: (env: ScenarioEnv) => runToClose(env, 'activityRetryStates'),
  /** Issue 14.6: a non-retryable failure under a retry policy. */
  workflowNonRetryable: (env: ScenarioEnv) => runToClose(env, 'failsWith', { args: ['nonRetryable'], retry: { ...quickRetry, maximumAttempts: 3 } }),
  /** Issue 14.6: a retryable failure on the last attempt. */
  workflowMaximumAttempts: (env: ScenarioEnv) => runToClose(env, 'failsWith', { args: ['retryable'], retry: { ...quickRetry, maximumAttempts: 1 } }),
  /** Issue 14.6: a failure without a retry policy. */
  workflowNoRetryPolicy: (env: ScenarioEnv) => runToClose(env, 'failsWith', { args: ['retryable'] }),
  /** Issue 14.6: a run timed out. */
  workflowTimedOut: (env: ScenarioEnv) => runToClose(env, 'napper', { args: [3_600_000], workflowExecutionTimeout: '1s' }),
  /** Issue 14.6: a child failed for good, as its parent's history tells it. */
  childRetryState: (env: ScenarioEnv) => runToClose(env, 'failingChildParent'),

  /** Issue 14.4: user metadata of the run, a timer, an activity and a child, in history and in describe. */
  async userMetadata(env: ScenarioEnv): Promise<ScenarioRun> {
    const run = await runToClose(env, 'summarizedSteps', { staticSummary: 'parity summary', staticDetails: 'parity **details**' });
    return withDescribes(env, run, (d) => ({ userMetadata: d.executionConfig?.userMetadata }));
  },

  /** Priorities and fairness keys of the run, an activity and a child, in history and in describe. */
  async priorities(env: ScenarioEnv): Promise<ScenarioRun> {
    const run = await runToClose(env, 'prioritizedSteps', { priority: { priorityKey: 2, fairnessKey: 'run-tenant', fairnessWeight: 2 } });
    return withDescribes(env, run, (d) => ({ priority: d.workflowExecutionInfo?.priority }));
  },

  /**
   * UpdateActivityOptions on an activity waiting out a ten-minute retry: the merged options it
   * answers, the pending activity describe shows, restore_original with a field mask refused, and
   * a shorter interval that lets the retry run.
   */
  async activityOptions(env: ScenarioEnv): Promise<ScenarioRun> {
    const { client } = env;
    const { h, namespace, execution, pending } = await retryWaiting(env);
    const update = (req: Omit<ws.IUpdateActivityOptionsRequest, 'namespace' | 'execution' | 'identity'>) =>
      outcomeOf(
        () => client.workflowService.updateActivityOptions({ namespace, execution, identity: 'parity', type: 'failsFirstAttempt', ...req }),
        (r) => ws.UpdateActivityOptionsResponse.toObject(r as never, asObject),
      );
    const calls: Record<string, CallOutcome> = {
      update: await update({
        activityOptions: { heartbeatTimeout: durationFromMs(3000), retryPolicy: { maximumAttempts: 7 } },
        updateMask: { paths: ['heartbeat_timeout', 'retry_policy.maximum_attempts'] },
      }),
      describe: await outcomeOf(pending, (r) => {
        const a = pendingActivityObject(r);
        return { activityId: a?.activityId, activityType: a?.activityType, state: a?.state, attempt: a?.attempt, maximumAttempts: a?.maximumAttempts, activityOptions: a?.activityOptions };
      }),
      restoreWithMask: await update({ restoreOriginal: true, updateMask: { paths: ['heartbeat_timeout'] } }),
      restore: await update({ restoreOriginal: true }),
      shorterRetry: await update({ activityOptions: { retryPolicy: { initialInterval: durationFromMs(1000) } }, updateMask: { paths: ['retry_policy.initial_interval'] } }),
    };
    await h.result();
    return { workflowId: h.workflowId, history: await historyOf(client, h), calls };
  },

  /** Eager activity dispatch: an activity the worker asks to run eagerly, then one it does not. */
  eagerActivities: (env: ScenarioEnv) => runToClose(env, 'eagerThenPolled'),

  /**
   * ResetWorkflowExecution to the first workflow task completed of a run that took two signals
   * afterwards (reapply left at its default): the answer, and the new run's history once told to finish.
   */
  async reset(env: ScenarioEnv): Promise<ScenarioRun> {
    const { client } = env;
    const namespace = client.options.namespace;
    const h = await start(env, 'waitForSignals');
    await firstTaskDone(client, h);
    let total = 0;
    for (const n of [1, 2]) {
      await h.signal('add', n);
      total += n;
      await eventually(`total ${total}`, async () => ((await h.query<number>('total')) === total && !(await h.describe()).raw.pendingWorkflowTask ? true : undefined));
    }
    const baseRunId = (await h.describe()).runId;
    const events = (await h.fetchHistory()).events ?? [];
    const point = events.find((e) => e.eventType === enums.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)!.eventId;
    let newRunId = '';
    const calls: Record<string, CallOutcome> = {
      reset: await outcomeOf(
        async () => {
          const r = await client.workflowService.resetWorkflowExecution({
            namespace,
            workflowExecution: { workflowId: h.workflowId, runId: baseRunId },
            reason: 'parity reset',
            workflowTaskFinishEventId: point,
            requestId: randomUUID(),
          });
          newRunId = r.runId ?? '';
          return r;
        },
        (r) => ws.ResetWorkflowExecutionResponse.toObject(r as never, asObject),
      ),
    };
    const fresh = client.workflow.getHandle(h.workflowId, newRunId);
    await eventually('the new run saw both signals again', async () => ((await fresh.query<number>('total')) === total && !(await fresh.describe()).raw.pendingWorkflowTask ? true : undefined));
    await fresh.signal('done');
    await fresh.result();
    return { workflowId: h.workflowId, history: await historyOf(client, fresh), calls };
  },

  /**
   * PauseActivity on an activity waiting out a ten-minute retry: the pending activity describe
   * shows paused, then UnpauseActivity, which lets the retry run.
   */
  async activityPause(env: ScenarioEnv): Promise<ScenarioRun> {
    const { client } = env;
    const { h, namespace, execution, pending } = await retryWaiting(env);
    const calls: Record<string, CallOutcome> = {
      pause: await outcomeOf(
        () => client.workflowService.pauseActivity({ namespace, execution, identity: 'parity', type: 'failsFirstAttempt', reason: 'parity pause' }),
        (r) => ws.PauseActivityResponse.toObject(r as never, asObject),
      ),
    };
    calls.describe = await outcomeOf(
      () => eventually('paused', async () => {
        const a = await pending();
        return a?.state === enums.PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED ? a : undefined;
      }),
      (r) => {
        const a = pendingActivityObject(r);
        return { activityId: a?.activityId, activityType: a?.activityType, state: a?.state, attempt: a?.attempt, paused: a?.paused, pauseInfo: a?.pauseInfo, lastFailure: a?.lastFailure };
      },
    );
    calls.unpause = await outcomeOf(
      () => client.workflowService.unpauseActivity({ namespace, execution, identity: 'parity', type: 'failsFirstAttempt' }),
      (r) => ws.UnpauseActivityResponse.toObject(r as never, asObject),
    );
    await h.result();
    return { workflowId: h.workflowId, history: await historyOf(client, h), calls };
  },

  /** StartWorkflowExecution with request_eager_execution, by the official client on its worker's connection. */
  async eagerStart(env: ScenarioEnv): Promise<ScenarioRun> {
    const h = await start(env, 'cancelledTimer', { requestEagerStart: true }, env.workerClient);
    await h.result();
    return { workflowId: h.workflowId, history: await historyOf(env.client, h), calls: { start: { response: { eagerlyStarted: (h as { eagerlyStarted?: boolean }).eagerlyStarted } } } };
  },

  /**
   * UpdateWorkflowExecutionOptions pinning a running unversioned workflow to a version no worker
   * has polled, then unsetting the override so it finishes on its own queue: the answers, describe
   * at the pinned point, and the options-updated events.
   */
  async workflowOptions(env: ScenarioEnv): Promise<ScenarioRun> {
    const { client } = env;
    const namespace = client.options.namespace;
    const h = await start(env, 'waitForSignals');
    await firstTaskDone(client, h);
    const workflowExecution = { workflowId: h.workflowId };
    const options = (req: Omit<ws.IUpdateWorkflowExecutionOptionsRequest, 'namespace' | 'workflowExecution'>) =>
      outcomeOf(
        () => client.workflowService.updateWorkflowExecutionOptions({ namespace, workflowExecution, ...req }),
        (r) => ws.UpdateWorkflowExecutionOptionsResponse.toObject(r as never, asObject),
      );
    const calls: Record<string, CallOutcome> = {
      pin: await options({
        workflowExecutionOptions: {
          versioningOverride: { pinned: { behavior: 1 /* PINNED_OVERRIDE_BEHAVIOR_PINNED */, version: { deploymentName: 'parity-deployment', buildId: 'parity-build' } } },
        },
        updateMask: { paths: ['versioning_override'] },
      }),
      describe: await outcomeOf(
        () => client.workflowService.describeWorkflowExecution({ namespace, execution: workflowExecution }),
        (r) => ({ versioningInfo: describeResponse(r).workflowExecutionInfo?.versioningInfo }),
      ),
      unset: await options({ workflowExecutionOptions: {}, updateMask: { paths: ['versioning_override'] } }),
    };
    await h.signal('done');
    await h.result();
    return { workflowId: h.workflowId, history: await historyOf(client, h), calls };
  },

  /** Issue 14.6: each signal grows the history by about a megabyte until the server suggests continue-as-new. */
  async suggestContinueAsNew(env: ScenarioEnv): Promise<ScenarioRun> {
    const h = await start(env, 'growsUntilSuggested');
    await firstTaskDone(env.client, h);
    const blob = 'x'.repeat(BLOB_BYTES);
    // One signal per workflow task, so both servers write the same history.
    for (let sent = 1; (await h.describe()).status.name === 'RUNNING'; sent++) {
      await h.signal('blob', blob);
      await eventually('the signal handled and its workflow task completed', async () =>
        (await h.query<number>('blobs')) === sent && !(await h.describe()).raw.pendingWorkflowTask ? true : undefined,
      );
    }
    const events = await historyOf(env.client, h);
    // The blobs themselves say nothing; their sizes are in historySizeBytes, which both servers count their own way.
    for (const e of events) delete (e.workflowExecutionSignaledEventAttributes as { input?: unknown } | undefined)?.input;
    return { workflowId: h.workflowId, history: events, calls: {} };
  },
};

export type ScenarioName = keyof typeof scenarios;
