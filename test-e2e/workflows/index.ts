// Workflows the end-to-end tests run on the official worker.
import { proxyActivities, defineSignal, defineQuery, setHandler, condition, sleep, executeChild, continueAsNew } from '@temporalio/workflow';
import type * as activities from '../activities.js';

const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });

export const addSignal = defineSignal<[number]>('add');
export const doneSignal = defineSignal('done');
export const totalQuery = defineQuery<number>('total');

export async function waitForSignals(): Promise<number> {
  let total = 0;
  let done = false;
  setHandler(addSignal, (n) => void (total += n));
  setHandler(doneSignal, () => void (done = true));
  setHandler(totalQuery, () => total);
  await condition(() => done);
  return total;
}

export async function greeter(name: string): Promise<string> {
  await sleep(50);
  return await greet(name);
}

export async function parent(name: string): Promise<string> {
  return `parent(${await executeChild(greeter, { args: [name] })})`;
}

export async function countdown(n: number): Promise<number> {
  if (n > 0) return await continueAsNew<typeof countdown>(n - 1);
  return n;
}
export * from './money-transfer.js';
export * from './worker-cases.js';
export * from './lifecycle.js';
export * from './search-attributes.js';
export * from './schedules.js';
export * from './activity-operator.js';
export * from './eager-activities.js';
export * from './parity.js';
export * from './priority.js';
