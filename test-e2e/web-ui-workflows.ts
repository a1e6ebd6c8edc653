// The workflows test-e2e/web-ui.browser.test.ts runs on the official worker: a parent that waits
// on its child, a child that waits for a signal, one that finishes at once, one that fails.
import { ApplicationFailure, condition, defineSignal, executeChild, setHandler, workflowInfo } from '@temporalio/workflow';

export const finishSignal = defineSignal('finish');

/** Runs until it is signalled `finish`. */
export async function uiWaiter(): Promise<string> {
  let finished = false;
  setHandler(finishSignal, () => void (finished = true));
  await condition(() => finished);
  return 'finished';
}

/** Starts `<its id>-child` (a uiWaiter) and waits for it. */
export async function uiParent(): Promise<string> {
  return `child: ${await executeChild(uiWaiter, { workflowId: `${workflowInfo().workflowId}-child` })}`;
}

export async function uiDone(n: number): Promise<number> {
  return n * 2;
}

export async function uiFails(): Promise<never> {
  throw ApplicationFailure.nonRetryable('the web UI test wants one failed workflow', 'UiTestFailure');
}
