// The money-transfer saga: an update starts the transfer (its validator rejects amounts over the
// limit), withdraw then deposit; a non-retryable deposit failure is compensated by a refund.
import { proxyActivities, defineUpdate, defineQuery, setHandler, condition, ApplicationFailure } from '@temporalio/workflow';
import type * as activities from '../activities.js';

const { withdraw, deposit, refund } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '50ms', maximumAttempts: 3, nonRetryableErrorTypes: ['InsufficientFunds'] },
});

export const transferUpdate = defineUpdate<string, [number]>('transfer');
export const stepsQuery = defineQuery<string[]>('steps');

export async function moneyTransfer(limit: number, depositFails: boolean): Promise<string[]> {
  const steps: string[] = [];
  let amount: number | null = null;
  setHandler(stepsQuery, () => steps);
  setHandler(
    transferUpdate,
    (requested: number) => {
      amount = requested;
      steps.push(`accepted ${requested}`);
      return `transfer of ${requested} accepted`;
    },
    {
      validator: (requested: number) => {
        if (requested > limit) throw new Error(`amount ${requested} is over the limit of ${limit}`);
      },
    },
  );
  await condition(() => amount !== null);
  steps.push(await withdraw(amount!));
  try {
    steps.push(await deposit(amount!, depositFails));
  } catch (err) {
    steps.push(await refund(amount!));
    throw ApplicationFailure.nonRetryable(`transfer failed and was compensated: ${(err as Error).message}`, 'TransferFailed', steps);
  }
  return steps;
}
