// Workflows of the parity suite (issue 14): each runs the same way on Tandem and on the reference
// server, whose histories are kept as fixtures (test-e2e/fixtures/reference-parity.json).
import { CancellationScope, condition, defineSignal, defineUpdate, isCancellation, setHandler, sleep } from '@temporalio/workflow';

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
