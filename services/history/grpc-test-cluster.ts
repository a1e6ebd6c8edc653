// Test harness of the internal gRPC tests: history and matching nodes in one process, each with
// its own SQLite connection to one database file (as separate processes would have), its own
// internal gRPC server on 127.0.0.1, joined through an InMemoryCluster; plus a caller that plays
// the frontend with RemoteHistory and RemoteMatching.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../common/logger.js';
import { createRegistry, type Registry } from '../common/metrics.js';
import { sleep } from '../common/lifecycle.js';
import { InMemoryCluster, InMemoryMembership } from '../membership/in-memory.js';
import type { Role } from '../membership/membership.js';
import { shardOwner } from '../membership/rendezvous.js';
import { MatchingEngine } from '../matching/engine.js';
import { MatchingGrpcServer } from '../matching/grpc-server.js';
import { RemoteMatching } from '../matching/grpc-client.js';
import { NamespaceRegistry } from '../namespaces/registry.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import type { Persistence } from '../persistence/store.js';
import type { RemoteCallOptions } from '../rpc/remote-service.js';
import type { NamespaceRef } from './api.js';
import { RemoteHistory } from './grpc-client.js';
import { HistoryGrpcServer } from './grpc-server.js';
import { HistoryService } from './history-service.js';

const region = { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n };
const log = silentLogger();
/** Short backoffs keep the retry tests quick; the deadline stays generous for a loaded machine. */
export const testCallOptions: Partial<RemoteCallOptions> = { retryInitialBackoffMs: 20, retryMaxBackoffMs: 200, retryDeadlineMs: 20_000 };

export interface HistoryNode {
  id: string;
  store: Persistence;
  namespaces: NamespaceRegistry;
  history: HistoryService;
  server: HistoryGrpcServer;
  matching: RemoteMatching;
  membership: InMemoryMembership;
  registry: Registry;
}

export interface MatchingNode {
  id: string;
  store: Persistence;
  engine: MatchingEngine;
  server: MatchingGrpcServer;
  history: RemoteHistory;
  membership: InMemoryMembership;
  registry: Registry;
}

export class GrpcTestCluster {
  readonly cluster = new InMemoryCluster();
  readonly historyNodes = new Map<string, HistoryNode>();
  readonly matchingNodes: MatchingNode[] = [];
  /** The frontend's side: what it calls history and matching through. */
  history!: RemoteHistory;
  matching!: RemoteMatching;
  private callerMembership!: InMemoryMembership;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-grpc-'));
  private readonly dbPath = path.join(this.dir, 'tandem.db');

  private constructor(readonly numShards: number) {}

  /** `shards: 'all'` gives every shard to each node at start (one node); 'membership' leaves it to assignShards(). */
  static async start(opts: {
    numShards: number;
    historyNodeIds: string[];
    shards: 'all' | 'membership';
    matchingNodeIds?: string[];
  }): Promise<GrpcTestCluster> {
    const c = new GrpcTestCluster(opts.numShards);
    try {
      for (const id of opts.historyNodeIds) await c.startHistoryNode(id, opts.shards === 'all' ? 'all' : 'none');
      for (const id of opts.matchingNodeIds ?? ['matching-1']) await c.startMatchingNode(id);
      c.callerMembership = c.membershipOf('frontend-1', 'frontend', '127.0.0.1:1');
      await c.callerMembership.start();
      c.history = new RemoteHistory({ membership: c.callerMembership, numShards: opts.numShards, logger: log, options: testCallOptions });
      c.matching = new RemoteMatching({ membership: c.callerMembership, logger: log, options: { ...testCallOptions, recentPollerRefreshMs: 50 } });
      await c.history.start();
      await c.matching.start();
      if (opts.shards === 'membership') await c.assignShards();
      return c;
    } catch (err) {
      await c.stop();
      throw err;
    }
  }

