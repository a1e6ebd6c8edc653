// Worker deployments of a namespace (Worker Versioning): each deployment's versions, which task
// queues their pollers serve, and its routing (current version, ramping version and percentage).
// They live in the namespace record's config JSON, as the custom search attributes do, so they
// replicate with the namespace and survive a failover; they are written through the registry's
// update path, in the namespace's active region. The changes are pure functions of the record:
// the registry re-applies them when it loses a race.
import { apiError } from '../common/errors.js';
import type { NamespaceRecord } from '../persistence/types.js';
import { parseExtraConfig } from './convert.js';
import type { NamespaceRegistry } from './registry.js';

export interface VersionTaskQueue {
  name: string;
  /** temporal.api.enums.v1.TaskQueueType: 1 workflow, 2 activity. */
  type: number;
}

export interface DeploymentVersionState {
  buildId: string;
  createTimeMs: number;
  taskQueues: VersionTaskQueue[];
  /** Since when the version is current or ramping; unset while it is neither. */
  currentSinceMs?: number;
  rampingSinceMs?: number;
  firstActivationMs?: number;
  /** When it last stopped being current or ramping: from then on it drains. */
  lastDeactivationMs?: number;
}

export interface WorkerDeploymentState {
  name: string;
  createTimeMs: number;
  versions: Record<string, DeploymentVersionState>;
  /** '' : unversioned workers take the new workflows. */
  currentBuildId: string;
  rampingBuildId: string;
  rampPercentage: number;
  /** Grows with every routing change; the conflict token of the Set* calls. */
  revision: number;
  routingChangedMs: number;
  lastModifierIdentity: string;
}

export type WorkerDeployments = Record<string, WorkerDeploymentState>;

/** As the reference server's default limits. */
export const MAX_VERSIONS_PER_DEPLOYMENT = 100;
const MAX_TASK_QUEUES_PER_VERSION = 100;

/** Matching routes every task with it: parsed once per record the registry hands out. */
const parsed = new WeakMap<Pick<NamespaceRecord, 'config'>, WorkerDeployments>();

export function workerDeployments(ns: Pick<NamespaceRecord, 'config'>): WorkerDeployments {
  let all = parsed.get(ns);
  if (!all) {
    all = (parseExtraConfig(ns.config) as { workerDeployments?: WorkerDeployments }).workerDeployments ?? {};
    parsed.set(ns, all);
  }
  return all;
}

/** The record with `change` applied to its deployments, every other config key kept. */
export function withWorkerDeployments(rec: NamespaceRecord, change: (current: WorkerDeployments) => WorkerDeployments): NamespaceRecord {
  const extra = parseExtraConfig(rec.config);
  return { ...rec, config: JSON.stringify({ ...extra, workerDeployments: change(workerDeployments(rec)) }) };
}

/** Whether a poller of this version on this queue is already known (no write needed). */
export function isRegistered(all: WorkerDeployments, deploymentName: string, buildId: string, tq: VersionTaskQueue): boolean {
  return Boolean(all[deploymentName]?.versions[buildId]?.taskQueues.some((q) => q.name === tq.name && q.type === tq.type));
}

/** A poller declared this version on this task queue: the deployment and version exist from now on. */
export function registerVersion(all: WorkerDeployments, deploymentName: string, buildId: string, tq: VersionTaskQueue, nowMs: number): WorkerDeployments {
  if (isRegistered(all, deploymentName, buildId, tq)) return all;
  const dep: WorkerDeploymentState = all[deploymentName] ?? {
    name: deploymentName,
    createTimeMs: nowMs,
    versions: {},
    currentBuildId: '',
    rampingBuildId: '',
    rampPercentage: 0,
    revision: 0,
    routingChangedMs: nowMs,
    lastModifierIdentity: '',
  };
  const version = dep.versions[buildId] ?? { buildId, createTimeMs: nowMs, taskQueues: [] };
  if (!dep.versions[buildId] && Object.keys(dep.versions).length >= MAX_VERSIONS_PER_DEPLOYMENT) {
    throw apiError('FAILED_PRECONDITION', `Worker deployment ${deploymentName} has ${MAX_VERSIONS_PER_DEPLOYMENT} versions; delete some first.`);
  }
  if (version.taskQueues.length >= MAX_TASK_QUEUES_PER_VERSION) {
    throw apiError('FAILED_PRECONDITION', `Worker deployment version ${deploymentName}.${buildId} serves ${MAX_TASK_QUEUES_PER_VERSION} task queues already.`);
  }
  const next = { ...version, taskQueues: [...version.taskQueues, tq] };
  return { ...all, [deploymentName]: { ...dep, versions: { ...dep.versions, [buildId]: next } } };
}

