// Workflows the load generator runs on the official worker (bundled, so imports stay type-only).
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from './activities.js';

const { echo } = proxyActivities<typeof activities>({ startToCloseTimeout: '30s' });

/** One workflow task, one activity, one more workflow task: the smallest complete round trip. */
export async function oneActivity(n: number): Promise<number> {
  return await echo(n);
}
