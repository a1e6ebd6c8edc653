// The local launcher behind `tandem up`: per region its Cassandra and Redis (when the topology
// says they are managed), the schema, the links that carry its calls to the other regions, then
// every node as its own OS process; with `global`, the global control plane after the regions:
// its Redis, the router (global endpoint), the seeded routes (global-routes.ts) and the failover
// controller. Stops in reverse. Every spawn is written to the run state
// (deploy/chaos/run-state.ts) so `tandem chaos` in another shell finds the pids.
import fs from 'node:fs';
import path from 'node:path';
import { mintKey } from '../../services/auth/secrets.js';
import { openCassandraPersistence } from '../../services/persistence/cassandra/index.js';
import { LauncherControlServer } from '../chaos/launcher-control.js';
import { RunState } from '../chaos/run-state.js';
import { startCassandra, stopCassandra } from '../cassandra/launcher.js';
import { startRedis, stopRedis } from '../redis/launcher.js';
import { regionNodes, type ControllerSpec, type NodeSpec, type RedisSpec, type RegionSpec, type Topology } from '../topology.js';
import { NodeProcess, type NodeProcessOptions, type ProcessKind } from './node-process.js';
import { seedRoutes, withGlobalRoutes } from './global-routes.js';

export interface LocalClusterOptions {
  topologyFile: string;
  topology: Topology;
  /** Regions to run; default all. */
  regions?: string[];
  /** Also the global control plane (global Redis, router, seeded routes, controller). Default false. */
  global?: boolean;
  /** With `global`: the failover controller's replicas too. Default true. */
  controller?: boolean;
  /** Serve the launcher's control endpoint (`tandem chaos revive-region` reaches it). Default false. */
  control?: boolean;
  /** Progress messages of the launcher itself. */
  log?: (msg: string) => void;
  /** Each line a process writes, with its id. */
  onLine?: (nodeId: string, line: string) => void;
  logLevel?: string;
}

/** Instance names of the stores the launcher manages, found again by `tandem chaos`. */
export const storeName = {
  cassandra: (region: string) => `${region}-cassandra`,
  redis: (region: string) => `${region}-redis`,
  globalRedis: 'global-redis',
};

export const ROUTER_ID = 'global-router';

