// Activities of the parity suite: failures of each kind a retry policy judges, and one that
// outlasts its timeout, one that fails its first attempt only.
import { ApplicationFailure, Context } from '@temporalio/activity';

export type FailureKind = 'nonRetryable' | 'retryable' | 'fatalType';

export async function failAs(kind: FailureKind): Promise<void> {
  if (kind === 'nonRetryable') throw ApplicationFailure.nonRetryable('no point retrying', 'Permanent');
  if (kind === 'fatalType') throw ApplicationFailure.create({ message: 'fatal by the retry policy', type: 'Fatal' });
  throw ApplicationFailure.create({ message: 'try again', type: 'Transient' });
}

/** Ignores cancellation on purpose: the server must time it out. */
export async function outlast(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export async function echo(text: string): Promise<string> {
  return text;
}

export async function failsFirstAttempt(): Promise<string> {
  const { attempt } = Context.current().info;
  if (attempt === 1) throw ApplicationFailure.create({ message: 'the first attempt fails', type: 'FirstAttempt' });
  return `attempt ${attempt}`;
}
