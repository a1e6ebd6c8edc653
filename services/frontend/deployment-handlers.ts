// Worker Versioning's deployment RPCs: describe and list the namespace's worker deployments and
// versions, move the current and ramping versions, delete a version or a deployment. The state is
// the namespace record's (namespaces/worker-deployments.ts); changes go through the registry's
// update path in the namespace's active region, and matching reads the routing from the record.
import { apiError } from '../common/errors.js';
import { timestampFromMs } from '../common/proto-time.js';
import type { workflowservice as ws } from '../common/temporal.js';
import type { NamespaceRef } from '../history/api.js';
import {
  checkConflictToken,
  conflictToken,
  deleteDeployment,
  deleteVersion,
  requireDeployment,
  setCurrent,
  setRamping,
  versionSearchValue,
  versionStatus,
  withWorkerDeployments,
  workerDeployments,
  type WorkerDeploymentState,
} from '../namespaces/worker-deployments.js';
import type { FrontendContext, Handlers } from './context.js';
import { checkLength, pageSize, requireString } from './validation.js';

/** The version string of the API (`deploymentName.buildId`) that names no version: unversioned workers. */
const UNVERSIONED = '__unversioned__';

type VersionRef = { version?: string | null; deploymentVersion?: { deploymentName?: string | null; buildId?: string | null } | null };

