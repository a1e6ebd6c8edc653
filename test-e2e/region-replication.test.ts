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
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ensureTestCassandra, dropTestKeyspace, type TestCassandra } from '../deploy/cassandra/test-instance.js';
import { ensureTestRedis } from '../deploy/redis/test-instance.js';
import * as activities from './activities.js';
import { workflowBundle } from './harness.js';
import { regionsTopology } from './region-fixture.js';
import { RegionPair } from './region-pair.js';

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
  let pair: RegionPair;
  let client: Client;
  let native: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  /** Every run started in a: workflow id -> run id. */
  const runs = new Map<string, string>();
  /** Runs sent `done`. */
  const finished = new Set<string>();

  before(async () => {
    const redis = await ensureTestRedis();
    keyspaces.push(await ensureTestCassandra(), await ensureTestCassandra());
    const topology = await regionsTopology({
      regions: [
        { name: a, historyNodes: 1, cassandra: keyspaces[0]! },
        { name: b, historyNodes: 1, cassandra: keyspaces[1]! },
      ],
      numShards: NUM_SHARDS,
      redis,
      membership: { ttlMs: 3000, heartbeatMs: 1000, pollMs: 300 },
    });
    const bundle = workflowBundle();
    pair = await RegionPair.start(topology, 'tandem-repl-');
    await pair.registerGlobalNamespace(NAMESPACE, a);
    client = new Client({ connection: await pair.connection(a), namespace: NAMESPACE });
    native = await NativeConnection.connect({ address: pair.frontendOf(a) });
    worker = await Worker.create({ connection: native, namespace: NAMESPACE, taskQueue, workflowBundle: await bundle, activities });
    workerRun = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await workerRun?.catch(() => {});
    await native?.close();
    await pair?.stop();
    for (const k of keyspaces) await dropTestKeyspace(k);
  });

  const sameInB = () => pair.converged(a, b, NAMESPACE, [...runs].map(([workflowId, runId]) => ({ workflowId, runId })), CONVERGE_MS);

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

  test('workflows written in a appear in b event for event, versions included', async () => {
    await startRuns(4, 'first');
    await add();
    await sameInB();
    // Half of them finish; their close events replicate too.
    await finish(['first-0', 'first-1']);
    await sameInB();
    assert.ok((await pair.metricOf(b, 'tandem_replication_tasks_applied_total')) > 0, 'b applied replicated tasks');
    assert.equal(await pair.metricOf(b, 'tandem_replication_tasks_failed_total'), 0, 'no apply failed in b');
  });

  test("kill -9 of b's history node: after its restart the streams resume from the ack, no gap, no duplicate", async () => {
    await pair.historyNodeOf(b).kill();
    // a keeps writing while b cannot receive: new runs, signals, completions.
    await startRuns(3, 'while-down');
    await add();
    await finish(['first-2']);
    await pair.historyNodeOf(b).start();
    await sameInB();
    // A gap would have failed an apply (and asked for a resend); a task given up on would sit in the DLQ.
    assert.equal(await pair.metricOf(b, 'tandem_replication_tasks_failed_total'), 0, 'no apply failed in b after the restart');
    assert.equal(await pair.dlqOf(b), 0, "b's replication DLQ is empty");
    await finish(open());
    await sameInB();
    assert.equal(await pair.metricOf(a, 'tandem_replication_tasks_failed_total'), 0, 'nothing replicated b -> a failed either');
  });
});
