// Workflows of the activity-operator tests (PauseActivity, UnpauseActivity, ResetActivity,
// UpdateActivityOptions).
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities.js';

const { heartbeatsUntilStopped } = proxyActivities<typeof activities>({
  startToCloseTimeout: '60s',
  // The SDK throttles heartbeats to 80 % of this: the pause is seen within about 1.6 s.
  heartbeatTimeout: '2s',
  retry: { initialInterval: '100ms', maximumAttempts: 3 },
});

export async function pausableActivity(maxMs: number): Promise<string> {
  return await heartbeatsUntilStopped(maxMs);
}

const { failsFirstAttempt } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10s',
  // Only new options bring the retry within a test's time.
  retry: { initialInterval: '10m', backoffCoefficient: 1 },
});

export async function slowlyRetriedActivity(): Promise<string> {
  return await failsFirstAttempt();
}