export function deploymentHandlers(ctx: FrontendContext): Handlers {
  const limits = ctx.config;

  const deployments = async (ns: NamespaceRef) => workerDeployments(await ctx.namespaces.requireById(ns.id));

  /** Applies `change` to one deployment through the namespace update path; answers the deployment before and after. */
  const change = async (ns: NamespaceRef, name: string, apply: (dep: WorkerDeploymentState) => WorkerDeploymentState) => {
    let before: WorkerDeploymentState | undefined;
    let after: WorkerDeploymentState | undefined;
    await ctx.namespaces.update(ns.name, (rec) =>
      withWorkerDeployments(rec, (all) => {
        before = requireDeployment(all, name);
        after = apply(before);
        return { ...all, [name]: after };
      }),
    );
    return { before: before!, after: after! };
  };

  /** The version's pollers, from matching: a version that still has some is not deleted. */
  const hasPollers = async (ns: NamespaceRef, dep: WorkerDeploymentState, buildId: string) => {
    for (const tq of dep.versions[buildId]?.taskQueues ?? []) {
      const { pollers } = await ctx.matching.describeTaskQueue(ns.id, { taskQueue: { name: tq.name }, taskQueueType: tq.type });
      if (pollers?.some((p) => p.deploymentOptions?.deploymentName === dep.name && p.deploymentOptions.buildId === buildId)) return true;
    }
    return false;
  };

  /**
   * A version no longer current or ramping drains while workflows pinned to it run; none left
   * (by visibility, so as fresh as the last visibility task): drained.
   */
  const drainageStatus = async (ns: NamespaceRef, dep: WorkerDeploymentState, buildId: string) => {
    if (versionStatus(dep, buildId) !== DRAINING) return 0;
    const keyword = (name: string, value: string) => ({ op: '=' as const, field: { name, type: 'Keyword' as const, builtin: false }, value });
    const { count } = await ctx.deps.persistence.visibility.countVisibility(ns.id, {
      where: {
        op: 'and',
        items: [
          keyword('TemporalWorkerDeploymentVersion', versionSearchValue(dep.name, buildId)),
          keyword('TemporalWorkflowVersioningBehavior', 'Pinned'),
          { op: '=', field: { name: 'ExecutionStatus', type: 'Keyword', builtin: true }, value: 'Running' },
        ],
      },
    });
    return count === 0 ? DRAINAGE_DRAINED : DRAINAGE_DRAINING;
  };

  return {
    DescribeWorkerDeployment: async (req: ws.DescribeWorkerDeploymentRequest, call) => {
      const name = requireString(req.deploymentName, 'DeploymentName', limits);
      return ctx.serve(req, call, 'read', async (ns) => {
        const dep = requireDeployment(await deployments(ns), name);
        return { conflictToken: conflictToken(dep), workerDeploymentInfo: deploymentInfo(dep) };
      });
    },

    ListWorkerDeployments: async (req: ws.ListWorkerDeploymentsRequest, call) => {
      const size = pageSize(req.pageSize, 'PageSize', limits);
      const after = req.nextPageToken?.length ? Buffer.from(req.nextPageToken).toString() : '';
      return ctx.serve(req, call, 'read', async (ns) => {
        const all = await deployments(ns);
        const names = Object.keys(all).sort().filter((n) => n > after);
        const page = names.slice(0, size);
        return {
          workerDeployments: page.map((n) => {
            const dep = all[n]!;
            const latest = Object.values(dep.versions).sort((a, b) => b.createTimeMs - a.createTimeMs)[0];
            return {
              name: dep.name,
              createTime: timestampFromMs(dep.createTimeMs),
              routingConfig: routingConfig(dep),
              latestVersionSummary: latest ? versionSummary(dep, latest.buildId) : null,
              currentVersionSummary: dep.currentBuildId ? versionSummary(dep, dep.currentBuildId) : null,
              rampingVersionSummary: dep.rampingBuildId ? versionSummary(dep, dep.rampingBuildId) : null,
            };
          }),
          nextPageToken: names.length > size ? Buffer.from(page[page.length - 1]!) : null,
        };
      });
    },

    DescribeWorkerDeploymentVersion: async (req: ws.DescribeWorkerDeploymentVersionRequest, call) => {
      const { deploymentName, buildId } = versionOf(req);
      return ctx.serve(req, call, 'read', async (ns) => {
        const dep = requireDeployment(await deployments(ns), deploymentName);
        const v = dep.versions[buildId];
        if (!v) throw apiError('NOT_FOUND', `Worker deployment version ${deploymentName}.${buildId} not found.`);
        const drainage = await drainageStatus(ns, dep, buildId);
        return {
          workerDeploymentVersionInfo: {
            version: `${deploymentName}.${buildId}`,
            deploymentVersion: { deploymentName, buildId },
            deploymentName,
            status: drainage === DRAINAGE_DRAINED ? DRAINED : versionStatus(dep, buildId),
            createTime: timestampFromMs(v.createTimeMs),
            routingChangedTime: timestampFromMs(dep.routingChangedMs),
            currentSinceTime: optionalTime(v.currentSinceMs),
            rampingSinceTime: optionalTime(v.rampingSinceMs),
            firstActivationTime: optionalTime(v.firstActivationMs),
            lastDeactivationTime: optionalTime(v.lastDeactivationMs),
            rampPercentage: buildId === dep.rampingBuildId ? dep.rampPercentage : 0,
            taskQueueInfos: v.taskQueues.map((q) => ({ name: q.name, type: q.type })),
            drainageInfo: drainage ? { status: drainage, lastCheckedTime: timestampFromMs(Date.now()) } : null,
          },
          versionTaskQueues: v.taskQueues.map((q) => ({ name: q.name, type: q.type })),
        };
      });
    },

    SetWorkerDeploymentCurrentVersion: async (req: ws.SetWorkerDeploymentCurrentVersionRequest, call) => {
      const name = requireString(req.deploymentName, 'DeploymentName', limits);
      const buildId = targetBuildId(name, req.buildId, req.version);
      checkLength(req.identity, 'Identity', limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        const { before, after } = await change(ns, name, (dep) => {
          checkConflictToken(dep, req.conflictToken);
          if (!req.ignoreMissingTaskQueues) checkTaskQueuesKept(dep, buildId);
          return setCurrent(dep, { buildId, identity: req.identity ?? '', nowMs: Date.now() });
        });
        return {
          conflictToken: conflictToken(after),
          previousVersion: versionString(before, before.currentBuildId),
          previousDeploymentVersion: before.currentBuildId ? { deploymentName: name, buildId: before.currentBuildId } : null,
        };
      });
    },

    SetWorkerDeploymentRampingVersion: async (req: ws.SetWorkerDeploymentRampingVersionRequest, call) => {
      const name = requireString(req.deploymentName, 'DeploymentName', limits);
      const buildId = targetBuildId(name, req.buildId, req.version);
      checkLength(req.identity, 'Identity', limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        const { before, after } = await change(ns, name, (dep) => {
          checkConflictToken(dep, req.conflictToken);
          if (!req.ignoreMissingTaskQueues && buildId) checkTaskQueuesKept(dep, buildId);
          return setRamping(dep, { buildId, percentage: req.percentage ?? 0, identity: req.identity ?? '', nowMs: Date.now() });
        });
        return {
          conflictToken: conflictToken(after),
          previousVersion: versionString(before, before.rampingBuildId),
          previousDeploymentVersion: before.rampingBuildId ? { deploymentName: name, buildId: before.rampingBuildId } : null,
          previousPercentage: before.rampPercentage,
        };
      });
    },

    DeleteWorkerDeploymentVersion: async (req: ws.DeleteWorkerDeploymentVersionRequest, call) => {
      const { deploymentName, buildId } = versionOf(req);
      checkLength(req.identity, 'Identity', limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        const dep = requireDeployment(await deployments(ns), deploymentName);
        deleteVersion(dep, buildId);
        if (await hasPollers(ns, dep, buildId)) {
          throw apiError('FAILED_PRECONDITION', `Worker deployment version ${deploymentName}.${buildId} still has pollers; stop its workers first.`);
        }
        await change(ns, deploymentName, (current) => deleteVersion(current, buildId));
        return {};
      });
    },

    DeleteWorkerDeployment: async (req: ws.DeleteWorkerDeploymentRequest, call) => {
      const name = requireString(req.deploymentName, 'DeploymentName', limits);
      checkLength(req.identity, 'Identity', limits);
      return ctx.serve(req, call, 'write', async (ns) => {
        await ctx.namespaces.update(ns.name, (rec) => withWorkerDeployments(rec, (all) => deleteDeployment(all, name)));
        return {};
      });
    },
  };
}

