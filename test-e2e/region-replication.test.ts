// Replication between two regions of separate processes (`tandem up --topology
// deploy/local/two-regions.json` in small): each region a frontend, a matching node and one
// history node, on its own keyspace of the test Cassandra and its own membership prefix in the test
// Redis. A global namespace registered in a reaches b by namespace replication; workflows started
// and progressed in a by the official client and worker appear in b event for event (versions
// included), through b's receivers -> a's frontend (the stream proxy) -> a's history node. Then
// b's history node is killed (-9) while a keeps writing, and restarted: its streams resume from
// the acks a persisted, with no gap (no resend needed, nothing in the DLQ) and no duplicate event.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ensureTestCassandra, dropTestKeyspace, type TestCassandra } from '../deploy/cassandra/test-instance.js';
import { ensureTestRedis } from '../deploy/redis/test-instance.js';
import { LocalCluster } from '../deploy/processes/local-cluster.js';
import { scrape } from '../deploy/processes/node-process.js';
import { parsePrometheusText, sumSamples } from '../deploy/processes/prom-text.js';
import type { RegionSpec, Topology } from '../deploy/topology.js';
import { historyv1 } from '../services/common/temporal.js';
import { NO_FORWARD_HEADER } from '../services/frontend/forwarding.js';
import { ReplicationAdminServiceClient } from '../proto/gen/tandem/replication/v1/replication.js';
import * as activities from './activities.js';
import { eventually, workflowsPath } from './harness.js';
import { regionsTopology } from './region-fixture.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const NUM_SHARDS = 2;
const NAMESPACE = `repl-${randomUUID().slice(0, 8)}`;
/** The bound is a second after the load stops; the processes share two cores with the test. */
const CONVERGE_MS = 10_000;

