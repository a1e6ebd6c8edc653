// Workflows a schedule starts in the schedules e2e tests.
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';

/** Counts its schedule's actions through the last completion result; fails (not retried) at `failAt`. */
export async function scheduledCounter(failAt: number): Promise<number> {
  const n = ((workflowInfo().lastResult as number | undefined) ?? 0) + 1;
  if (n === failAt) throw ApplicationFailure.nonRetryable(`planned failure at action ${n}`);
  return n;
}
