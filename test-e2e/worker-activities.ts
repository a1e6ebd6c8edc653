// Activities of the worker and crash-recovery suites. The worker runs them in the test process,
// so they record what actually ran (executions per workflow and activity, heartbeat details
// seen) in module-level maps the tests read: the server's history alone cannot prove a retry
// policy was honoured.
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';

/** Executions per `${workflowId}/${activityType}`, every attempt counted. */
export const executions = new Map<string, number>();
/** What each attempt of `resumableCount` saw: its attempt number and the heartbeat details it resumed from. */
export const resumes = new Map<string, { attempt: number; resumedFrom: number }[]>();
/** What `heartbeatUntilCancelled` saw: the heartbeats it sent and how it ended. */
export const cancellations = new Map<string, { heartbeats: number; outcome: string }>();

function countExecution(): { workflowId: string; attempt: number; count: number } {
  const info = Context.current().info;
  const workflowId = info.workflowExecution?.workflowId ?? '';
  const key = `${workflowId}/${info.activityType}`;
  const count = (executions.get(key) ?? 0) + 1;
  executions.set(key, count);
  return { workflowId, attempt: info.attempt, count };
}

export function executionsOf(workflowId: string, activityType: string): number {
  return executions.get(`${workflowId}/${activityType}`) ?? 0;
}

/** Ignores cancellation on purpose: a stalled worker that the server must give up on. */
const stall = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function flakyTwice(label: string): Promise<string> {
  const { count } = countExecution();
  if (count <= 2) throw ApplicationFailure.retryable(`flaky failure ${count}`, 'Flaky');
  return `${label} after ${count} executions`;
}

export async function permanentFailure(): Promise<string> {
  countExecution();
  throw ApplicationFailure.retryable('the input can never work', 'PermanentError');
}

/** Attempt 1 overruns its start-to-close timeout; the server retries and attempt 2 is quick. */
export async function slowFirstAttempt(stallMs: number): Promise<string> {
  const { attempt } = countExecution();
  if (attempt === 1) await stall(stallMs);
  return `done on attempt ${attempt}`;
}

/**
 * Counts to `target`, heartbeating each step. Attempt 1 stops heartbeating after `stallAt` (the
 * server times it out); the retry resumes from the last heartbeat details the server kept.
 */
export async function resumableCount(target: number, stallAt: number, stallMs: number): Promise<number> {
  const ctx = Context.current();
  const { workflowId, attempt } = countExecution();
  const resumedFrom = (ctx.info.heartbeatDetails as number | undefined) ?? 0;
  resumes.set(workflowId, [...(resumes.get(workflowId) ?? []), { attempt, resumedFrom }]);
  for (let i = resumedFrom + 1; i <= target; i++) {
    ctx.heartbeat(i);
    // Spaced beyond the SDK's heartbeat throttle, so every step reaches the server.
    await stall(400);
    if (attempt === 1 && i === stallAt) {
      await stall(stallMs);
      return -1;
    }
  }
  return target;
}

/** Heartbeats until the workflow cancels it; cancellation only reaches it through a heartbeat. */
export async function heartbeatUntilCancelled(): Promise<string> {
  const ctx = Context.current();
  const { workflowId } = countExecution();
  let heartbeats = 0;
  const record = (outcome: string) => cancellations.set(workflowId, { heartbeats, outcome });
  try {
    for (;;) {
      ctx.heartbeat({ beat: ++heartbeats });
      record('running');
      await ctx.sleep(100);
    }
  } catch (err) {
    record(err instanceof CancelledFailure ? 'cancelled' : `error: ${String(err)}`);
    throw err;
  }
}

export async function countedWithdraw(amount: number): Promise<string> {
  countExecution();
  return `withdrew ${amount}`;
}

export async function countedDeposit(amount: number): Promise<string> {
  countExecution();
  return `deposited ${amount}`;
}
