// Two regions of separate processes (`tandem up --topology` in small), one launcher per region so
// a test can kill and revive either, with what the replication tests ask of them: a call answered
// by one region's own store (never forwarded), a run's history as a region stores it, the
// difference between two copies, a region's replication metrics and DLQ, and cutting the links
// between them (`global.links`: each region's launcher runs the links from it).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { Connection } from '@temporalio/client';
import { heal, partition } from '../deploy/chaos/actions.js';
import { LocalCluster } from '../deploy/processes/local-cluster.js';
import type { NodeProcess } from '../deploy/processes/node-process.js';
import { scrape } from '../deploy/processes/node-process.js';
import { parsePrometheusText, sumSamples } from '../deploy/processes/prom-text.js';
import type { RegionSpec, Topology } from '../deploy/topology.js';
import { historyv1 } from '../services/common/temporal.js';
import { NO_FORWARD_HEADER } from '../services/frontend/forwarding.js';
import { ReplicationAdminServiceClient } from '../proto/gen/tandem/replication/v1/replication.js';
import { eventually } from './harness.js';

export interface RunRef {
  workflowId: string;
  runId: string;
}

export class RegionPair {
  readonly clusters = new Map<string, LocalCluster>();
  private readonly connections = new Map<string, Connection>();

  private constructor(
    readonly topology: Topology,
    readonly dir: string,
  ) {}

