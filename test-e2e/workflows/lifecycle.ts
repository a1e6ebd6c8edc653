// Workflows for run-level lifecycle tests: workflow retries, cron, parent close policy, and the
// UnhandledCommand rule.
import { workflowInfo, startChild, sleep, condition, defineSignal, setHandler, ParentClosePolicy, ApplicationFailure } from '@temporalio/workflow';

/** Fails until its third attempt (workflow retry policy), then reports the attempt it ran on. */
export async function flaky(): Promise<number> {
  const { attempt } = workflowInfo();
  if (attempt < 3) throw ApplicationFailure.create({ message: `attempt ${attempt} fails` });
  return attempt;
}

/** A cron run: returns how it was started, so the test can see the chain. */
export async function cronTick(): Promise<string> {
  return workflowInfo().runId;
}

/** Starts a child that waits forever, then returns: the child's parent close policy applies. */
export async function abandoningParent(childId: string, policy: 'TERMINATE' | 'ABANDON'): Promise<string> {
  const child = await startChild(sleeper, {
    workflowId: childId,
    parentClosePolicy: policy === 'TERMINATE' ? ParentClosePolicy.TERMINATE : ParentClosePolicy.ABANDON,
  });
  return child.workflowId;
}

export const wake = defineSignal('wake');

export async function sleeper(): Promise<string> {
  let woken = false;
  setHandler(wake, () => void (woken = true));
  await condition(() => woken);
  return 'woken';
}

/** Completes as soon as it runs; signals sent meanwhile must not be lost. */
export async function quickFinisher(): Promise<number> {
  let seen = 0;
  setHandler(wake, () => void seen++);
  await sleep(10);
  return seen;
}
