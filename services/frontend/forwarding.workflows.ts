// The workflow the forwarding test runs on the official worker (bundled by path, imported by no
// module): it takes a signal, answers a query and an update, and runs one activity.
import { condition, defineQuery, defineSignal, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';

const { greet } = proxyActivities<{ greet(name: string): Promise<string> }>({ startToCloseTimeout: '10s' });

export const addSignal = defineSignal<[number]>('add');
export const doneSignal = defineSignal('done');
export const totalQuery = defineQuery<number>('total');
export const doubleUpdate = defineUpdate<number>('double');

export async function tally(name: string): Promise<string> {
  let total = 0;
  let done = false;
  setHandler(addSignal, (n) => void (total += n));
  setHandler(doneSignal, () => void (done = true));
  setHandler(totalQuery, () => total);
  setHandler(doubleUpdate, () => (total *= 2));
  const greeting = await greet(name);
  await condition(() => done);
  return `${greeting}: ${total}`;
}
