// For tests of membership and of what is built on it (history's shard ownership).
import { sleep } from '../common/lifecycle.js';

/** Polls until check() is true; fails after deadlineMs with what() in the message. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, deadlineMs = 15_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(25);
  }
}
