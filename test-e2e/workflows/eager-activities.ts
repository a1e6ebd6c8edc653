// Workflows of the eager activity tests: activities on the workflow's own task queue, which the
// worker asks to run eagerly unless the workflow says not to.
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities.js';

export async function parallelGreetings(names: string[], allowEagerDispatch: boolean): Promise<string[]> {
  const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s', allowEagerDispatch });
  return await Promise.all(names.map((name) => greet(name)));
}
