// Workflows of the parity suite (issue 14): each runs the same way on Tandem and on the reference
// server, whose histories are kept as fixtures (test-e2e/fixtures/reference-parity.json).
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Priority } from '@temporalio/common';
import type * as activities from '../parity-activities.js';

/** Starts a long timer, lets a short one fire, then cancels the long one: a TimerCanceled event. */
export async function cancelledTimer(): Promise<string> {
  const scope = new CancellationScope();
  const long = scope.run(() => sleep('1 hour'));
  await sleep(10);
  scope.cancel();
  try {
    await long;
    return 'the long timer fired';
  } catch (err) {
    if (!isCancellation(err)) throw err;
    return 'cancelled';
  }
}

export const bumpUpdate = defineUpdate<number, [number]>('bump');
export const finishBumpsSignal = defineSignal('finish');

/** Counts bumps until told to finish. */
export async function bumpCounter(): Promise<number> {
  let count = 0;
  let finished = false;
  setHandler(bumpUpdate, (n) => (count += n));
  setHandler(finishBumpsSignal, () => void (finished = true));
  await condition(() => finished);
  return count;
}

export const slowUpdate = defineUpdate<string>('slow');
export const slowSignal = defineSignal('slowSignal');

/** Returns as soon as a handler started, leaving it running: the SDK warns of an unfinished handler. */
export async function leavesHandlerRunning(): Promise<string> {
  let started = '';
  setHandler(slowUpdate, async () => {
    started = 'update';
    await condition(() => false);
    return 'never';
  });
  setHandler(slowSignal, async () => {
    started = 'signal';
    await condition(() => false);
  });
  await condition(() => started !== '');
  return `left the ${started} handler running`;
}

/** The retry state an activity or child failure carried, as the workflow saw it. */
function retryStateOf(err: unknown): string {
  if (err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) return String(err.retryState);
  throw err;
}

async function settle(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'completed';
  } catch (err) {
    return retryStateOf(err);
  }
}

const quick = { initialInterval: '10ms', backoffCoefficient: 1 };

/** One activity per retry state a policy can end with; answers the states the workflow saw. */
export async function activityRetryStates(): Promise<string[]> {
  const threeAttempts = proxyActivities<typeof activities>({ startToCloseTimeout: '10s', retry: { ...quick, maximumAttempts: 3, nonRetryableErrorTypes: ['Fatal'] } });
  const twoAttempts = proxyActivities<typeof activities>({ startToCloseTimeout: '10s', retry: { ...quick, maximumAttempts: 2 } });
  const oneAttempt = proxyActivities<typeof activities>({ startToCloseTimeout: '200ms', retry: { maximumAttempts: 1 } });
  const scheduleToClose = proxyActivities<typeof activities>({ scheduleToCloseTimeout: '300ms', retry: quick });
  return [
    await settle(() => threeAttempts.failAs('nonRetryable')),
    await settle(() => twoAttempts.failAs('retryable')),
    await settle(() => threeAttempts.failAs('fatalType')),
    await settle(() => oneAttempt.outlast(2_000)),
    await settle(() => scheduleToClose.outlast(2_000)),
  ];
}

export async function failsWith(kind: activities.FailureKind): Promise<never> {
  if (kind === 'nonRetryable') throw ApplicationFailure.nonRetryable('no point retrying', 'Permanent');
  throw ApplicationFailure.create({ message: 'try again', type: 'Transient' });
}

/** A child that fails for good: the parent sees the child's retry state. */
export async function failingChildParent(): Promise<string> {
  return await settle(() =>
    executeChild(failsWith, { args: ['nonRetryable'], workflowId: `${workflowInfo().workflowId}-child`, retry: { ...quick, maximumAttempts: 3 } }),
  );
}

export const blobSignal = defineSignal<[string]>('blob');
export const blobsQuery = defineQuery<number>('blobs');

/** Takes signals until the server suggests continuing as new; answers how many it took. */
export async function growsUntilSuggested(): Promise<number> {
  let blobs = 0;
  setHandler(blobSignal, () => void blobs++);
  setHandler(blobsQuery, () => blobs);
  await condition(() => workflowInfo().continueAsNewSuggested);
  return blobs;
}

const summarized = proxyActivities<typeof activities>({ startToCloseTimeout: '10s', summary: 'echo, summarized' });

export async function summarizedChild(): Promise<string> {
  return 'child done';
}

/** A timer, an activity and a child, each with the static summary the Web UI shows. */
export async function summarizedSteps(): Promise<string> {
  await sleep(10, { summary: 'a short nap' });
  const echoed = await summarized.echo('hello');
  const child = await executeChild(summarizedChild, {
    workflowId: `${workflowInfo().workflowId}-child`,
    staticSummary: 'the child',
    staticDetails: 'the child, in **detail**',
  });
  return `${echoed}, ${child}`;
}

const echoWith = (priority?: Priority) => proxyActivities<typeof activities>({ startToCloseTimeout: '10s', priority }).echo;

/** Priorities and fairness keys of its own on an activity and a child; another activity takes the run's. */
export async function prioritizedSteps(): Promise<string> {
  const own = await echoWith({ priorityKey: 1, fairnessKey: 'activity-tenant', fairnessWeight: 0.5 })('own');
  const inherited = await echoWith()('inherited');
  const child = await executeChild(summarizedChild, { workflowId: `${workflowInfo().workflowId}-child`, priority: { priorityKey: 5, fairnessWeight: 3 } });
  return `${own}, ${inherited}, ${child}`;
}

const { failsFirstAttempt } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10s',
  // Only new options bring the retry within a test's time.
  retry: { initialInterval: '10m', backoffCoefficient: 1 },
});

/** An activity whose retry waits ten minutes unless UpdateActivityOptions says otherwise. */
export async function retriedUnderNewOptions(): Promise<string> {
  return await failsFirstAttempt();
}

const eagerly = proxyActivities<typeof activities>({ startToCloseTimeout: '10s', allowEagerDispatch: true });
const throughMatching = proxyActivities<typeof activities>({ startToCloseTimeout: '10s', allowEagerDispatch: false });

/** One activity the worker asks to run eagerly, then one it does not. */
export async function eagerThenPolled(): Promise<string> {
  return `${await eagerly.echo('eager')}, ${await throughMatching.echo('polled')}`;
}
