// The Worker Versioning demo's workflow (test-e2e/worker-versioning.test.ts): both deployment
// versions run this same code; `buildOf` is answered by the worker of each version, so the result
// says which version ran the workflow's activity.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

const { buildOf } = proxyActivities<{ buildOf(): Promise<string> }>({ startToCloseTimeout: '10s' });

export const finishSignal = defineSignal('finish');

export async function versionedWork(waitForFinish: boolean): Promise<string> {
  let finished = !waitForFinish;
  setHandler(finishSignal, () => void (finished = true));
  await condition(() => finished);
  return await buildOf();
}
