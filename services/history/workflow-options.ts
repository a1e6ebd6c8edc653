// UpdateWorkflowExecutionOptions on a running run (only the versioning override, by field mask):
// apart from versioning.ts because it writes the run, which the fold's helpers there must not see.
import { apiError } from '../common/errors.js';
import { enums, workflowv1, type workflowservice as ws } from '../common/temporal.js';
import type { MutableState } from './mutable-state.js';
import type { VersioningOverride } from './state.js';
import { overrideFromProto, overrideToProto } from './versioning.js';

/** The field mask paths UpdateWorkflowExecutionOptions takes: only the versioning override. */
const OVERRIDE_PATHS = new Set(['versioning_override', 'versioningOverride']);

/**
 * UpdateWorkflowExecutionOptions on a running run: an options-updated event that sets or unsets
 * the versioning override (an empty override in the mask unsets it). Answers the options as set.
 */
export function updateOptions(ms: MutableState, req: ws.IUpdateWorkflowExecutionOptionsRequest, nowMs: number): ws.IUpdateWorkflowExecutionOptionsResponse {
  const paths = req.updateMask?.paths ?? [];
  if (paths.length === 0) throw apiError('INVALID_ARGUMENT', 'UpdateMask is not set on request.');
  const unknown = paths.filter((p) => !OVERRIDE_PATHS.has(p));
  if (unknown.length > 0) throw apiError('INVALID_ARGUMENT', `UpdateMask paths ${unknown.join(', ')} are not supported: only versioning_override is.`);
  const requested = req.workflowExecutionOptions?.versioningOverride;
  const override = overrideFromProto(requested);
  if (requested && !override) throw apiError('INVALID_ARGUMENT', 'VersioningOverride must pin a deployment version or be auto-upgrade.');
  if (!ms.isRunning) throw apiError('WORKFLOW_ALREADY_COMPLETED');
  // As the reference writes it: workers may ignore it (an SDK replays it as a no-op; without the
  // flag the TS SDK's core fails the workflow task on it), and only the override's current form.
  ms.addEvent(
    enums.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED,
    {
      workerMayIgnore: true,
      workflowExecutionOptionsUpdatedEventAttributes: override ? { versioningOverride: eventOverride(override) } : { unsetVersioningOverride: true },
    },
    nowMs,
  );
  // The sticky worker may be of another version: the next workflow task goes through routing.
  if (ms.progress.stickyTaskQueue) {
    ms.progress.stickyTaskQueue = '';
    ms.dirty = true;
  }
  return { workflowExecutionOptions: { versioningOverride: overrideToProto(override) } };
}

function eventOverride(o: VersioningOverride): workflowv1.IVersioningOverride {
  if ('autoUpgrade' in o) return { autoUpgrade: true };
  return { pinned: { version: o.pinned, behavior: workflowv1.VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED } };
}