  node(id: string): HistoryNode {
    const n = this.historyNodes.get(id);
    if (!n) throw new Error(`no history node ${id}`);
    return n;
  }

  async registerNamespace(name: string): Promise<NamespaceRef> {
    const [first] = this.historyNodes.values();
    const rec = await first!.namespaces.register({ name });
    return { id: rec.id, name: rec.name };
  }

  /** What ShardOwnership does in a region: every shard on the node membership names, released elsewhere first. */
  async assignShards(): Promise<void> {
    const members = this.cluster.members('history');
    for (let shard = 0; shard < this.numShards; shard++) {
      const owner = shardOwner(shard, members);
      for (const n of this.historyNodes.values()) if (n.id !== owner?.id) n.history.controller.release(shard);
      if (owner) await this.node(owner.id).history.controller.acquire(shard);
    }
  }

  ownerOf(shard: number): string | undefined {
    return shardOwner(shard, this.cluster.members('history'))?.id;
  }

  async stop(): Promise<void> {
    // The callers first, then matching's engine (ends polls while history still answers its
    // starts), then history, then the rest of matching.
    await this.history?.stop();
    await this.matching?.stop();
    await this.callerMembership?.stop();
    for (const m of this.matchingNodes) await m.engine.stop();
    for (const n of this.historyNodes.values()) {
      await n.membership.stop();
      await n.server.stop();
      await n.history.stop();
      await n.matching.stop();
      await n.namespaces.stop();
      await n.store.close();
    }
    for (const m of this.matchingNodes) {
      await m.membership.stop();
      await m.server.stop();
      await m.history.stop();
      await m.store.close();
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private membershipOf(id: string, role: Role, address: string): InMemoryMembership {
    return new InMemoryMembership(this.cluster, { id, role, address, startedAtMs: Date.now() });
  }

  private async startHistoryNode(id: string, initialShards: 'all' | 'none'): Promise<void> {
    const store = await openSqlitePersistence({ path: this.dbPath, synchronous: 'normal' });
    const registry = createRegistry();
    const namespaces = new NamespaceRegistry(store.namespaces, { region }, log);
    await namespaces.start();
    const history = new HistoryService({ numShards: this.numShards, hostId: id }, store, namespaces, log, registry, initialShards);
    const server = new HistoryGrpcServer({ host: '127.0.0.1', port: 0, drainTimeoutMs: 2_000 }, history.engine, log, registry);
    await server.start();
    const membership = this.membershipOf(id, 'history', server.address);
    const matching = new RemoteMatching({ membership, logger: log, options: testCallOptions });
    history.engine.setMatching(matching);
    await matching.start();
    await history.start();
    await membership.start();
    this.historyNodes.set(id, { id, store, namespaces, history, server, matching, membership, registry });
  }

  private async startMatchingNode(id: string): Promise<void> {
    const store = await openSqlitePersistence({ path: this.dbPath, synchronous: 'normal' });
    const registry = createRegistry();
    // The engine needs history's client before the server has bound its port (and so before the
    // node's member exists): the client reads the cluster through a view that never joins.
    const view = this.membershipOf(`${id}-view`, 'matching', '');
    const history = new RemoteHistory({ membership: view, numShards: this.numShards, logger: log, options: testCallOptions });
    const engine = new MatchingEngine({ store: store.taskQueues, starter: history, logger: log, registry });
    const server = new MatchingGrpcServer({ host: '127.0.0.1', port: 0, drainTimeoutMs: 2_000 }, engine, log, registry);
    await server.start();
    const membership = this.membershipOf(id, 'matching', server.address);
    await history.start();
    await engine.start();
    await membership.start();
    this.matchingNodes.push({ id, store, engine, server, history, membership, registry });
  }
}

/** Waits for `check` to hold, polling; fails after `ms` with `what`. Not a timing assertion: a bound on a wait. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The value of a counter in a node's registry for labels that match. */
export async function counterValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}