export function requireDeployment(all: WorkerDeployments, name: string): WorkerDeploymentState {
  const dep = all[name];
  if (!dep) throw apiError('NOT_FOUND', `Worker deployment ${name} not found.`);
  return dep;
}

function requireVersion(dep: WorkerDeploymentState, buildId: string): DeploymentVersionState {
  const v = dep.versions[buildId];
  if (!v) throw apiError('NOT_FOUND', `Worker deployment version ${dep.name}.${buildId} not found: no poller of it has polled yet.`);
  return v;
}

export function conflictToken(dep: WorkerDeploymentState): Buffer {
  return Buffer.from(String(dep.revision));
}

/** FAILED_PRECONDITION when the caller saw an older routing than the stored one. */
export function checkConflictToken(dep: WorkerDeploymentState, token: Uint8Array | null | undefined): void {
  if (token?.length && Buffer.from(token).toString() !== String(dep.revision)) {
    throw apiError('FAILED_PRECONDITION', `Worker deployment ${dep.name} changed since the conflict token was read.`);
  }
}

export interface RoutingChange {
  buildId: string;
  identity: string;
  nowMs: number;
}

/** The version (build id, '' for unversioned) takes the new workflows; a ramp of it ends. */
export function setCurrent(dep: WorkerDeploymentState, c: RoutingChange): WorkerDeploymentState {
  if (c.buildId) requireVersion(dep, c.buildId);
  if (c.buildId === dep.currentBuildId) return dep;
  // Only a ramping version becoming current ends the ramp ("" is no version: none is added for it).
  const rampEnds = c.buildId !== '' && dep.rampingBuildId === c.buildId;
  let versions = deactivate(dep.versions, dep.currentBuildId, 'currentSinceMs', c.nowMs);
  if (rampEnds) versions = { ...versions, [c.buildId]: { ...versions[c.buildId]!, rampingSinceMs: undefined } };
  if (c.buildId) versions = activate(versions, c.buildId, 'currentSinceMs', c.nowMs);
  return {
    ...dep,
    versions,
    currentBuildId: c.buildId,
    ...(rampEnds ? { rampingBuildId: '', rampPercentage: 0 } : {}),
    revision: dep.revision + 1,
    routingChangedMs: c.nowMs,
    lastModifierIdentity: c.identity,
  };
}

/** The version takes `percentage` of the new workflows; '' ends the ramp. */
export function setRamping(dep: WorkerDeploymentState, c: RoutingChange & { percentage: number }): WorkerDeploymentState {
  if (!(c.percentage >= 0 && c.percentage <= 100)) throw apiError('INVALID_ARGUMENT', `Ramping percentage must be within 0 and 100, got ${c.percentage}.`);
  if (c.buildId) {
    requireVersion(dep, c.buildId);
    if (c.buildId === dep.currentBuildId) throw apiError('INVALID_ARGUMENT', `Version ${dep.name}.${c.buildId} is the current version; it cannot ramp.`);
  }
  const percentage = c.buildId ? c.percentage : 0;
  if (c.buildId === dep.rampingBuildId && percentage === dep.rampPercentage) return dep;
  let versions = dep.versions;
  if (c.buildId !== dep.rampingBuildId) {
    versions = deactivate(versions, dep.rampingBuildId, 'rampingSinceMs', c.nowMs);
    if (c.buildId) versions = activate(versions, c.buildId, 'rampingSinceMs', c.nowMs);
  }
  return {
    ...dep,
    versions,
    rampingBuildId: c.buildId,
    rampPercentage: percentage,
    revision: dep.revision + 1,
    routingChangedMs: c.nowMs,
    lastModifierIdentity: c.identity,
  };
}

