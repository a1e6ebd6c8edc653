import { ApplicationFailure } from '@temporalio/activity';

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
