// One namespace failover through the regions' own coordinators (which audit it with the identity
// given): graceful on the active region (HANDOVER, wait for replication, switch), forced on the
// target (switch at once). What the controller, the page and `tandem drill` all run.
import type { FailoverOutcome } from '../ops-page/backend.js';
import type { FailoverNamespaceResponse } from '../../proto/gen/tandem/admin/v1/failover.js';
import { describeError, type RegionClient } from './region-client.js';

/** Beyond the coordinator's own wait: the call's round trip and the switch's writes. */
const CALL_SLACK_MS = 5_000;

export interface FailoverResult extends FailoverOutcome {
  /** Forced: the replication lag at the switch (its RPO) when the region reported it. */
  lag?: { tasks: number; seconds: number };
}

export interface FailoverStep {
  namespace: string;
  fromRegion: string;
  toRegion: string;
  identity: string;
  /** Graceful: how long the wait for replication may take. */
  timeoutMs: number;
}

function lagOf(r: FailoverNamespaceResponse): FailoverResult['lag'] {
  return r.lagSeconds === undefined ? undefined : { tasks: Number(r.lagTasks ?? 0n), seconds: r.lagSeconds };
}

export async function runFailover(clients: ReadonlyMap<string, RegionClient>, step: FailoverStep, mode: 'graceful' | 'forced'): Promise<FailoverResult> {
  const started = Date.now();
  const base = { namespace: step.namespace, fromRegion: step.fromRegion, toRegion: step.toRegion, mode };
  // Graceful drains the active region, so it is asked there; forced promotes the target without it.
  const asked = clients.get(mode === 'graceful' ? step.fromRegion : step.toRegion);
  if (!asked) return { ...base, durationMs: 0, ok: false, message: `no endpoint for region ${mode === 'graceful' ? step.fromRegion : step.toRegion}` };
  try {
    const r = await asked.failover(
      { namespace: step.namespace, targetRegion: step.toRegion, force: mode === 'forced', timeoutMs: BigInt(step.timeoutMs), identity: step.identity },
      step.timeoutMs + CALL_SLACK_MS,
    );
    const lag = lagOf(r);
    // The switch is written in the old region and replicated: the next step (a drill's way back,
    // a failback) must find the target knowing it is active, or the target refuses it.
    if (mode === 'graceful') await untilActive(clients.get(step.toRegion), step.namespace, started + step.timeoutMs + CALL_SLACK_MS);
    const versions = `version ${r.fromVersion} -> ${r.toVersion}`;
    return { ...base, fromRegion: r.fromRegion, durationMs: Date.now() - started, ok: true, message: lag ? `${versions}; replication lag at the switch ${lag.seconds.toFixed(3)} s, ${lag.tasks} tasks` : versions, ...(lag && { lag }) };
  } catch (err) {
    return { ...base, durationMs: Date.now() - started, ok: false, message: `${asked.region}: ${describeError(err)}` };
  }
}

/** Polls the target region's own view until the namespace is active there or the deadline passes. */
async function untilActive(target: RegionClient | undefined, namespace: string, deadlineMs: number): Promise<void> {
  while (target && Date.now() < deadlineMs) {
    const active = await target.activeRegionOf(namespace, Math.max(1, deadlineMs - Date.now())).catch(() => undefined);
    if (active === target.region) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A region-down failover: graceful for the bounded time, then forced; both outcomes returned. */
export async function gracefulThenForced(clients: ReadonlyMap<string, RegionClient>, step: FailoverStep): Promise<FailoverResult[]> {
  const graceful = await runFailover(clients, step, 'graceful');
  if (graceful.ok) return [graceful];
  return [graceful, await runFailover(clients, step, 'forced')];
}