/** Refused while the version takes new workflows; the caller checks its pollers first. */
export function deleteVersion(dep: WorkerDeploymentState, buildId: string): WorkerDeploymentState {
  requireVersion(dep, buildId);
  if (buildId === dep.currentBuildId || buildId === dep.rampingBuildId) {
    throw apiError('FAILED_PRECONDITION', `Worker deployment version ${dep.name}.${buildId} is ${buildId === dep.currentBuildId ? 'current' : 'ramping'}; it cannot be deleted.`);
  }
  const { [buildId]: _deleted, ...versions } = dep.versions;
  return { ...dep, versions };
}

/** As the reference server: a deployment goes once its versions are deleted. */
export function deleteDeployment(all: WorkerDeployments, name: string): WorkerDeployments {
  const dep = requireDeployment(all, name);
  const left = Object.keys(dep.versions);
  if (left.length > 0) throw apiError('FAILED_PRECONDITION', `Worker deployment ${name} still has versions ${left.join(', ')}; delete them first.`);
  const { [name]: _deleted, ...rest } = all;
  return rest;
}

/** temporal.api.enums.v1.WorkerDeploymentVersionStatus of a version. */
export function versionStatus(dep: WorkerDeploymentState, buildId: string): number {
  if (buildId === dep.currentBuildId) return 2;
  if (buildId === dep.rampingBuildId) return 3;
  return dep.versions[buildId]?.lastDeactivationMs !== undefined ? 4 : 1;
}

/** The routing of a task queue: that of the deployment whose versions' pollers serve it. */
export function taskQueueRouting(all: WorkerDeployments, taskQueue: string) {
  const dep = Object.values(all).find((d) => Object.values(d.versions).some((v) => v.taskQueues.some((q) => q.name === taskQueue)));
  if (!dep) return null;
  const version = (buildId: string) => (buildId ? { deploymentName: dep.name, buildId } : null);
  return {
    current: version(dep.currentBuildId),
    ramping: version(dep.rampingBuildId),
    rampPercentage: dep.rampPercentage,
    updateTimeMs: dep.routingChangedMs,
    versions: Object.values(dep.versions)
      .filter((v) => v.taskQueues.some((q) => q.name === taskQueue))
      .map((v) => ({ deploymentName: dep.name, buildId: v.buildId })),
  };
}

/** The TemporalWorkerDeploymentVersion search attribute's value for a version, as the reference server writes it. */
export function versionSearchValue(deploymentName: string, buildId: string): string {
  return `${deploymentName}:${buildId}`;
}

/** Matching's RoutingSource over the registry's cached records. */
export function routingSource(namespaces: NamespaceRegistry) {
  return async (namespaceId: string, taskQueue: string) => taskQueueRouting(workerDeployments(await namespaces.requireById(namespaceId)), taskQueue);
}

type ActiveSince = 'currentSinceMs' | 'rampingSinceMs';

function activate(versions: Record<string, DeploymentVersionState>, buildId: string, field: ActiveSince, nowMs: number) {
  const v = versions[buildId]!;
  return { ...versions, [buildId]: { ...v, [field]: nowMs, firstActivationMs: v.firstActivationMs ?? nowMs, lastDeactivationMs: undefined } };
}

function deactivate(versions: Record<string, DeploymentVersionState>, buildId: string, field: ActiveSince, nowMs: number) {
  const v = buildId ? versions[buildId] : undefined;
  if (!v) return versions;
  return { ...versions, [buildId]: { ...v, [field]: undefined, lastDeactivationMs: nowMs } };
}
