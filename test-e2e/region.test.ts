// Issue 4, "a real region": one region of three history nodes, a matching node and a frontend,
// each its own OS process (the `tandem up` launcher), on the test Cassandra and the test Redis,
// driven by the official SDK client and worker. History nodes are crashed (SIGKILL) and paused
// (SIGSTOP past the membership TTL): shards move, stale owners are fenced, nothing acknowledged
// is lost, and every process's /metrics carries the issue's metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ensureTestCassandra, dropTestKeyspace, type TestCassandra } from '../deploy/cassandra/test-instance.js';
import { ensureTestRedis } from '../deploy/redis/test-instance.js';
import { LocalCluster } from '../deploy/processes/local-cluster.js';
import { scrape } from '../deploy/processes/node-process.js';
import { parsePrometheusText, sumSamples } from '../deploy/processes/prom-text.js';
import type { Topology } from '../deploy/topology.js';
import { shardOwners } from '../cli/status.js';
import { shardIdFor } from '../services/history/shard-id.js';
import { temporal } from '../services/common/temporal.js';
import * as activities from './activities.js';
import { workflowBundle } from './harness.js';
import { balancedRegionName, regionTopology } from './region-fixture.js';

const EventType = temporal.api.enums.v1.EventType;
Runtime.install({ logger: new DefaultLogger('ERROR') });

const NUM_SHARDS = 16;
const TTL_MS = 3000;
/** The issue's bound: shards of a dead node move within this long after its heartbeat TTL. */
const MOVE_BOUND_MS = TTL_MS + 10_000;