  /**
   * Writes the topology to a temporary folder and starts every region's processes side by side,
   * one launcher per region; or, with `global`, all of it as `tandem up` does (the links, the
   * router, the routes, the controller, the launcher's control for `tandem chaos revive-region`).
   */
  static async start(topology: Topology, prefix: string, o: { global?: boolean } = {}): Promise<RegionPair> {
    const pair = new RegionPair(topology, fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
    pair.topologyFile = path.join(pair.dir, 'topology.json');
    fs.writeFileSync(pair.topologyFile, JSON.stringify(topology, null, 2));
    const logFile = process.env.TANDEM_E2E_LOG ?? path.join(pair.dir, 'nodes.log');
    const write = (line: string) => fs.appendFileSync(logFile, `${line}\n`);
    const launcher = (regions?: string[]) =>
      new LocalCluster({
        topologyFile: pair.topologyFile,
        topology,
        regions,
        global: o.global,
        control: o.global,
        logLevel: process.env.TANDEM_E2E_LOG_LEVEL,
        log: (m) => write(`[up] ${m}`),
        onLine: (id, l) => write(`[${id}] ${l}`),
      });
    const all = o.global ? launcher() : undefined;
    for (const r of topology.regions) pair.clusters.set(r.name, all ?? launcher([r.name]));
    try {
      await Promise.all(pair.launchers.map((c) => c.start()));
    } catch (err) {
      await pair.stop();
      throw err;
    }
    return pair;
  }

  topologyFile = '';

  private get launchers(): LocalCluster[] {
    return [...new Set(this.clusters.values())];
  }

  get names(): string[] {
    return this.topology.regions.map((r) => r.name);
  }

  region(name: string): RegionSpec {
    const r = this.topology.regions.find((x) => x.name === name);
    if (!r) throw new Error(`no region ${name}`);
    return r;
  }

  frontendOf(name: string): string {
    return `127.0.0.1:${this.region(name).frontend.port}`;
  }

  /** Every process of the region, history nodes first (the order they start in). */
  nodesOf(name: string): NodeProcess[] {
    return this.clusters.get(name)!.nodes.filter((n) => n.options.region === name);
  }

  historyNodeOf(name: string): NodeProcess {
    return this.clusters.get(name)!.node(this.region(name).history[0]!.id);
  }

  /** Cuts the links both ways between the regions: their replication streams and forwarding drop. */
  async partition(): Promise<void> {
    const [x, y] = this.names;
    await partition(this.topology, x!, y!);
  }

  async heal(): Promise<void> {
    await heal(this.topology);
  }

  /** One connection per region, opened on first use and again after the region came back. */
  async connection(name: string): Promise<Connection> {
    let c = this.connections.get(name);
    if (!c) {
      c = await Connection.connect({ address: this.frontendOf(name) });
      this.connections.set(name, c);
    }
    return c;
  }

  async dropConnection(name: string): Promise<void> {
    await this.connections.get(name)?.close();
    this.connections.delete(name);
  }

  async registerGlobalNamespace(namespace: string, active: string): Promise<void> {
    const c = await this.connection(active);
    await c.workflowService.registerNamespace({
      namespace,
      isGlobalNamespace: true,
      clusters: this.names.map((clusterName) => ({ clusterName })),
      activeClusterName: active,
      workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86_400) },
    });
    for (const name of this.names) {
      await eventually(`namespace ${namespace} in ${name}`, () => this.local(name, (x) => x.workflowService.describeNamespace({ namespace })), 20_000);
    }
  }

  /** A call answered by the region's own frontend from its own store: never forwarded to the active region. */
  async local<T>(name: string, fn: (c: Connection) => Promise<T>): Promise<T> {
    const c = await this.connection(name);
    return c.withMetadata({ [NO_FORWARD_HEADER]: 'false' }, () => fn(c));
  }

  /** Every event of the run as the region stores it; [] when the region has no such run. */
  async historyIn(name: string, namespace: string, run: RunRef): Promise<historyv1.IHistoryEvent[]> {
    try {
      const res = await this.local(name, (c) => c.workflowService.getWorkflowExecutionHistory({ namespace, execution: run, maximumPageSize: 1000 }));
      return res.history?.events ?? [];
    } catch (err) {
      if ((err as { code?: number }).code === grpc.status.NOT_FOUND) return [];
      throw err;
    }
  }

  /** The run completed exactly once in the region. */
  async assertCompletedOnce(name: string, namespace: string, run: RunRef): Promise<void> {
    const events = await this.historyIn(name, namespace, run);
    const completions = events.filter((e) => historyv1.HistoryEvent.fromObject(e).workflowExecutionCompletedEventAttributes).length;
    assert.equal(completions, 1, `${run.workflowId}: completed once in ${name}`);
  }

  /**
   * Where one copy of a run differs from another (ids, versions, types, times, attributes), or
   * undefined. An event's taskId is left out: it names the region's own task that wrote it.
   */
  static difference(x: historyv1.IHistoryEvent[], y: historyv1.IHistoryEvent[]): string | undefined {
    const encode = (e: historyv1.IHistoryEvent) => JSON.stringify({ ...historyv1.HistoryEvent.fromObject(e).toJSON(), taskId: undefined });
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const [p, q] = [x[i] && encode(x[i]!), y[i] && encode(y[i]!)];
      if (p !== q) return `event ${i + 1}: ${p?.slice(0, 300) ?? 'none'} vs ${q?.slice(0, 300) ?? 'none'}`;
    }
    return undefined;
  }

  /**
   * Waits until `to` holds every run exactly as `from` has it, event ids running 1..n without a
   * hole or a repeat; returns how long that took.
   */
  async converged(from: string, to: string, namespace: string, runs: Iterable<RunRef>, timeoutMs: number): Promise<number> {
    const started = Date.now();
    const list = [...runs];
    await eventually(
      `${to} holds the ${list.length} runs as ${from} has them`,
      async () => {
        for (const run of list) {
          const diff = RegionPair.difference(await this.historyIn(from, namespace, run), await this.historyIn(to, namespace, run));
          if (diff) throw new Error(`${run.workflowId}/${run.runId}: ${diff}`);
        }
        return true;
      },
      timeoutMs,
    );
    const took = Date.now() - started;
    for (const run of list) {
      const ids = (await this.historyIn(to, namespace, run)).map((e) => Number(e.eventId));
      assert.deepEqual(ids, ids.map((_, i) => i + 1), `${run.workflowId}: event ids in ${to}`);
    }
    return took;
  }

  /** A metric summed over the region's history nodes that are running. */
  async metricOf(name: string, metric: string): Promise<number> {
    let sum = 0;
    for (const h of this.region(name).history) {
      const node = this.clusters.get(name)!.node(h.id);
      if (!node.running) continue;
      const text = await scrape(node.metricsUrl);
      assert.ok(text !== null, `metrics of ${h.id}`);
      sum += sumSamples(parsePrometheusText(text), metric);
    }
    return sum;
  }

  /** Entries in the region's replication DLQ, through its frontend (fanned out to its history nodes). */
  async dlqOf(name: string): Promise<number> {
    const admin = new ReplicationAdminServiceClient(this.frontendOf(name), grpc.credentials.createInsecure());
    try {
      const res = await new Promise<{ entries: unknown[] }>((resolve, reject) => admin.listDlq({ limit: 100 }, (err, r) => (err ? reject(err) : resolve(r))));
      return res.entries.length;
    } finally {
      admin.close();
    }
  }

  async stop(): Promise<void> {
    for (const name of [...this.connections.keys()]) await this.dropConnection(name);
    await Promise.all(this.launchers.map((c) => c.stop()));
    for (const c of this.launchers) fs.rmSync(c.runState.dir, { recursive: true, force: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
