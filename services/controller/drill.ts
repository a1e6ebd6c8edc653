// A failover drill of one region: every global namespace active there fails over gracefully to
// another of its regions, and back with andBack. Optionally it starts a few canary workflows in
// each namespace before the switch and checks them in the new active region after it: "lost" is a
// canary the new region does not know; "duplicated" is a canary id answered by a run other than
// the one started. That is all it checks: it sees no other workflow's history.
import { randomUUID } from 'node:crypto';
import { durationFromMs } from '../common/proto-time.js';
import type { NamespaceRecord } from '../persistence/types.js';
import { runFailover, type FailoverResult } from './failovers.js';
import { newestGlobalNamespaces } from './global-namespaces.js';
import { describeError, type RegionClient } from './region-client.js';

export interface DrillOptions {
  andBack: boolean;
  identity: string;
  /** Graceful wait for replication, per failover. */
  timeoutMs: number;
  /** Canary workflows per namespace; 0 checks nothing beyond the failovers themselves. */
  canaries: number;
  /** Deadline of each canary and listing call. */
  callTimeoutMs: number;
}

export interface CanaryCheck {
  /** Region checked, after which step. */
  region: string;
  started: number;
  lost: string[];
  duplicated: string[];
}

export interface DrillReport {
  namespace: string;
  steps: FailoverResult[];
  checks: CanaryCheck[];
}

const CANARY_TYPE = 'tandem-drill-canary';
/** Canaries have no worker: they wait, and are terminated when the drill ends. */
const CANARY_RUN_TIMEOUT_MS = 3_600_000;

export async function drillRegion(clients: ReadonlyMap<string, RegionClient>, region: string, o: DrillOptions): Promise<DrillReport[]> {
  const drained = clients.get(region);
  if (!drained) throw new Error(`no region ${region} (known: ${[...clients.keys()].join(', ')})`);
  // A graceful failover drains the active region: without it there is nothing to drill.
  await drained.namespaces(o.callTimeoutMs).catch((err: unknown) => {
    throw new Error(`region ${region} (${drained.endpoint}) does not answer: ${describeError(err)}`);
  });
  const namespaces = (await newestGlobalNamespaces([...clients.values()], o.callTimeoutMs)).filter((ns) => ns.activeRegion === region);
  return Promise.all(namespaces.map((ns) => drillNamespace(clients, ns, o)));
}

async function drillNamespace(clients: ReadonlyMap<string, RegionClient>, ns: NamespaceRecord, o: DrillOptions): Promise<DrillReport> {
  const home = ns.activeRegion;
  const report: DrillReport = { namespace: ns.name, steps: [], checks: [] };
  const target = ns.regions.find((r) => r !== home && clients.has(r));
  if (!target) {
    report.steps.push({ namespace: ns.name, fromRegion: home, toRegion: '', mode: 'graceful', durationMs: 0, ok: false, message: 'no other region to fail over to' });
    return report;
  }
  const canaries = await startCanaries(clients.get(home)!, ns.name, o);
  let active = home;
  try {
    for (const [from, to] of o.andBack ? [[home, target], [target, home]] : [[home, target]]) {
      const step = await runFailover(clients, { namespace: ns.name, fromRegion: from!, toRegion: to!, identity: o.identity, timeoutMs: o.timeoutMs }, 'graceful');
      report.steps.push(step);
      if (!step.ok) break;
      active = to!;
      if (canaries.size > 0) report.checks.push(await checkCanaries(clients.get(active)!, ns.name, canaries, o));
    }
  } finally {
    await terminateCanaries(clients.get(active)!, ns.name, canaries, o);
  }
  return report;
}

async function startCanaries(client: RegionClient, namespace: string, o: DrillOptions): Promise<Map<string, string>> {
  const started = new Map<string, string>();
  for (let i = 0; i < o.canaries; i++) {
    const workflowId = `drill-canary-${randomUUID()}`;
    const { runId } = await client.within(o.callTimeoutMs, (svc) =>
      svc.startWorkflowExecution({
        namespace,
        workflowId,
        workflowType: { name: CANARY_TYPE },
        taskQueue: { name: CANARY_TYPE },
        workflowRunTimeout: durationFromMs(CANARY_RUN_TIMEOUT_MS),
        requestId: randomUUID(),
        identity: o.identity,
      }),
    );
    started.set(workflowId, runId);
  }
  return started;
}

async function checkCanaries(client: RegionClient, namespace: string, canaries: Map<string, string>, o: DrillOptions): Promise<CanaryCheck> {
  const check: CanaryCheck = { region: client.region, started: canaries.size, lost: [], duplicated: [] };
  for (const [workflowId, runId] of canaries) {
    try {
      const d = await client.within(o.callTimeoutMs, (svc) => svc.describeWorkflowExecution({ namespace, execution: { workflowId } }));
      if (d.workflowExecutionInfo?.execution?.runId !== runId) check.duplicated.push(workflowId);
    } catch (err) {
      if (!/NOT_FOUND/.test(describeError(err))) throw err;
      check.lost.push(workflowId);
    }
  }
  return check;
}

async function terminateCanaries(client: RegionClient, namespace: string, canaries: Map<string, string>, o: DrillOptions): Promise<void> {
  for (const [workflowId, runId] of canaries) {
    await client
      .within(o.callTimeoutMs, (svc) => svc.terminateWorkflowExecution({ namespace, workflowExecution: { workflowId, runId }, reason: 'drill over', identity: o.identity }))
      .catch(() => undefined);
  }
}
