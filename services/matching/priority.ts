// A task's priority (temporal.api.common.v1.Priority) as Temporal defines it: how a client's or a
// command's is checked, how an activity's or a child's own combines with its workflow's, and what
// matching makes of it: a priority level (a subqueue, lower first) and a fairness stride. The
// frontend and history use the first parts; the numbers are the reference server's defaults.
import { apiError } from '../common/errors.js';
import type { commonv1 } from '../common/temporal.js';

/** The reference's default matching.priorityLevels: keys above it wait in the last level. */
export const PRIORITY_LEVELS = 5;
/** priority_key 0 (unset) is the middle level, (1 + PRIORITY_LEVELS) / 2. */
export const DEFAULT_PRIORITY_KEY = 3;
/** The reference's limit on a fairness key (Go's len: bytes). */
const FAIRNESS_KEY_MAX_BYTES = 64;
/** The smallest weight counted (0, unset, means 1); its stride is 10^6 passes. */
const MIN_WEIGHT = 0.001;
/** Passes between two tasks of a weight-1 key; weights of 1000 and more have the smallest stride, 1. */
const STRIDE_FACTOR = 1000;

/** A task's priority once history resolved it (the run's merged with an activity's own); 0 and '' mean unset. */
export interface TaskPriority {
  priorityKey: number;
  fairnessKey: string;
  fairnessWeight: number;
}

/** What is wrong with a priority a request or a command carries, in the reference's words; null when nothing is. */
export function priorityProblem(p: commonv1.IPriority | null | undefined): string | null {
  if (!p) return null;
  if ((p.priorityKey ?? 0) < 0) return "PriorityKey can't be negative";
  if (Buffer.byteLength(p.fairnessKey ?? '') > FAIRNESS_KEY_MAX_BYTES) return 'FairnessKey length exceeds limit';
  if ((p.fairnessWeight ?? 0) < 0) return "FairnessWeight can't be negative";
  return null;
}

/** A request's priority, refused with INVALID_ARGUMENT as the reference refuses it. */
export function checkPriority(p: commonv1.IPriority | null | undefined): void {
  const problem = priorityProblem(p);
  if (problem) throw apiError('INVALID_ARGUMENT', problem);
}

/** An activity's or a child's priority over its workflow's: each field it leaves unset is inherited. */
export function mergePriority(
  base: commonv1.IPriority | null | undefined,
  own: commonv1.IPriority | null | undefined,
): commonv1.IPriority | null {
  if (!base) return own ?? null;
  if (!own) return base;
  return {
    priorityKey: own.priorityKey || base.priorityKey || 0,
    fairnessKey: own.fairnessKey || base.fairnessKey || '',
    fairnessWeight: own.fairnessWeight || base.fairnessWeight || 0,
  };
}

/** What a task carries to matching; none for a run with no priority. */
export function taskPriority(p: commonv1.IPriority | null | undefined): TaskPriority | undefined {
  if (!p) return undefined;
  return { priorityKey: p.priorityKey ?? 0, fairnessKey: p.fairnessKey ?? '', fairnessWeight: p.fairnessWeight ?? 0 };
}

/** The subqueue a task waits in: 1 is dispatched first. */
export function priorityLevel(p: TaskPriority | undefined): number {
  const key = p?.priorityKey || DEFAULT_PRIORITY_KEY;
  return Math.min(Math.max(key, 1), PRIORITY_LEVELS);
}

/** How many passes apart a fairness key's tasks are: the heavier the key, the closer (as the reference rounds it). */
export function fairnessStride(p: TaskPriority | undefined): bigint {
  const weight = Math.max(p?.fairnessWeight || 1, MIN_WEIGHT);
  return BigInt(Math.max(1, Math.trunc(STRIDE_FACTOR / weight)));
}