describe('replication between two regions of separate processes', { timeout: 90_000 }, () => {
  const taskQueue = `repl-${randomUUID()}`;
  const suffix = randomUUID().slice(0, 6);
  const [a, b] = [`ra${suffix}`, `rb${suffix}`];
  const keyspaces: TestCassandra[] = [];
  const clusters = new Map<string, LocalCluster>();
  const connections = new Map<string, Connection>();
  let topology: Topology;
  let dir: string;
  let client: Client;
  let native: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  /** Every run started in a: workflow id -> run id. */
  const runs = new Map<string, string>();
  /** Runs sent `done`. */
  const finished = new Set<string>();

  const region = (name: string): RegionSpec => topology.regions.find((r) => r.name === name)!;
  const frontendOf = (name: string) => `127.0.0.1:${region(name).frontend.port}`;
  const historyNodeOf = (name: string) => clusters.get(name)!.node(region(name).history[0]!.id);

  before(async () => {
    const redis = await ensureTestRedis();
    keyspaces.push(await ensureTestCassandra(), await ensureTestCassandra());
    topology = await regionsTopology({
      regions: [
        { name: a, historyNodes: 1, cassandra: keyspaces[0]! },
        { name: b, historyNodes: 1, cassandra: keyspaces[1]! },
      ],
      numShards: NUM_SHARDS,
      redis,
      membership: { ttlMs: 3000, heartbeatMs: 1000, pollMs: 300 },
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-repl-'));
    const topologyFile = path.join(dir, 'topology.json');
    fs.writeFileSync(topologyFile, JSON.stringify(topology, null, 2));
    const logFile = process.env.TANDEM_E2E_LOG ?? path.join(dir, 'nodes.log');
    const write = (line: string) => fs.appendFileSync(logFile, `${line}\n`);
    // One launcher per region, started side by side (`tandem up` starts them one after the other).
    for (const name of [a, b]) {
      clusters.set(name, new LocalCluster({ topologyFile, topology, regions: [name], logLevel: process.env.TANDEM_E2E_LOG_LEVEL, log: (m) => write(`[up] ${m}`), onLine: (id, l) => write(`[${id}] ${l}`) }));
    }
    const bundle = bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('ERROR') });
    await Promise.all([...clusters.values()].map((c) => c.start()));
    for (const name of [a, b]) connections.set(name, await Connection.connect({ address: frontendOf(name) }));

    await connections.get(a)!.workflowService.registerNamespace({
      namespace: NAMESPACE,
      isGlobalNamespace: true,
      clusters: [{ clusterName: a }, { clusterName: b }],
      activeClusterName: a,
      workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86_400) },
    });
    // Asked of b's own store (no forwarding): namespace replication brought it there.
    await eventually('the global namespace in b', () => local(b, (c) => c.workflowService.describeNamespace({ namespace: NAMESPACE })), 20_000);

    client = new Client({ connection: connections.get(a)!, namespace: NAMESPACE });
    native = await NativeConnection.connect({ address: frontendOf(a) });
    worker = await Worker.create({ connection: native, namespace: NAMESPACE, taskQueue, workflowBundle: await bundle, activities });
    workerRun = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await workerRun?.catch(() => {});
    await native?.close();
    for (const c of connections.values()) await c.close();
    await Promise.all([...clusters.values()].map((c) => c.stop()));
    for (const k of keyspaces) await dropTestKeyspace(k);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A call answered by the region's own frontend from its own store: never forwarded to the active region. */
  function local<T>(name: string, fn: (c: Connection) => Promise<T>): Promise<T> {
    const c = connections.get(name)!;
    return c.withMetadata({ [NO_FORWARD_HEADER]: 'false' }, () => fn(c));
  }

  /** Every event of the run as the region stores it. */
  async function historyIn(name: string, workflowId: string, runId: string): Promise<historyv1.IHistoryEvent[]> {
    const res = await local(name, (c) =>
      c.workflowService.getWorkflowExecutionHistory({ namespace: NAMESPACE, execution: { workflowId, runId }, maximumPageSize: 1000 }),
    );
    return res.history?.events ?? [];
  }

  /**
   * Where b's copy of a run differs from a's (ids, versions, types, times, attributes), or
   * undefined. An event's taskId is left out: it names the region's own task that wrote it.
   */
  function difference(inA: historyv1.IHistoryEvent[], inB: historyv1.IHistoryEvent[]): string | undefined {
    const encode = (e: historyv1.IHistoryEvent) => JSON.stringify({ ...historyv1.HistoryEvent.fromObject(e).toJSON(), taskId: undefined });
    for (let i = 0; i < Math.max(inA.length, inB.length); i++) {
      const [x, y] = [inA[i] && encode(inA[i]!), inB[i] && encode(inB[i]!)];
      if (x !== y) return `event ${i + 1}: a ${x?.slice(0, 300) ?? 'none'}; b ${y?.slice(0, 300) ?? 'none'}`;
    }
    return undefined;
  }

  /** b holds every run exactly as a has it; event ids in b run 1..n without a hole or a repeat. */
  async function sameInB(): Promise<void> {
    await eventually(
      `b holds the ${runs.size} runs as a has them`,
      async () => {
        for (const [workflowId, runId] of runs) {
          const diff = difference(await historyIn(a, workflowId, runId), await historyIn(b, workflowId, runId));
          if (diff) throw new Error(`${workflowId}: ${diff}`);
        }
        return true;
      },
      CONVERGE_MS,
    );
    for (const [workflowId, runId] of runs) {
      const res = await local(b, (c) => c.workflowService.getWorkflowExecutionHistory({ namespace: NAMESPACE, execution: { workflowId, runId } }));
      const ids = (res.history?.events ?? []).map((e) => Number(e.eventId));
      assert.deepEqual(ids, ids.map((_, i) => i + 1), `${workflowId}: event ids in b`);
    }
  }

  async function startRuns(n: number, prefix: string): Promise<void> {
    for (let i = 0; i < n; i++) {
      const workflowId = `${prefix}-${i}`;
      const handle = await client.workflow.start('waitForSignals', { workflowId, taskQueue });
      runs.set(workflowId, handle.firstExecutionRunId);
    }
  }

  const open = () => [...runs.keys()].filter((id) => !finished.has(id));

  async function add(): Promise<void> {
    await Promise.all(open().map((id) => client.workflow.getHandle(id).signal('add', 1)));
  }

  /** Sends `done` and waits for the result: 1 per `add` the run got. */
  async function finish(ids: string[]): Promise<void> {
    for (const id of ids) finished.add(id);
    await Promise.all(ids.map((id) => client.workflow.getHandle(id).signal('done')));
    for (const id of ids) assert.ok((await client.workflow.getHandle(id).result()) >= 1, `${id} completes`);
  }

  async function metricOf(name: string, metric: string): Promise<number> {
    const text = await scrape(historyNodeOf(name).metricsUrl);
    assert.ok(text !== null, `metrics of ${name}'s history node`);
    return sumSamples(parsePrometheusText(text), metric);
  }

  /** The replication DLQ of a region, through its frontend (fanned out to its history nodes). */
  async function dlqOf(name: string): Promise<number> {
    const admin = new ReplicationAdminServiceClient(frontendOf(name), grpc.credentials.createInsecure());
    try {
      const res = await new Promise<{ entries: unknown[] }>((resolve, reject) => admin.listDlq({ limit: 100 }, (err, r) => (err ? reject(err) : resolve(r))));
      return res.entries.length;
    } finally {
      admin.close();
    }
  }

  test('workflows written in a appear in b event for event, versions included', async () => {
    await startRuns(4, 'first');
    await add();
    await sameInB();
    // Half of them finish; their close events replicate too.
    await finish(['first-0', 'first-1']);
    await sameInB();
    assert.ok((await metricOf(b, 'tandem_replication_tasks_applied_total')) > 0, 'b applied replicated tasks');
    assert.equal(await metricOf(b, 'tandem_replication_tasks_failed_total'), 0, 'no apply failed in b');
  });

  test("kill -9 of b's history node: after its restart the streams resume from the ack, no gap, no duplicate", async () => {
    await historyNodeOf(b).kill();
    // a keeps writing while b cannot receive: new runs, signals, completions.
    await startRuns(3, 'while-down');
    await add();
    await finish(['first-2']);
    await historyNodeOf(b).start();
    await sameInB();
    // A gap would have failed an apply (and asked for a resend); a task given up on would sit in the DLQ.
    assert.equal(await metricOf(b, 'tandem_replication_tasks_failed_total'), 0, 'no apply failed in b after the restart');
    assert.equal(await dlqOf(b), 0, "b's replication DLQ is empty");
    await finish(open());
    await sameInB();
    assert.equal(await metricOf(a, 'tandem_replication_tasks_failed_total'), 0, 'nothing replicated b -> a failed either');
  });
});
