import { ApplicationFailure, Context } from '@temporalio/activity';

export async function greet(name: string): Promise<string> {
  return `hello ${name}`;
}

export async function withdraw(amount: number): Promise<string> {
  return `withdrew ${amount}`;
}

export async function deposit(amount: number, fail: boolean): Promise<string> {
  if (fail) throw ApplicationFailure.nonRetryable(`account closed, cannot deposit ${amount}`, 'InsufficientFunds');
  return `deposited ${amount}`;
}

export async function refund(amount: number): Promise<string> {
  return `refunded ${amount}`;
}

/**
 * Heartbeats until cancelled (paused, for the activity-operator tests) on its first attempt, for
 * at most `maxMs`; a later attempt returns at once, naming its attempt.
 */
export async function heartbeatsUntilStopped(maxMs: number): Promise<string> {
  const ctx = Context.current();
  if (ctx.info.attempt > 1) return `attempt ${ctx.info.attempt}`;
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    ctx.heartbeat();
    await ctx.sleep(100);
  }
  return 'not stopped';
}

/** Fails its first attempt; a later one returns, naming its attempt (the UpdateActivityOptions tests). */
export async function failsFirstAttempt(): Promise<string> {
  const { attempt } = Context.current().info;
  if (attempt === 1) throw ApplicationFailure.retryable('the first attempt fails', 'FirstAttempt');
  return `attempt ${attempt}`;
}
