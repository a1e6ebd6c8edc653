// The activity of the priority tests: it notes the order activities ran in and the priority its
// worker was told for each.
import { Context } from '@temporalio/activity';
import type { Priority } from '@temporalio/common';

export const ran: Array<{ name: string; priority: Priority | undefined }> = [];

export async function work(name: string): Promise<string> {
  ran.push({ name, priority: Context.current().info.priority });
  return name;
}
