// Two regions in one process on SQLite (the embedded main, each with its frontend serving the
// replication stream), and a TCP proxy on b's link to a that a test can cut and heal.
import { randomUUID } from 'node:crypto';
import type { ReplicationConfig } from '../replication/config.js';
import { freePort } from '../services/common/free-port.js';
import { TcpProxy } from '../deploy/chaos/tcp-proxy.js';
import { EmbeddedCluster, embeddedDefaults } from '../deploy/processes/embedded.js';
import { silentLogger } from '../services/common/logger.js';
import { historyv1 } from '../services/common/temporal.js';
import type { RegionConfig } from '../services/namespaces/failover.js';
import type { ExecutionKey, NamespaceRecord } from '../services/persistence/types.js';

export const NUM_SHARDS = 4;

export interface TwoRegions {
  a: EmbeddedCluster;
  b: EmbeddedCluster;
  /** b's way to a's frontend. */
  link: TcpProxy;
  /** A global namespace active in a, replicated to b, with ONE id in both. */
  globalNamespace(name?: string, opts?: { inB: boolean }): Promise<NamespaceRecord>;
  stop(): Promise<void>;
}

export async function startTwoRegions(replication: Partial<ReplicationConfig> = {}): Promise<TwoRegions> {
  const [portA, portB] = [await freePort(), await freePort()];
  const link = await TcpProxy.start(portA);
  const region = (name: string, initial: bigint, port: number): RegionConfig => ({ name, initialFailoverVersion: initial, failoverVersionIncrement: 10n, frontendAddress: `127.0.0.1:${port}` });
  const regionA = region('a', 1n, portA);
  const regionB = region('b', 2n, portB);
  const cluster = (self: RegionConfig, regions: RegionConfig[], port: number) =>
    new EmbeddedCluster(
      { ...embeddedDefaults, store: { kind: 'sqlite', path: ':memory:' }, port, metricsPort: 0, numShards: NUM_SHARDS, region: self, regions, replication, defaultNamespace: '' },
      silentLogger(),
    );
  const a = cluster(regionA, [regionA, regionB], portA);
  // b reaches a through the proxy, so a test can cut the link.
  const b = cluster(regionB, [{ ...regionA, frontendAddress: link.address }, regionB], portB);
  await Promise.all([a.start(), b.start()]);
  return {
    a,
    b,
    link,
    async globalNamespace(name = `g-${randomUUID().slice(0, 8)}`, opts = { inB: true }) {
      const rec = await a.namespaces!.register({ name, isGlobal: true, regions: ['a', 'b'], activeRegion: 'a' });
      // Namespace replication brings it to b; a test that wants b to refuse its tasks hides it there.
      for (let i = 0; !(await b.store!.namespaces.getNamespaceById(rec.id)); i++) {
        if (i > 100) throw new Error(`namespace ${name} did not reach b`);
        await new Promise((r) => setTimeout(r, 100));
      }
      if (!opts.inB) await setNamespaceState(b, rec.id, 'deleted');
      return rec;
    },
    async stop() {
      await Promise.all([a.stop(), b.stop()]);
      await link.cut();
    },
  };
}

/** Changes the state of a region's copy of a namespace behind namespace replication's back. */
export async function setNamespaceState(c: EmbeddedCluster, id: string, state: NamespaceRecord['state']): Promise<void> {
  const stored = (await c.store!.namespaces.getNamespaceById(id))!;
  await c.store!.namespaces.updateNamespace({ ...stored, state, notificationVersion: stored.notificationVersion + 1n }, stored.notificationVersion);
  await c.namespaces!.refresh();
}

/** Every run of a's store compared with b's, event for event (versions included; task ids are each region's own). */
export async function historyDifferences(a: EmbeddedCluster, b: EmbeddedCluster): Promise<string[]> {
  const out: string[] = [];
  for (let shardId = 0; shardId < NUM_SHARDS; shardId++) {
    for (const rec of await a.store!.executions.listExecutions(shardId, null, 10_000)) {
      const [ea, eb] = await Promise.all([a, b].map((c) => eventsOf(c, shardId, rec.key)));
      if (JSON.stringify(ea) !== JSON.stringify(eb)) out.push(`${rec.key.workflowId}/${rec.key.runId}: a has ${ea?.length ?? 0} events, b ${eb?.length ?? 'no run'}`);
    }
  }
  return out;
}

async function eventsOf(c: EmbeddedCluster, shardId: number, key: ExecutionKey) {
  const rec = await c.store!.executions.getWorkflowExecution(shardId, key);
  if (!rec) return null;
  const ms = await c.history!.engine.tx.read(key.namespaceId, key.workflowId, key.runId);
  const events = await c.history!.engine.tx.readAllEvents(ms, 1, rec.nextEventId);
  return events.map((e) => {
    const json = historyv1.HistoryEvent.toObject(e as historyv1.HistoryEvent, { longs: String, bytes: String }) as Record<string, unknown>;
    delete json.taskId;
    return json;
  });
}

/** Waits until b holds every run of a as a has it; returns how long that took. */
export async function converge(a: EmbeddedCluster, b: EmbeddedCluster, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const diff = await historyDifferences(a, b);
    if (diff.length === 0) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`b did not converge in ${timeoutMs} ms: ${diff.slice(0, 5).join('; ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sum of a counter or gauge of the cluster's registry (every label set). */
export async function metricValue(c: EmbeddedCluster, name: string): Promise<number> {
  const m = c.registry!.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.reduce((s, v) => s + v.value, 0);
}
