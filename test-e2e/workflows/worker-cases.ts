// Workflows of the worker and crash-recovery suites: one per server feature they prove (timers,
// signals and queries, children, continue-as-new, activity retries, heartbeats, timeouts).
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../worker-activities.js';

export async function napper(ms: number): Promise<string> {
  await sleep(ms);
  return `slept ${ms}`;
}

export const appendSignal = defineSignal<[string]>('append');
export const closeSignal = defineSignal('close');
export const itemsQuery = defineQuery<string[]>('items');

export async function collector(): Promise<string[]> {
  const items: string[] = [];
  let closed = false;
  setHandler(appendSignal, (item) => void items.push(item));
  setHandler(closeSignal, () => void (closed = true));
  setHandler(itemsQuery, () => items);
  await condition(() => closed);
  return items;
}

export async function echoChild(name: string): Promise<string> {
  return `child saw ${name} in ${workflowInfo().parent?.workflowId}`;
}

export async function childParent(name: string): Promise<string> {
  const childId = `${workflowInfo().workflowId}-child`;
  return `parent got: ${await executeChild(echoChild, { args: [name], workflowId: childId })}`;
}

/** Each run adds its number and continues as new until `remaining` reaches zero. */
export async function chain(remaining: number, seen: number[]): Promise<number[]> {
  const next = [...seen, remaining];
  if (remaining > 0) return await continueAsNew<typeof chain>(remaining - 1, next);
  return next;
}

const flaky = proxyActivities<typeof activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '50ms', backoffCoefficient: 1, maximumAttempts: 5 },
});

export async function retriesActivity(label: string): Promise<string> {
  return await flaky.flakyTwice(label);
}

export async function nonRetryableActivity(): Promise<string> {
  const { permanentFailure } = proxyActivities<typeof activities>({
    startToCloseTimeout: '10s',
    retry: { initialInterval: '50ms', maximumAttempts: 5, nonRetryableErrorTypes: ['PermanentError'] },
  });
  try {
    return await permanentFailure();
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return `failed with ${err.cause.type}: ${err.cause.message}`;
    throw err;
  }
}

export async function startToCloseRetry(stallMs: number): Promise<string> {
  const { slowFirstAttempt } = proxyActivities<typeof activities>({
    startToCloseTimeout: '1s',
    retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumAttempts: 3 },
  });
  return await slowFirstAttempt(stallMs);
}

export async function heartbeatResume(target: number, stallAt: number, stallMs: number): Promise<number> {
  const { resumableCount } = proxyActivities<typeof activities>({
    startToCloseTimeout: '30s',
    heartbeatTimeout: '1s',
    retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumAttempts: 3 },
  });
  return await resumableCount(target, stallAt, stallMs);
}

/** Lets the heartbeating activity run for `runMs`, then cancels it and waits for it to acknowledge. */
export async function heartbeatCancel(runMs: number): Promise<string> {
  const { heartbeatUntilCancelled } = proxyActivities<typeof activities>({
    startToCloseTimeout: '60s',
    heartbeatTimeout: '1s',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 1 },
  });
  const scope = new CancellationScope();
  const running = scope.run(() => heartbeatUntilCancelled());
  await sleep(runMs);
  scope.cancel();
  try {
    await running;
    return 'activity completed';
  } catch (err) {
    if (isCancellation(err)) return 'activity cancelled';
    throw err;
  }
}

export const SIMPLE_TRANSFER_MAX_ATTEMPTS = 5;

/** A transfer without an update: the crash-recovery suite runs a hundred of these. */
export async function simpleTransfer(amount: number): Promise<string[]> {
  const { countedWithdraw, countedDeposit } = proxyActivities<typeof activities>({
    startToCloseTimeout: '5s',
    retry: { initialInterval: '200ms', backoffCoefficient: 1, maximumAttempts: SIMPLE_TRANSFER_MAX_ATTEMPTS },
  });
  const steps = [await countedWithdraw(amount)];
  // Long enough that the crash finds many transfers between their two activities.
  await sleep(1000);
  steps.push(await countedDeposit(amount));
  return steps;
}
