// A task's place in its queue: timers are ordered by (visibilityTimeMs, taskId), the other
// categories by taskId alone (their key's visibilityTimeMs is 0).
/** Task ids are signed 64-bit integers in the stores. */
export const MAX_TASK_ID = (1n << 63n) - 1n;
const MIN_TASK_ID = -(1n << 63n);

export interface TaskKey {
  visibilityTimeMs: number;
  taskId: bigint;
}

export function compareKeys(a: TaskKey, b: TaskKey): number {
  if (a.visibilityTimeMs !== b.visibilityTimeMs) return a.visibilityTimeMs < b.visibilityTimeMs ? -1 : 1;
  return a.taskId === b.taskId ? 0 : a.taskId < b.taskId ? -1 : 1;
}

export function minKey(a: TaskKey, b: TaskKey): TaskKey {
  return compareKeys(a, b) <= 0 ? a : b;
}

export function maxKey(a: TaskKey, b: TaskKey): TaskKey {
  return compareKeys(a, b) >= 0 ? a : b;
}

/** The next key: nothing is ordered between k and it. */
export function successor(k: TaskKey): TaskKey {
  // A timer window read up to the last id of its millisecond (its ack level then ends there): the
  // next key is the next millisecond's first, not an id past what the stores can bind.
  if (k.taskId === MAX_TASK_ID) return { visibilityTimeMs: k.visibilityTimeMs + 1, taskId: MIN_TASK_ID };
  return { visibilityTimeMs: k.visibilityTimeMs, taskId: k.taskId + 1n };
}

/** The key just before k, for reads that take an exclusive lower bound. */
export function predecessor(k: TaskKey): TaskKey {
  return { visibilityTimeMs: k.visibilityTimeMs, taskId: k.taskId - 1n };
}

/** A map key for k. */
export function keyId(k: TaskKey): string {
  return `${k.visibilityTimeMs}/${k.taskId}`;
}
