// `tandem up`'s global control plane and `tandem chaos`, as a user drives them from another shell:
// two regions of separate processes (one history node each) on the test Cassandra and test
// Redis, a link each way between them, the router on its own port with the routes `up` seeded.
// The verbs run as `node bin/tandem.mjs ...` against the run state the launcher writes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Long from 'long';
import { Client, Connection } from '@temporalio/client';
import { ensureTestCassandra, dropTestKeyspace, type TestCassandra } from '../deploy/cassandra/test-instance.js';
import { alive } from '../deploy/daemon.js';
import { ensureTestRedis } from '../deploy/redis/test-instance.js';
import { LocalCluster } from '../deploy/processes/local-cluster.js';
import { scrape } from '../deploy/processes/node-process.js';
import { parsePrometheusText, sumSamples } from '../deploy/processes/prom-text.js';
import type { Topology } from '../deploy/topology.js';
import { NO_FORWARD_HEADER } from '../services/frontend/forwarding.js';
import { eventually } from './harness.js';
import { regionsTopology } from './region-fixture.js';

const TANDEM = fileURLToPath(new URL('../bin/tandem.mjs', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tandem(...argv: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TANDEM, ...argv], { timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

describe('tandem up: router, links and tandem chaos', { timeout: 240_000 }, () => {
  const suffix = randomUUID().slice(0, 6);
  const [a, b] = [`ca${suffix}`, `cb${suffix}`];
  const keyspaces: TestCassandra[] = [];
  const connections: Connection[] = [];
  let topology: Topology;
  let topologyFile: string;
  let dir: string;
  let cluster: LocalCluster;

  const chaos = (...argv: string[]) => tandem('chaos', ...argv, '--topology', topologyFile);
  const region = (name: string) => topology.regions.find((r) => r.name === name)!;
  const frontendOf = (name: string) => `127.0.0.1:${region(name).frontend.port}`;
  const historyId = (name: string) => region(name).history[0]!.id;
  const connect = async (address: string) => {
    const c = await Connection.connect({ address });
    connections.push(c);
    return c;
  };
  /** A call answered by the region's own store, never forwarded. */
  const local = <T>(c: Connection, fn: () => Promise<T>) => c.withMetadata({ [NO_FORWARD_HEADER]: 'false' }, fn);
  const metricOf = async (id: string, name: string) => sumSamples(parsePrometheusText((await scrape(cluster.node(id).metricsUrl))!), name);

  before(async () => {
    const redis = await ensureTestRedis();
    keyspaces.push(await ensureTestCassandra(), await ensureTestCassandra());
    topology = await regionsTopology({
      regions: [
        { name: a, historyNodes: 1, cassandra: keyspaces[0]! },
        { name: b, historyNodes: 1, cassandra: keyspaces[1]! },
      ],
      numShards: 2,
      redis,
      membership: { ttlMs: 3000, heartbeatMs: 1000, pollMs: 300 },
      links: true,
      dns: true,
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-chaos-'));
    topologyFile = path.join(dir, 'topology.json');
    fs.writeFileSync(topologyFile, JSON.stringify(topology, null, 2));
    const logFile = process.env.TANDEM_E2E_LOG ?? path.join(dir, 'processes.log');
    const write = (line: string) => fs.appendFileSync(logFile, `${line}\n`);
    // No failover controller: these drills are about the processes, not about who fails over.
    cluster = new LocalCluster({ topologyFile, topology, global: true, controller: false, control: true, log: (m) => write(`[up] ${m}`), onLine: (id, l) => write(`[${id}] ${l}`) });
    await cluster.start();
  });

  after(async () => {
    for (const c of connections) await c.close();
    await cluster?.stop();
    if (cluster) fs.rmSync(cluster.runState.dir, { recursive: true, force: true });
    for (const k of keyspaces) await dropTestKeyspace(k);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('tandem routes lists the seeded routes; a workflow started and described through the router lands in the active region', async () => {
    const routes = await tandem('routes', '--topology', topologyFile, '--json');
    assert.equal(routes.code, 0, routes.stderr);
    const byName = new Map((JSON.parse(routes.stdout) as { namespace: string; region: string; endpoint: string }[]).map((r) => [r.namespace, r]));
    // `default` is a local namespace of both regions: the first region in the topology gets it.
    assert.deepEqual([byName.get('_default')?.region, byName.get('default')?.region, byName.get('default')?.endpoint], [a, a, frontendOf(a)]);
    const table = await tandem('routes', '--topology', topologyFile);
    assert.match(table.stdout, /^NAMESPACE +REGION +ENDPOINT +EPOCH +TTL +SWITCHING\n/);
    // The router process serves the routes' DNS face too.
    const dns = topology.global.dns!;
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`${dns.host}:${dns.port}`]);
    const txt = (await resolver.resolveTxt(`default.${dns.domain}`)).map((parts) => parts.join(''));
    assert.ok(txt.includes(`region=${a}`), txt.join(' '));

    const e = topology.global.endpoint;
    const client = new Client({ connection: await connect(`127.0.0.1:${e.port}`), namespace: 'default' });
    const workflowId = `chaos-router-${randomUUID()}`;
    const handle = await client.workflow.start('routerIdle', { taskQueue: `chaos-${randomUUID()}`, workflowId });
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    // The run is in a's store, not b's.
    const execution = { workflowId, runId: handle.firstExecutionRunId };
    const [ca, cb] = [await connect(frontendOf(a)), await connect(frontendOf(b))];
    const inA = await local(ca, () => ca.workflowService.describeWorkflowExecution({ namespace: 'default', execution }));
    assert.equal(inA.workflowExecutionInfo?.execution?.workflowId, workflowId);
    await assert.rejects(local(cb, () => cb.workflowService.describeWorkflowExecution({ namespace: 'default', execution })), /not found/i);
    await handle.terminate('done');
  });

  test("partition a b: b's replication streams reconnect and b cannot forward to a; heal restores both", async () => {
    const namespace = `chaos-${suffix}`;
    const [ca, cb] = [await connect(frontendOf(a)), await connect(frontendOf(b))];
    await ca.workflowService.registerNamespace({
      namespace,
      isGlobalNamespace: true,
      clusters: [{ clusterName: a }, { clusterName: b }],
      activeClusterName: a,
      workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86_400) },
    });
    await eventually(`namespace ${namespace} in ${b}`, () => local(cb, () => cb.workflowService.describeNamespace({ namespace })), 30_000);
    const viaB = new Client({ connection: cb, namespace });
    const start = (workflowId: string) => cb.withDeadline(Date.now() + 5000, () => viaB.workflow.start('routerIdle', { taskQueue: `chaos-${suffix}`, workflowId }));
    await start(`before-${suffix}`);

    const reconnects = await metricOf(historyId(b), 'tandem_replication_stream_reconnects_total');
    const cut = await chaos('partition', a, b);
    assert.equal(cut.code, 0, cut.stderr);
    assert.deepEqual(cut.stdout.trim().split('\n').map((l) => l.split(':')[0]), [`cut link-${a}-${b}`, `cut link-${b}-${a}`]);
    await eventually('b reconnects its streams', async () => ((await metricOf(historyId(b), 'tandem_replication_stream_reconnects_total')) > reconnects ? true : undefined), 30_000);
    await assert.rejects(start(`during-${suffix}`), 'b cannot forward a start to a while partitioned');
    // a still takes writes; they reach b once the link heals.
    const viaA = new Client({ connection: ca, namespace });
    const written = await viaA.workflow.start('routerIdle', { taskQueue: `chaos-${suffix}`, workflowId: `partitioned-${suffix}` });

    const healed = await chaos('heal');
    assert.equal(healed.code, 0, healed.stderr);
    assert.deepEqual(healed.stdout.trim().split('\n').sort(), [`healed link-${a}-${b}`, `healed link-${b}-${a}`].sort());
    await eventually('b forwards again', () => start(`after-${suffix}`), 30_000);
    const execution = { workflowId: written.workflowId, runId: written.firstExecutionRunId };
    await eventually('the run written during the partition reaches b', () => local(cb, () => cb.workflowService.describeWorkflowExecution({ namespace, execution })), 30_000);
  });

  test('kill-node, kill-region and revive-region find the processes from another shell; unknown names exit 1', async () => {
    const history = historyId(b);
    const pid = cluster.node(history).pid!;
    const killed = await chaos('kill-node', b, history);
    assert.equal(killed.code, 0, killed.stderr);
    assert.equal(killed.stdout.trim(), `killed ${history} (history, pid ${pid}) with SIGKILL`);
    assert.equal(alive(pid), false);
    await eventually(`${history} is gone`, async () => (cluster.node(history).running ? undefined : true), 5000);

    const region = await chaos('kill-region', b);
    assert.equal(region.code, 0, region.stderr);
    const lines = region.stdout.trim().split('\n');
    assert.ok(lines.includes(`${history}: not running`), region.stdout);
    for (const id of [`${b}-matching-1`, `${b}-frontend`]) assert.ok(lines.some((l) => l.startsWith(`killed ${id} (`)), `${id} killed:\n${region.stdout}`);
    assert.ok(lines.includes(`${b}-cassandra: external (managed: false), left running`), region.stdout);
    await eventually(`every process of ${b} is gone`, async () => (cluster.nodes.some((p) => p.options.region === b && p.running) ? undefined : true), 5000);
    assert.ok(cluster.nodes.filter((p) => p.options.region === a).every((p) => p.running), `${a} is untouched`);

    const revived = await chaos('revive-region', b);
    assert.equal(revived.code, 0, revived.stderr);
    for (const service of ['history', 'matching', 'frontend']) assert.match(revived.stdout, new RegExp(`^${b}: ${service} ready`, 'm'));
    assert.ok(cluster.nodes.every((p) => p.running));
    const cb = await connect(frontendOf(b));
    await local(cb, () => cb.workflowService.describeNamespace({ namespace: 'default' }));

    const unknown = await Promise.all([chaos('kill-region', 'nope'), chaos('kill-node', a, history), chaos('partition', a, 'nope')]);
    assert.deepEqual(unknown.map((r) => r.code), [1, 1, 1]);
    assert.match(unknown[0]!.stderr, /no region "nope"/);
    assert.match(unknown[1]!.stderr, new RegExp(`no node "${history}" in region ${a}`));
  });
});
