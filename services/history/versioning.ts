// A run's Worker Versioning state: the behavior and deployment version the last completed
// workflow task reported, and an override set at start or by UpdateWorkflowExecutionOptions.
// Both come from events, so a standby holds them too. A pinned run's tasks go to its version;
// any other run's tasks follow the task queue's current (or ramping) version in matching.
import { enums, workflowv1, type workflowservice as ws, type historyv1 } from '../common/temporal.js';
import type { DeploymentVersion } from '../matching/versioning.js';
import { versionSearchValue } from '../namespaces/worker-deployments.js';
import type { TypedValue } from '../persistence/visibility-query.js';
import type { ExecutionInfo, RunVersioning, VersioningOverride } from './state.js';

const PINNED = enums.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED;
const AUTO_UPGRADE = enums.VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE;

type VersionLike = { deploymentName?: string | null; buildId?: string | null } | null | undefined;

function version(v: VersionLike, canonical?: string | null): DeploymentVersion | null {
  if (v?.deploymentName && v.buildId) return { deploymentName: v.deploymentName, buildId: v.buildId };
  const dot = canonical?.indexOf('.') ?? -1;
  return canonical && dot > 0 ? { deploymentName: canonical.slice(0, dot), buildId: canonical.slice(dot + 1) } : null;
}

/** What the completing worker reported, for the WorkflowTaskCompleted event. */
export function completedVersioning(req: ws.IRespondWorkflowTaskCompletedRequest): historyv1.IWorkflowTaskCompletedEventAttributes {
  const opts = req.deploymentOptions;
  const v = opts?.workerVersioningMode === enums.WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED ? version(opts) : null;
  if (!v) return {};
  return {
    versioningBehavior: req.versioningBehavior ?? 0,
    deploymentVersion: v,
    workerDeploymentName: v.deploymentName,
  };
}

/** The run's versioning after WorkflowTaskCompleted event `eventId`: an unversioned worker clears it. */
export function foldCompleted(before: RunVersioning | undefined, a: historyv1.IWorkflowTaskCompletedEventAttributes, eventId: number): RunVersioning | undefined {
  const v = version(a.deploymentVersion, a.workerDeploymentVersion);
  if (!v) return undefined;
  const behavior = a.versioningBehavior ?? 0;
  if (before && before.behavior === behavior && before.version?.deploymentName === v.deploymentName && before.version.buildId === v.buildId) return before;
  return { behavior, version: v, sinceEventId: eventId };
}

export function overrideFromProto(o: workflowv1.IVersioningOverride | null | undefined): VersioningOverride | undefined {
  if (!o) return undefined;
  if (o.autoUpgrade || o.behavior === AUTO_UPGRADE) return { autoUpgrade: true };
  const pinned = version(o.pinned?.version, o.pinnedVersion);
  return pinned ? { pinned } : undefined;
}

export function overrideToProto(o: VersioningOverride | undefined): workflowv1.IVersioningOverride | null {
  if (!o) return null;
  if ('autoUpgrade' in o) return { autoUpgrade: true, behavior: AUTO_UPGRADE };
  return {
    pinned: { version: o.pinned, behavior: workflowv1.VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED },
    behavior: PINNED,
    pinnedVersion: `${o.pinned.deploymentName}.${o.pinned.buildId}`,
  };
}

/** Where the run's tasks must go regardless of the task queue's routing, if anywhere. */
export function pinnedVersion(info: Pick<ExecutionInfo, 'versioning' | 'versioningOverride'>): DeploymentVersion | undefined {
  const o = info.versioningOverride;
  if (o) return 'pinned' in o ? o.pinned : undefined;
  return info.versioning?.behavior === PINNED ? (info.versioning.version ?? undefined) : undefined;
}

/** DescribeWorkflowExecution's versioningInfo. */
export function versioningInfo(info: Pick<ExecutionInfo, 'versioning' | 'versioningOverride'>): workflowv1.IWorkflowExecutionVersioningInfo | null {
  const { versioning, versioningOverride } = info;
  if (!versioning && !versioningOverride) return null;
  const v = versioning?.version;
  return {
    behavior: versioning?.behavior ?? 0,
    deploymentVersion: v ?? null,
    version: v ? `${v.deploymentName}.${v.buildId}` : '',
    versioningOverride: overrideToProto(versioningOverride),
  };
}

/** The versioning search attributes of the run's visibility record, as the reference server sets them. */
export function versioningSearchAttributes(info: Pick<ExecutionInfo, 'versioning'>): Record<string, TypedValue> {
  const v = info.versioning?.version;
  if (!v) return {};
  const behavior = info.versioning!.behavior === PINNED ? 'Pinned' : info.versioning!.behavior === AUTO_UPGRADE ? 'AutoUpgrade' : '';
  return {
    TemporalWorkerDeployment: { type: 'Keyword', value: v.deploymentName },
    TemporalWorkerDeploymentVersion: { type: 'Keyword', value: versionSearchValue(v.deploymentName, v.buildId) },
    ...(behavior ? { TemporalWorkflowVersioningBehavior: { type: 'Keyword', value: behavior } } : {}),
  };
}