async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a region of separate processes', { timeout: 900_000 }, () => {
  let cassandra: TestCassandra;
  let dir: string;
  let cluster: LocalCluster;
  let topology: Topology;
  let region: string;
  let connection: Connection;
  let client: Client;
  let native: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  let namespaceId: string;
  const taskQueue = `region-${randomUUID()}`;

  const historyIds = () => topology.regions[0]!.history.map((n) => n.id);
  const metricsOf = async (id: string) => {
    const text = await scrape(cluster.node(id).metricsUrl);
    return text === null ? null : parsePrometheusText(text);
  };
  /** Shards each live history node says it owns, when they add up to all shards. */
  const ownedPerNode = async (): Promise<Map<string, number> | undefined> => {
    const owned = new Map<string, number>();
    for (const id of historyIds()) {
      if (!cluster.node(id).running) continue;
      const m = await metricsOf(id);
      if (m) owned.set(id, sumSamples(m, 'tandem_history_shards_owned'));
    }
    const total = [...owned.values()].reduce((a, b) => a + b, 0);
    return total === NUM_SHARDS ? owned : undefined;
  };
  /** The store's view: owner of each shard (the last range_id bump). */
  const owners = async () => (await shardOwners(topology.regions[0]!, NUM_SHARDS)) ?? new Map<number, string>();
  /** Starts any history node a failed test left dead or paused, then waits for balance. */
  const wholeRegion = async () => {
    for (const id of historyIds()) {
      const p = cluster.node(id);
      p.signal('SIGCONT');
      if (!p.running) await p.start();
    }
    return balanced();
  };
  const balanced = () =>
    eventually(
      'every history node owns shards and together they own all',
      async () => {
        const owned = await ownedPerNode();
        return owned && owned.size === 3 && [...owned.values()].every((n) => n > 0) ? owned : undefined;
      },
      60_000,
    );

  before(async () => {
    cassandra = await ensureTestCassandra();
    const redis = await ensureTestRedis();
    region = balancedRegionName('r', 3, NUM_SHARDS, 3).region;
    topology = await regionTopology({
      region,
      historyNodes: 3,
      numShards: NUM_SHARDS,
      cassandra,
      redis,
      membership: { ttlMs: TTL_MS, heartbeatMs: 1000, pollMs: 300 },
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-region-'));
    const topologyFile = path.join(dir, 'topology.json');
    fs.writeFileSync(topologyFile, JSON.stringify(topology, null, 2));
    // Every node's output, prefixed by its id, in one file: TANDEM_E2E_LOG or the temp folder.
    const logFile = process.env.TANDEM_E2E_LOG ?? path.join(dir, 'nodes.log');
    const write = (line: string) => fs.appendFileSync(logFile, `${line}\n`);
    cluster = new LocalCluster({
      topologyFile,
      topology,
      logLevel: 'info',
      log: (msg) => write(`[up] ${msg}`),
      onLine: (id, line) => write(`[${id}] ${line}`),
    });
    const bundle = workflowBundle();
    await cluster.start();
    await balanced();
    const address = `127.0.0.1:${topology.regions[0]!.frontend.port}`;
    connection = await Connection.connect({ address });
    client = new Client({ connection, namespace: 'default' });
    namespaceId = (await connection.workflowService.describeNamespace({ namespace: 'default' })).namespaceInfo!.id!;
    native = await NativeConnection.connect({ address });
    worker = await Worker.create({ connection: native, namespace: 'default', taskQueue, workflowBundle: await bundle, activities });
    workerRun = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await workerRun?.catch(() => {});
    await native?.close();
    await connection?.close();
    await cluster?.stop();
    if (cassandra) await dropTestKeyspace(cassandra);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A bounded load: workflows that wait for `add` signals and a `done`. Each start and signal
   * the server acknowledged is recorded; a failed call may or may not have landed, so a result
   * lies between the acknowledged and the attempted sum. `done` is retried until acknowledged so
   * every started workflow can finish.
   */
  class Load {
    readonly runs = new Map<string, { acked: number; attempted: number }>();
    private stopped = false;
    private loops: Promise<void>[] = [];
    errors = 0;

    start(concurrency = 3, prefix = 'load'): void {
      this.loops = Array.from({ length: concurrency }, (_, i) => this.loop(`${prefix}-${i}`));
    }

    private async loop(prefix: string): Promise<void> {
      for (let n = 0; !this.stopped; n++) {
        const workflowId = `${prefix}-${n}-${randomUUID().slice(0, 8)}`;
        if (!(await this.startRun(workflowId))) continue;
        const run = this.runs.get(workflowId)!;
        for (let k = 1; k <= 2; k++) {
          run.attempted += k;
          try {
            await client.workflow.getHandle(workflowId).signal('add', k);
            run.acked += k;
          } catch {
            this.errors++;
          }
        }
      }
    }

    /** True once the start is known to have landed (acknowledged, or found already started). */
    private async startRun(workflowId: string): Promise<boolean> {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          await client.workflow.start('waitForSignals', { workflowId, taskQueue });
          this.runs.set(workflowId, { acked: 0, attempted: 0 });
          return true;
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) {
            this.runs.set(workflowId, { acked: 0, attempted: 0 });
            return true;
          }
          this.errors++;
          if (this.stopped) return false;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      return false;
    }

    async stop(): Promise<void> {
      this.stopped = true;
      await Promise.all(this.loops);
    }

    /** Sends `done` to every run and checks each result against what was acknowledged. */
    async finish(): Promise<void> {
      await this.stop();
      await Promise.all(
        [...this.runs].map(async ([workflowId, run]) => {
          const handle = client.workflow.getHandle(workflowId);
          await eventually(`done signal to ${workflowId}`, () => handle.signal('done').then(() => true), 60_000);
          const total = (await eventually(`result of ${workflowId}`, () => handle.result(), 120_000)) as number;
          if (total < run.acked || total > run.attempted) {
            const events = (await handle.fetchHistory()).events ?? [];
            const types = events.map((e) => `${e.eventId}:${EventType[e.eventType!]!.replace(/^EVENT_TYPE_/, '')}`);
            assert.fail(`${workflowId}: total ${total}, acknowledged ${run.acked}, attempted ${run.attempted}; history ${types.join(' ')}`);
          }
        }),
      );
    }
  }

  test('kill -9 of a history node: its shards move within the bound, nothing acknowledged is lost, it rejoins and shards rebalance', async () => {
    const victim = historyIds()[1]!;
    await wholeRegion();
    const load = new Load();
    load.start();
    await eventually('some workflows started', async () => load.runs.size >= 5, 60_000);
    const before = await owners();
    const victimShards = [...before].filter(([, o]) => o === victim).map(([s]) => s);
    assert.ok(victimShards.length > 0, `${victim} owns shards before the kill`);

    await cluster.node(victim).kill();
    const killedAt = Date.now();
    await eventually(
      `the shards of ${victim} (${victimShards.join(' ')}) taken by the others`,
      async () => {
        const now = await owners();
        const owned = await ownedPerNode();
        return victimShards.every((s) => now.get(s) && now.get(s) !== victim) && owned !== undefined;
      },
      MOVE_BOUND_MS,
    );
    const movedAfterMs = Date.now() - killedAt;
    // Keep the load going on the two survivors for a while, then let every run finish.
    const startedAtMove = load.runs.size;
    await eventually('workflows started after the move', async () => load.runs.size >= startedAtMove + 5, 60_000);
    await load.finish();
    assert.ok(load.runs.size >= 10, `ran ${load.runs.size} workflows (move took ${movedAfterMs} ms)`);

    await cluster.node(victim).start();
    const owned = await balanced();
    assert.ok((owned.get(victim) ?? 0) > 0, `${victim} owns shards again`);
    const after = new Load();
    after.start(2, 'after-rejoin');
    await eventually('workflows after the rejoin', async () => after.runs.size >= 4, 60_000);
    await after.finish();
  });

  test('SIGSTOP a history node past its lease: another takes its shards, and after SIGCONT its writes are fenced and it gives them up', async () => {
    const paused = historyIds()[0]!;
    await wholeRegion();
    const before = await owners();
    const shard = [...before].find(([, o]) => o === paused)![0];
    let workflowId = '';
    for (let i = 0; shardIdFor(namespaceId, (workflowId = `paused-${i}-${randomUUID().slice(0, 6)}`), NUM_SHARDS) !== shard; i++);
    const handle = await client.workflow.start('waitForSignals', { workflowId, taskQueue });
    await handle.signal('add', 1);
    const fencedBefore = sumSamples((await metricsOf(paused))!, 'tandem_history_shard_losses_total', { reason: 'fenced' });

    const load = new Load();
    load.start(2, 'pause');
    cluster.node(paused).signal('SIGSTOP');
    try {
      // Lands on the paused node (membership still lists it) and waits there for it to wake.
      const stuck = handle.signal('add', 10).then(
        () => true,
        () => false,
      );
      await eventually(
        `shard ${shard} taken from the paused ${paused}`,
        async () => {
          const o = (await owners()).get(shard);
          return o !== undefined && o !== paused;
        },
        MOVE_BOUND_MS,
      );
      cluster.node(paused).signal('SIGCONT');
      // undefined: the call did not end in time, so it may or may not have landed.
      const landed = await Promise.race([stuck, new Promise<undefined>((r) => setTimeout(r, 30_000))]);
      // The woken node wrote with its old range_id: fenced, the shard dropped.
      await eventually(
        `${paused} fenced out of shard ${shard}`,
        async () => {
          const m = await metricsOf(paused);
          return m && sumSamples(m, 'tandem_history_shard_losses_total', { reason: 'fenced' }) > fencedBefore;
        },
        30_000,
      );
      assert.ok(
        cluster.node(paused).logs().some((l) => /fenced|ShardOwnershipLost|range_id/.test(l)),
        'the paused node logged that it was fenced',
      );
      // Back in membership it owns shards again (new range_id), and the region is whole.
      await balanced();
      await eventually('done to the paused-shard workflow', () => handle.signal('done').then(() => true), 60_000);
      const total = await handle.result();
      assert.ok(total === 1 || total === 11, `total ${total}`);
      if (landed === true) assert.equal(total, 11, 'an acknowledged signal was lost');
      await load.finish();
    } finally {
      cluster.node(paused).signal('SIGCONT');
    }
  });

  test('GET /metrics of every process parses as Prometheus text and carries the issue metrics', async () => {
    const required: Record<string, string[]> = {
      frontend: ['tandem_frontend_requests_total', 'tandem_frontend_request_duration_seconds'],
      history: [
        'tandem_history_shards_owned',
        'tandem_history_shard_acquisitions_total',
        'tandem_history_shard_losses_total',
        'tandem_internal_rpc_server_requests_total',
        'tandem_internal_rpc_server_request_duration_seconds',
      ],
      matching: ['tandem_matching_backlog_tasks', 'tandem_matching_tasks_added_total', 'tandem_matching_schedule_to_start_seconds'],
    };
    await wholeRegion();
    const common = ['tandem_persistence_latency_seconds', 'tandem_persistence_errors_total', 'tandem_cluster_shards', 'tandem_process_process_start_time_seconds'];
    for (const p of cluster.nodes) {
      const text = await scrape(p.metricsUrl);
      assert.ok(text, `${p.id} answers /metrics`);
      const families = parsePrometheusText(text);
      for (const name of [...common, ...required[p.options.service]!]) assert.ok(families.has(name), `${p.id} exports ${name}`);
      for (const f of families.values()) {
        for (const s of f.samples) assert.equal(s.labels.node, p.id, `${p.id}: ${s.name} carries the node label`);
      }
      assert.ok(sumSamples(families, 'tandem_persistence_latency_seconds_count', { outcome: 'ok' }) > 0, `${p.id} timed persistence calls`);
    }
    const frontend = parsePrometheusText((await scrape(cluster.node(`${region}-frontend`).metricsUrl))!);
    assert.ok(sumSamples(frontend, 'tandem_frontend_requests_total', { method: 'StartWorkflowExecution', code: 'OK' }) > 0);
    assert.ok(sumSamples(frontend, 'tandem_frontend_request_duration_seconds_count', { method: 'SignalWorkflowExecution' }) > 0);
    const matching = parsePrometheusText((await scrape(cluster.node(`${region}-matching-1`).metricsUrl))!);
    assert.ok(sumSamples(matching, 'tandem_matching_tasks_added_total') > 0);
    assert.ok(sumSamples(matching, 'tandem_matching_schedule_to_start_seconds_count') > 0);
    const acquisitions = await Promise.all(historyIds().map(async (id) => sumSamples((await metricsOf(id))!, 'tandem_history_shard_acquisitions_total')));
    assert.ok(acquisitions.every((n) => n > 0), `every history node acquired shards: ${acquisitions.join(' ')}`);
  });
});
