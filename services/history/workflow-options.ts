// UpdateWorkflowExecutionOptions on a running run: the versioning override and the priority, by
// field mask, merged over the run's as the reference merges them. Apart from versioning.ts because
// it writes the run, which the fold's helpers there must not see.
import { apiError } from '../common/errors.js';
import { enums, workflowv1, type commonv1, type workflowservice as ws } from '../common/temporal.js';
import { checkPriority, taskPriority } from '../matching/priority.js';
import type { MutableState } from './mutable-state.js';
import type { VersioningOverride } from './state.js';
import { workflowTaskScheduledTasks } from './task-generator.js';
import { overrideFromProto } from './versioning.js';

type Options = { versioningOverride: VersioningOverride | undefined; priority: commonv1.IPriority | null };

/** What each field mask path (snake or camel case, as the reference reads them) sets. */
const PATHS: Record<string, (into: Options, from: workflowv1.IWorkflowExecutionOptions) => void> = {
  versioning_override: (into, from) => {
    into.versioningOverride = overrideFromProto(from.versioningOverride);
  },
  priority: (into, from) => {
    into.priority = from.priority ?? null;
  },
  'priority.priority_key': (into, from) => {
    into.priority = { ...into.priority, priorityKey: from.priority?.priorityKey ?? 0 };
  },
  'priority.fairness_key': (into, from) => {
    into.priority = { ...into.priority, fairnessKey: from.priority?.fairnessKey ?? '' };
  },
  'priority.fairness_weight': (into, from) => {
    into.priority = { ...into.priority, fairnessWeight: from.priority?.fairnessWeight ?? 0 };
  },
};

const snake = (path: string) => path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Merges the masked options over the run's. A change writes one options-updated event with the
 * whole result, as the reference does; no change writes nothing. Answers the options as they are.
 */
export function updateOptions(ms: MutableState, req: ws.IUpdateWorkflowExecutionOptionsRequest, nowMs: number): ws.IUpdateWorkflowExecutionOptionsResponse {
  const paths = (req.updateMask?.paths ?? []).map(snake);
  if (paths.length === 0) throw apiError('INVALID_ARGUMENT', 'UpdateMask is not set on request.');
  const unknown = paths.filter((p) => !(p in PATHS));
  if (unknown.length > 0) {
    throw apiError('INVALID_ARGUMENT', `UpdateMask paths ${unknown.join(', ')} are not supported: only versioning_override and priority (or its fields) are.`);
  }
  const requested = req.workflowExecutionOptions ?? {};
  if (paths.includes('versioning_override') && requested.versioningOverride && !overrideFromProto(requested.versioningOverride)) {
    throw apiError('INVALID_ARGUMENT', 'VersioningOverride must pin a deployment version or be auto-upgrade.');
  }
  checkPriority(requested.priority);
  if (!ms.isRunning) throw apiError('WORKFLOW_ALREADY_COMPLETED');

  const current: Options = { versioningOverride: ms.info.versioningOverride, priority: ms.info.priority ?? null };
  const merged: Options = { ...current };
  for (const p of paths) PATHS[p]!(merged, requested);
  const overrideChanged = JSON.stringify(merged.versioningOverride) !== JSON.stringify(current.versioningOverride);
  const priorityChanged = JSON.stringify(taskPriority(merged.priority)) !== JSON.stringify(taskPriority(current.priority));
  if (overrideChanged || priorityChanged) {
    // As the reference writes it: workers may ignore it (an SDK replays it as a no-op; without the
    // flag the TS SDK's core fails the workflow task on it), and the options' current form.
    ms.addEvent(
      enums.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED,
      {
        workerMayIgnore: true,
        workflowExecutionOptionsUpdatedEventAttributes: {
          ...(merged.versioningOverride ? { versioningOverride: eventOverride(merged.versioningOverride) } : { unsetVersioningOverride: true }),
          priority: merged.priority,
        },
      },
      nowMs,
    );
  }
  // The sticky worker may be of another version: the next workflow task goes through routing.
  if (overrideChanged && ms.progress.stickyTaskQueue) {
    ms.progress.stickyTaskQueue = '';
    ms.dirty = true;
  }
  // A workflow task waiting in matching waits with the new priority from now on (the old copy is
  // dropped as stale when the new one starts first).
  const wt = ms.workflowTask;
  if (priorityChanged && wt && wt.startedEventId === 0) for (const t of workflowTaskScheduledTasks(ms, nowMs)) ms.addTask(t);
  // As the reference, the override in its current form only (describe adds the deprecated fields).
  return { workflowExecutionOptions: { versioningOverride: merged.versioningOverride ? eventOverride(merged.versioningOverride) : null, priority: merged.priority } };
}

function eventOverride(o: VersioningOverride): workflowv1.IVersioningOverride {
  if ('autoUpgrade' in o) return { autoUpgrade: true };
  return { pinned: { version: o.pinned, behavior: workflowv1.VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED } };
}
