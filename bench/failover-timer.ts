// One graceful failover, timed as a client sees it: UpdateNamespace with a new
// active_cluster_name through the global endpoint, and meanwhile a start every 20 ms sent to the
// new region's own frontend without forwarding (RegionCopy), refused until that region takes
// writes for the namespace. The first start it accepts ends the failover; its workflow is a real
// one, run and checked like every other.
import type { Connection } from '@temporalio/client';
import type { RegionCopy } from './region-copy.js';

export interface FailoverTiming {
  from: string;
  to: string;
  /** From the request to UpdateNamespace's answer. */
  requestMs: number;
  /** From the request to the first start the new region accepted. */
  firstStartMs: number;
  /** Starts the new region refused before that one. */
  refusedStarts: number;
  /** The last refusal, as the region gave it (e.g. NamespaceNotActive). */
  lastRefusal?: string;
  probe: { workflowId: string; runId: string };
}

const PROBE_EVERY_MS = 20;

export async function timedFailover(
  global: Connection,
  namespace: string,
  from: string,
  to: RegionCopy,
  probe: { workflowId: string; taskQueue: string; n: number },
  timeoutMs: number,
): Promise<FailoverTiming> {
  const t0 = performance.now();
  let requestMs = NaN;
  const request = global.workflowService
    .updateNamespace({ namespace, replicationConfig: { activeClusterName: to.region } })
    .then(() => {
      requestMs = performance.now() - t0;
    });
  let refusedStarts = 0;
  let lastRefusal: string | undefined;
  for (;;) {
    try {
      const runId = await to.start(probe.workflowId, probe.taskQueue, probe.n);
      const firstStartMs = performance.now() - t0;
      await request;
      return { from, to: to.region, requestMs: round(requestMs), firstStartMs: round(firstStartMs), refusedStarts, lastRefusal, probe: { workflowId: probe.workflowId, runId } };
    } catch (err) {
      refusedStarts++;
      lastRefusal = err instanceof Error ? err.message : String(err);
      if (performance.now() - t0 > timeoutMs) {
        await request.catch(() => undefined);
        throw new Error(`failover ${from} -> ${to.region}: no start accepted in ${to.region} within ${timeoutMs} ms; last refusal: ${lastRefusal}`);
      }
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