// The failover controller's replicas (services/controller, deploy/processes/controller.ts, one per
// `global.controllers` entry), after the router and the seeded routes: it re-points routes on
// failovers, it does not write the first ones.
/** A topology with auth and no admin key file yet: a new key in it, readable by this user alone. */
function ensureAdminKeyFile(t: Topology, log: (msg: string) => void): void {
  const file = t.global.auth?.adminKeyFile;
  if (!file || fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${mintKey().token}\n`, { mode: 0o600, flag: 'wx' });
  log(`auth is on: the admin API key is in ${file} (export TANDEM_API_KEY=$(cat ${file}))`);
}

const controllerArgs = (topologyFile: string, c: ControllerSpec, logLevel = 'info') => [
  '--topology', topologyFile,
  '--node', c.id,
  '--domain', c.domain,
  '--bind', c.host,
  '--metrics-port', String(c.metricsPort),
  '--ops-page-port', String(c.opsPagePort),
  '--log-level', logLevel,
];

export class LocalCluster {
  /** The regions' nodes (history, matching, frontend). */
  readonly nodes: NodeProcess[] = [];
  /** The links, the router and the controller replicas. */
  readonly globals: NodeProcess[] = [];
  readonly runState: RunState;
  /** Store instances this launcher started (not those it found running), stopped last. */
  private readonly started: { kind: 'cassandra' | 'redis'; name: string }[] = [];
  private readonly log: (msg: string) => void;
  private control?: LauncherControlServer;
  private stopping = false;

  constructor(readonly options: LocalClusterOptions) {
    this.log = options.log ?? (() => {});
    this.runState = new RunState(options.topologyFile);
  }

  get regions(): RegionSpec[] {
    const want = this.options.regions;
    return this.options.topology.regions.filter((r) => !want || want.includes(r.name));
  }

  node(id: string): NodeProcess {
    const n = [...this.nodes, ...this.globals].find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id} in this cluster`);
    return n;
  }

  /** Starts everything; on a failure stops what started and rethrows. */
  async start(): Promise<void> {
    const t = this.options.topology;
    try {
      ensureAdminKeyFile(t, this.log);
      const globalRedis = this.options.global && t.global.redis.managed ? [this.startRedis(storeName.globalRedis, t.global.redis)] : [];
      await settleAll<unknown>([...this.regions.map((r) => this.startStores(r)), ...globalRedis]);
      for (const r of this.regions) await this.applySchema(r);
      // Links first: the regions' replication streams and forwarding go through them from the start.
      const links = t.global.links.filter((l) => this.regions.some((r) => r.name === l.from));
      for (const l of links) this.globals.push(this.process('link', 'global', { id: l.id, host: '127.0.0.1', port: l.port, metricsPort: l.controlPort }));
      await Promise.all(this.globals.map((p) => p.start()));
      if (links.length > 0) this.log(`links ready (${links.map((l) => `${l.id} on ${l.host}:${l.port}`).join(', ')})`);
      for (const r of this.regions) {
        for (const { service, node } of regionNodes(r)) this.nodes.push(this.process(service, r.name, node));
        await this.startRegionNodes(r);
      }
      if (this.options.global) await this.startGlobal();
      if (this.options.control) {
        this.control = new LauncherControlServer(this.runState, this.options.topologyFile, this.regions.map((r) => r.name), { reviveRegion: (name) => this.reviveRegion(name) });
        await this.control.start();
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private process(service: ProcessKind, region: string, node: NodeSpec, extra: Partial<NodeProcessOptions> = {}): NodeProcess {
    return new NodeProcess({
      topologyFile: this.options.topologyFile,
      region: region === 'global' ? undefined : region,
      service,
      node,
      logLevel: this.options.logLevel,
      onLine: this.options.onLine && ((line) => this.options.onLine!(node.id, line)),
      onSpawn: (pid) => this.runState.writeProcess({ id: node.id, kind: service, region, pid, startedAtMs: Date.now() }),
      onExit: (code, signal) => {
        if (!this.stopping) this.log(`${node.id} exited (code ${code}, signal ${signal}); not restarting it`);
      },
      ...extra,
    });
  }

  /** The global Redis is up: the router, the seeded routes, then the controller. */
  private async startGlobal(): Promise<void> {
    const t = this.options.topology;
    const e = t.global.endpoint;
    const router = this.process('router', 'global', { id: ROUTER_ID, host: e.host, port: e.port, metricsPort: e.metricsPort });
    this.globals.push(router);
    await router.start();
    this.log(`global endpoint ready on ${e.host}:${e.port}${t.global.dns ? ` (DNS ${t.global.dns.domain} on udp ${t.global.dns.host}:${t.global.dns.port})` : ''}`);
    const written = await withGlobalRoutes(t, (routes) => seedRoutes(t, routes));
    this.log(`routes seeded: ${written.map((r) => `${r.namespace} -> ${r.region}`).join(', ') || 'none new'}`);
    if (this.options.controller === false) return;
    const replicas = t.global.controllers;
    await Promise.all(
      replicas.map((c) => {
        const p = this.process('controller', 'global', { id: c.id, host: c.host, port: c.opsPagePort, metricsPort: c.metricsPort }, { args: controllerArgs(this.options.topologyFile, c, this.options.logLevel) });
        this.globals.push(p);
        return p.start();
      }),
    );
    this.log(`failover controller started (${replicas.map((c) => `${c.id} in ${c.domain}, operations page http://${c.host}:${c.opsPagePort}/`).join('; ')})`);
  }

  private startRedis(name: string, spec: RedisSpec): Promise<string> {
    return startRedis({ name, host: spec.host, port: spec.port, log: this.log }).then((h) => {
      if (!h.reused) this.recordStarted('redis', name);
      const line = `${name} ${h.reused ? 'already running' : 'started'} on ${h.address}`;
      this.log(line);
      return line;
    });
  }

  private recordStarted(kind: 'cassandra' | 'redis', name: string): void {
    if (!this.started.some((s) => s.name === name && s.kind === kind)) this.started.push({ kind, name });
  }

  /** The region's managed stores; resolves with a line per store saying what was done. */
  private async startStores(r: RegionSpec): Promise<string[]> {
    const tasks: Promise<string>[] = [];
    if (r.redis.managed) tasks.push(this.startRedis(storeName.redis(r.name), r.redis));
    if (r.cassandra.managed) {
      const name = storeName.cassandra(r.name);
      const c = r.cassandra;
      this.log(`${name}: starting (first start fetches Cassandra and takes a minute or two)`);
      tasks.push(
        startCassandra({ name, listenAddress: c.listen, cqlPort: c.cqlPort, storagePort: c.storagePort, heapMb: c.heapMb, log: this.log }).then((h) => {
          if (!h.reused) this.recordStarted('cassandra', name);
          const line = `${name} ${h.reused ? 'already running' : 'started'} on ${h.contactPoint}`;
          this.log(line);
          return line;
        }),
      );
    }
    return (await settleAll(tasks)).flat();
  }

  /** Once, before the nodes start: five processes creating the same tables at once race. */
  private async applySchema(r: RegionSpec): Promise<void> {
    const c = r.cassandra;
    const store = await openCassandraPersistence({ contactPoints: c.contactPoints, localDataCenter: c.dataCenter, keyspace: c.keyspace });
    await store.close();
  }

  /** History first, then matching, then the frontend (it answers clients once the others are up); only those not running. Returns what started. */
  private async startRegionNodes(r: RegionSpec): Promise<string[]> {
    const lines: string[] = [];
    for (const service of ['history', 'matching', 'frontend']) {
      if (this.stopping) throw new Error('stopped while starting');
      const group = this.nodes.filter((p) => p.options.region === r.name && p.options.service === service && !p.running);
      await Promise.all(group.map((p) => p.start()));
      if (group.length === 0) continue;
      const line = `${r.name}: ${service} ready (${group.map((p) => `${p.id} pid ${p.pid}`).join(', ')})`;
      this.log(line);
      lines.push(line);
    }
    return lines;
  }

  /** Starts again what of the region is down: its managed stores (same ports, same data), then its nodes. */
  async reviveRegion(name: string): Promise<string[]> {
    const r = this.regions.find((x) => x.name === name);
    if (!r) throw new Error(`this launcher runs no region ${JSON.stringify(name)} (it runs ${this.regions.map((x) => x.name).join(', ')})`);
    const stores = await this.startStores(r);
    // A store that was down came back empty-handed for membership: the nodes re-register on start.
    return [...stores, ...(await this.startRegionNodes(r))];
  }

  /** Controller, router, frontends, matching, history, links (each group in parallel), then the stores this launcher started. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.control?.stop();
    const all = [...this.globals, ...this.nodes];
    for (const kind of ['controller', 'router', 'frontend', 'matching', 'history', 'link'] as const) {
      await Promise.all(
        all
          .filter((p) => p.options.service === kind)
          .map(async (p) => {
            await p.stop();
            this.runState.removeProcess(p.id);
          }),
      );
    }
    for (const s of this.started.filter((x) => x.kind === 'redis')) await stopRedis(s.name);
    for (const s of this.started.filter((x) => x.kind === 'cassandra')) {
      this.log(`${s.name}: stopping`);
      await stopCassandra(s.name);
    }
    this.started.length = 0;
  }
}

/** allSettled, then the first failure: a store that did start must be recorded so stop() can take it down. */
async function settleAll<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((x) => (x as PromiseFulfilledResult<T>).value);
}
