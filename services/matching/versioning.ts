// Worker Versioning in matching: which worker deployment version's pollers a task goes to.
// Pollers that declare a version poll a sub-queue of their task queue of their own; a task of a
// pinned workflow goes to its version's sub-queue, any other task to the task queue's current
// version, or to the ramping one for the workflows whose id falls below the ramp percentage
// (a hash, so a workflow keeps its side of the split across tasks, as the reference server does).
import { createHash } from 'node:crypto';

export interface DeploymentVersion {
  deploymentName: string;
  buildId: string;
}

/** A task queue's routing, from the deployment its versions' pollers belong to. */
export interface TaskQueueRouting {
  current: DeploymentVersion | null;
  ramping: DeploymentVersion | null;
  /** 0-100. */
  rampPercentage: number;
  updateTimeMs: number;
  /** Every version of the deployment that serves this task queue: those a routing change may leave with tasks. */
  versions: DeploymentVersion[];
}

/** The process main reads it from the namespace (whose record holds the deployments). */
export type RoutingSource = (namespaceId: string, taskQueue: string) => Promise<TaskQueueRouting | null>;

/** Where a task goes; null: the unversioned pollers. */
export function targetVersion(
  routing: TaskQueueRouting | null,
  workflowId: string,
  pinned: DeploymentVersion | undefined,
): DeploymentVersion | null {
  if (pinned) return pinned;
  if (!routing) return null;
  if (routing.ramping && rampBucket(workflowId) < routing.rampPercentage) return routing.ramping;
  return routing.current;
}

/** A workflow id's place in [0, 100). */
export function rampBucket(workflowId: string): number {
  return (createHash('sha256').update(workflowId).digest().readUInt32BE(0) / 2 ** 32) * 100;
}

/** The store's name of a version's sub-queue; `/_sys/` names are not valid user task queues. */
export function versionedQueueName(name: string, v: DeploymentVersion): string {
  return `/_sys/${name}/${v.deploymentName}:${v.buildId}`;
}

export function sameVersion(a: DeploymentVersion | null | undefined, b: DeploymentVersion | null | undefined): boolean {
  return (a?.deploymentName ?? '') === (b?.deploymentName ?? '') && (a?.buildId ?? '') === (b?.buildId ?? '');
}

/** temporal.api.enums.v1.WorkerVersioningMode VERSIONED. */
const VERSIONED = 2;

/** The version a poll declares, when its worker uses Worker Versioning. */
export function polledVersion(opts: { deploymentName?: string | null; buildId?: string | null; workerVersioningMode?: number | null } | null | undefined): DeploymentVersion | null {
  if (opts?.workerVersioningMode !== VERSIONED || !opts.deploymentName || !opts.buildId) return null;
  return { deploymentName: opts.deploymentName, buildId: opts.buildId };
}