/** temporal.api.enums.v1.WorkerDeploymentVersionStatus and VersionDrainageStatus. */
const DRAINING = 4;
const DRAINED = 5;
const DRAINAGE_DRAINING = 1;
const DRAINAGE_DRAINED = 2;

/** The version a request names, by its structured field or the `deploymentName.buildId` string. */
function versionOf(req: VersionRef): { deploymentName: string; buildId: string } {
  const structured = req.deploymentVersion;
  if (structured?.deploymentName && structured.buildId) return { deploymentName: structured.deploymentName, buildId: structured.buildId };
  const dot = req.version?.indexOf('.') ?? -1;
  if (!req.version || dot <= 0 || dot === req.version.length - 1) {
    throw apiError('INVALID_ARGUMENT', 'A deployment version (deploymentName and buildId, or "deploymentName.buildId") is required.');
  }
  return { deploymentName: req.version.slice(0, dot), buildId: req.version.slice(dot + 1) };
}

/** The build id a Set* call moves to; '' is unversioned. */
function targetBuildId(deploymentName: string, buildId: string | null | undefined, version: string | null | undefined): string {
  if (buildId) return buildId;
  if (!version || version === UNVERSIONED) return '';
  if (!version.startsWith(`${deploymentName}.`)) throw apiError('INVALID_ARGUMENT', `Version ${version} does not belong to deployment ${deploymentName}.`);
  return version.slice(deploymentName.length + 1);
}

/** As the reference server: a new version must poll every task queue the current one serves, unless told to ignore it. */
function checkTaskQueuesKept(dep: WorkerDeploymentState, buildId: string): void {
  const current = dep.versions[dep.currentBuildId];
  const next = dep.versions[buildId];
  if (!current || !next) return;
  const missing = current.taskQueues.filter((q) => !next.taskQueues.some((n) => n.name === q.name && n.type === q.type));
  if (missing.length > 0) {
    throw apiError(
      'FAILED_PRECONDITION',
      `Version ${dep.name}.${buildId} has no pollers on task queue(s) ${missing.map((q) => q.name).join(', ')} of the current version; set ignoreMissingTaskQueues to proceed.`,
    );
  }
}

function versionString(dep: WorkerDeploymentState, buildId: string): string {
  return buildId ? `${dep.name}.${buildId}` : UNVERSIONED;
}

function optionalTime(ms: number | undefined) {
  return ms === undefined ? null : timestampFromMs(ms);
}

function routingConfig(dep: WorkerDeploymentState) {
  const at = timestampFromMs(dep.routingChangedMs);
  return {
    currentVersion: versionString(dep, dep.currentBuildId),
    currentDeploymentVersion: dep.currentBuildId ? { deploymentName: dep.name, buildId: dep.currentBuildId } : null,
    rampingVersion: dep.rampingBuildId ? versionString(dep, dep.rampingBuildId) : '',
    rampingDeploymentVersion: dep.rampingBuildId ? { deploymentName: dep.name, buildId: dep.rampingBuildId } : null,
    rampingVersionPercentage: dep.rampPercentage,
    currentVersionChangedTime: at,
    rampingVersionChangedTime: at,
    rampingVersionPercentageChangedTime: at,
    revisionNumber: dep.revision,
  };
}

function versionSummary(dep: WorkerDeploymentState, buildId: string) {
  const v = dep.versions[buildId]!;
  const status = versionStatus(dep, buildId);
  return {
    version: versionString(dep, buildId),
    deploymentVersion: { deploymentName: dep.name, buildId },
    status,
    createTime: timestampFromMs(v.createTimeMs),
    drainageStatus: status === DRAINING ? DRAINAGE_DRAINING : 0,
    currentSinceTime: optionalTime(v.currentSinceMs),
    rampingSinceTime: optionalTime(v.rampingSinceMs),
    firstActivationTime: optionalTime(v.firstActivationMs),
    lastDeactivationTime: optionalTime(v.lastDeactivationMs),
  };
}

function deploymentInfo(dep: WorkerDeploymentState) {
  return {
    name: dep.name,
    createTime: timestampFromMs(dep.createTimeMs),
    versionSummaries: Object.keys(dep.versions).map((b) => versionSummary(dep, b)),
    routingConfig: routingConfig(dep),
    lastModifierIdentity: dep.lastModifierIdentity,
  };
}
