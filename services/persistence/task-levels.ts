// A task queue's ack levels as both stores keep them (one JSON text beside the range id), and the
// subqueue of tasks stored before there were subqueues, so the two stores' upgrades agree.
import type { TaskLevel, TaskQueueInfo } from './types.js';

/** Tasks written before subqueues existed belong to matching's default priority level. */
export const LEGACY_SUBQUEUE = 3;

type StoredLevels = Record<string, { pass: string; taskId: string }>;

export function encodeAckLevels(levels: TaskQueueInfo['ackLevels']): string {
  const stored: StoredLevels = {};
  for (const [subqueue, l] of Object.entries(levels)) stored[subqueue] = { pass: l.pass.toString(), taskId: l.taskId.toString() };
  return JSON.stringify(stored);
}

export function decodeAckLevels(text: string | null | undefined): TaskQueueInfo['ackLevels'] {
  const levels: Record<number, TaskLevel> = {};
  if (!text) return levels;
  for (const [subqueue, l] of Object.entries(JSON.parse(text) as StoredLevels)) {
    levels[Number(subqueue)] = { pass: BigInt(l.pass), taskId: BigInt(l.taskId) };
  }
  return levels;
}
