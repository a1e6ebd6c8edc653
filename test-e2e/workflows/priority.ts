// Workflows of the priority tests: one that reports (through its worker's sink) when its first
// workflow task runs, and one whose activities and child carry priorities of their own over its.
import { proxyActivities, proxySinks, startChild, workflowInfo, type Sinks } from '@temporalio/workflow';
import type { Priority } from '@temporalio/common';
import type * as activities from '../priority-activities.js';

export interface RunOrderSinks extends Sinks {
  runOrder: { ran(workflowId: string): void };
}

const { runOrder } = proxySinks<RunOrderSinks>();

export async function reportsRun(): Promise<void> {
  runOrder.ran(workflowInfo().workflowId);
}

export async function prioritizedChild(): Promise<void> {}

/**
 * Six activities on `activityQueue`: two at level 1, two at level 4, two with no priority of their
 * own (the workflow's); and a child with a fairness weight of its own.
 */
export async function prioritizedWork(activityQueue: string): Promise<string[]> {
  const at = (priority?: Priority) => proxyActivities<typeof activities>({ taskQueue: activityQueue, startToCloseTimeout: '30s', priority }).work;
  const [urgent, later, inherited] = [at({ priorityKey: 1 }), at({ priorityKey: 4 }), at()];
  const child = await startChild(prioritizedChild, { workflowId: `${workflowInfo().workflowId}-child`, priority: { fairnessWeight: 3 } });
  const done = await Promise.all([later('later-1'), inherited('inherited-1'), urgent('urgent-1'), later('later-2'), inherited('inherited-2'), urgent('urgent-2')]);
  await child.result();
  return done;
}
