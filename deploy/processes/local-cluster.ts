// The local launcher behind `tandem up`: per region its Cassandra and Redis (when the topology
// says they are managed), the schema, then every node as its own OS process. Stops in reverse:
// frontends, matching, history, then Redis and Cassandra.
import { openCassandraPersistence } from '../../services/persistence/cassandra/index.js';
import { startCassandra, stopCassandra } from '../cassandra/launcher.js';
import { startRedis, stopRedis } from '../redis/launcher.js';
import { regionNodes, type RegionSpec, type Topology } from '../topology.js';
import { NodeProcess } from './node-process.js';

export interface LocalClusterOptions {
  topologyFile: string;
  topology: Topology;
  /** Regions to run; default all. */
  regions?: string[];
  /** Progress messages of the launcher itself. */
  log?: (msg: string) => void;
  /** Each line a node writes, with its node id. */
  onLine?: (nodeId: string, line: string) => void;
  logLevel?: string;
}

export class LocalCluster {
  readonly nodes: NodeProcess[] = [];
  /** Store instances this launcher started (not those it found running), stopped last. */
  private readonly started: { kind: 'cassandra' | 'redis'; name: string }[] = [];
  private readonly log: (msg: string) => void;

  constructor(readonly options: LocalClusterOptions) {
    this.log = options.log ?? (() => {});
  }

  get regions(): RegionSpec[] {
    const want = this.options.regions;
    return this.options.topology.regions.filter((r) => !want || want.includes(r.name));
  }

  node(id: string): NodeProcess {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id} in this cluster`);
    return n;
  }

  /** Starts everything; on a failure stops what started and rethrows. */
  async start(): Promise<void> {
    try {
      await Promise.all(this.regions.map((r) => this.startStores(r)));
      for (const r of this.regions) await this.applySchema(r);
      for (const r of this.regions) await this.startNodes(r);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startStores(r: RegionSpec): Promise<void> {
    const tasks: Promise<void>[] = [];
    if (r.redis.managed) {
      const name = `${r.name}-redis`;
      tasks.push(
        startRedis({ name, host: r.redis.host, port: r.redis.port, log: this.log }).then((h) => {
          if (!h.reused) this.started.push({ kind: 'redis', name });
          this.log(`${name} ${h.reused ? 'already running' : 'started'} on ${h.address}`);
        }),
      );
    }
    if (r.cassandra.managed) {
      const name = `${r.name}-cassandra`;
      const c = r.cassandra;
      this.log(`${name}: starting (first start fetches Cassandra and takes a minute or two)`);
      tasks.push(
        startCassandra({ name, listenAddress: c.listen, cqlPort: c.cqlPort, storagePort: c.storagePort, heapMb: c.heapMb, log: this.log }).then((h) => {
          if (!h.reused) this.started.push({ kind: 'cassandra', name });
          this.log(`${name} ${h.reused ? 'already running' : 'started'} on ${h.contactPoint}`);
        }),
      );
    }
    // allSettled: a store that did start must be recorded so stop() can take it down.
    const results = await Promise.allSettled(tasks);
    const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Once, before the nodes start: five processes creating the same tables at once race. */
  private async applySchema(r: RegionSpec): Promise<void> {
    const c = r.cassandra;
    const store = await openCassandraPersistence({ contactPoints: c.contactPoints, localDataCenter: c.dataCenter, keyspace: c.keyspace });
    await store.close();
  }

  private async startNodes(r: RegionSpec): Promise<void> {
    const byService = new Map<string, NodeProcess[]>();
    for (const { service, node } of regionNodes(r)) {
      const p = new NodeProcess({
        topologyFile: this.options.topologyFile,
        region: r.name,
        service,
        node,
        logLevel: this.options.logLevel,
        onLine: this.options.onLine && ((line) => this.options.onLine!(node.id, line)),
        onExit: (code, signal) => {
          if (!this.stopping) this.log(`${node.id} exited (code ${code}, signal ${signal}); not restarting it`);
        },
      });
      this.nodes.push(p);
      byService.set(service, [...(byService.get(service) ?? []), p]);
    }
    // History first, then matching, then the frontend (it answers clients once the others are up).
    for (const service of ['history', 'matching', 'frontend']) {
      if (this.stopping) throw new Error('stopped while starting');
      await Promise.all((byService.get(service) ?? []).map((p) => p.start()));
      this.log(`${r.name}: ${service} ready (${(byService.get(service) ?? []).map((p) => p.id).join(', ')})`);
    }
  }

  private stopping = false;

  /** Frontends, matching, history (each group in parallel), then the stores this launcher started. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const service of ['frontend', 'matching', 'history']) {
      await Promise.all(this.nodes.filter((p) => p.options.service === service).map((p) => p.stop()));
    }
    for (const s of this.started.filter((x) => x.kind === 'redis')) await stopRedis(s.name);
    for (const s of this.started.filter((x) => x.kind === 'cassandra')) {
      this.log(`${s.name}: stopping`);
      await stopCassandra(s.name);
    }
    this.started.length = 0;
  }
}
