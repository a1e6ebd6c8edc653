// The order of a subqueue's tasks: by pass, then by id (persistence/types.ts TaskLevel).
import type { TaskLevel } from '../persistence/types.js';

export type { TaskLevel };

export const ZERO_LEVEL: TaskLevel = Object.freeze({ pass: 0n, taskId: 0n });

export function compareLevels(a: TaskLevel, b: TaskLevel): number {
  if (a.pass !== b.pass) return a.pass < b.pass ? -1 : 1;
  return a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0;
}

/** Where `level` goes in `sorted` (ascending by level of each item) to keep it sorted. */
export function insertionIndex<T>(sorted: readonly T[], level: TaskLevel, levelOf: (item: T) => TaskLevel): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareLevels(levelOf(sorted[mid]!), level) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
