// Shard ownership driven by membership: history nodes in one process, each with its own SQLite
// connection to one file (as separate processes would have), joined by an InMemoryCluster.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { isTandemError } from '../common/errors.js';
import { silentLogger } from '../common/logger.js';
import { createRegistry } from '../common/metrics.js';
import { enums } from '../common/temporal.js';
import { NamespaceRegistry } from '../namespaces/registry.js';
import { MatchingEngine } from '../matching/engine.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import type { Persistence } from '../persistence/store.js';
import { InMemoryCluster, InMemoryMembership } from '../membership/in-memory.js';
import type { Member } from '../membership/membership.js';
import { shardOwner } from '../membership/rendezvous.js';
import { waitFor } from '../membership/test-helpers.js';
import type { NamespaceRef } from './api.js';
import { HistoryService } from './history-service.js';
import { ShardOwnership, compileShardOwnershipConfig, shardOwnershipDefaults, type ShardOwnershipConfig } from './shard-ownership.js';
import { shardIdFor } from './shard-id.js';

const NUM_SHARDS = 8;
const region = { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-ownership-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const member = (id: string): Member => ({ id, role: 'history', address: `${id}:7234`, startedAtMs: Date.now() });

/** One history node: store connection, namespace cache, matching, history, membership and ownership. */
class Node {
  private constructor(
    readonly store: Persistence,
    readonly namespaces: NamespaceRegistry,
    readonly matching: MatchingEngine,
    readonly history: HistoryService,
    readonly membership: InMemoryMembership,
    readonly ownership: ShardOwnership,
  ) {}

  static async start(cluster: InMemoryCluster, id: string, db: string, config: Partial<ShardOwnershipConfig> = {}): Promise<Node> {
    const log = silentLogger();
    const store = await openSqlitePersistence({ path: db });
    const namespaces = new NamespaceRegistry(store.namespaces, { region }, log);
    const history = new HistoryService({ numShards: NUM_SHARDS, hostId: id }, store, namespaces, log, createRegistry(), 'none');
    const matching = new MatchingEngine({ store: store.taskQueues, starter: history.engine, logger: log, registry: createRegistry() });
    history.engine.setMatching(matching);
    const membership = new InMemoryMembership(cluster, member(id));
    const ownership = new ShardOwnership({ membership, controller: history.controller, numShards: NUM_SHARDS, logger: log, config });
    await namespaces.start();
    await matching.start();
    await history.start();
    await membership.start();
    await ownership.start();
    return new Node(store, namespaces, matching, history, membership, ownership);
  }

  get id(): string {
    return this.membership.self.id;
  }

  get owned(): number[] {
    return this.history.controller.ownedShardIds;
  }

  get engine() {
    return this.history.engine;
  }

  /** Graceful: hand the shards back, then leave. */
  async stop(): Promise<void> {
    await this.ownership.stop();
    await this.history.stop();
    await this.membership.stop();
    await this.matching.stop();
    await this.namespaces.stop();
    await this.store.close();
  }
}

/** What rendezvous assigns to each of `nodes` when exactly they are alive. */
function expectedSplit(nodes: Node[]): Map<string, number[]> {
  const members = nodes.map((n) => n.membership.self);
  const split = new Map<string, number[]>(nodes.map((n) => [n.id, []]));
  for (let s = 0; s < NUM_SHARDS; s++) split.get(shardOwner(s, members)!.id)!.push(s);
  return split;
}

function ownsExactly(nodes: Node[], split: Map<string, number[]>): boolean {
  return nodes.every((n) => JSON.stringify(n.owned) === JSON.stringify(split.get(n.id)));
}

async function namespace(node: Node): Promise<NamespaceRef> {
  const rec = await node.namespaces.register({ name: `ownership-${randomUUID().slice(0, 8)}` });
  return { id: rec.id, name: rec.name };
}

/** A workflow id that lands in `shard`. */
function workflowIn(ns: NamespaceRef, shard: number): string {
  for (;;) {
    const id = `wf-${randomUUID()}`;
    if (shardIdFor(ns.id, id, NUM_SHARDS) === shard) return id;
  }
}

type Engine = HistoryService['engine'];

function start(engine: Engine, ns: NamespaceRef, workflowId: string) {
  return engine.startWorkflowExecution(ns, {
    namespace: ns.name,
    workflowId,
    workflowType: { name: 'ownershipWorkflow' },
    taskQueue: { name: 'ownership-queue-nobody-polls' },
    requestId: randomUUID(),
    identity: 'ownership-test',
  });
}

function signal(engine: Engine, ns: NamespaceRef, workflowId: string, name: string) {
  return engine.signalWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId }, signalName: name, identity: 'ownership-test', requestId: randomUUID() });
}

async function assertShardMoved(what: string, call: () => Promise<unknown>): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(isTandemError(err, 'SHARD_MOVED'), `${what}: expected SHARD_MOVED, got ${String(err)}`);
    return true;
  });
}

describe('ShardOwnership', () => {
  test('config: defaults in one place, bad values refused', () => {
    assert.deepEqual(compileShardOwnershipConfig(), shardOwnershipDefaults);
    assert.throws(() => compileShardOwnershipConfig({ recheckMs: 0 }), /recheckMs/);
    assert.throws(() => compileShardOwnershipConfig({ retryMinMs: 500, retryMaxMs: 100 }), /retryMinMs/);
  });

  test('shards are split by rendezvous; a graceful leaver’s shards move to the other node', async () => {
    const cluster = new InMemoryCluster();
    const db = path.join(dir, 'split.db');
    const a = await Node.start(cluster, 'h-a', db);
    const b = await Node.start(cluster, 'h-b', db);
    try {
      const split = expectedSplit([a, b]);
      assert.ok(split.get('h-a')!.length > 0 && split.get('h-b')!.length > 0, 'both nodes are assigned shards');
      await waitFor('the shards to split between a and b', () => ownsExactly([a, b], split));
      for (let s = 0; s < NUM_SHARDS; s++) {
        const row = await a.store.shards.getShard(s);
        assert.equal(row?.owner, split.get('h-b')!.includes(s) ? 'h-b' : 'h-a', `owner of shard ${s} in the store`);
      }
      const rangesOfB = new Map<number, bigint>();
      for (const s of split.get('h-b')!) rangesOfB.set(s, (await a.store.shards.getShard(s))!.rangeId);

      await b.stop();
      await waitFor('a to own every shard', () => a.owned.length === NUM_SHARDS);
      for (const [s, rangeId] of rangesOfB) {
        const row = await a.store.shards.getShard(s);
        assert.equal(row?.owner, 'h-a');
        assert.ok(row!.rangeId > rangeId, `shard ${s}: range_id bumped by the takeover`);
      }
    } finally {
      await a.stop();
    }
  });

  test('a killed node is fenced out by the survivor; revived, membership gives its shards back', async () => {
    const cluster = new InMemoryCluster();
    const db = path.join(dir, 'kill.db');
    const a = await Node.start(cluster, 'h-a', db);
    // While killed, b's frozen view still assigns its shards to it; a long re-acquire delay keeps
    // it from taking them back before it hears from membership again.
    const b = await Node.start(cluster, 'h-b', db, { reacquireDelayMs: 60_000 });
    try {
      const split = expectedSplit([a, b]);
      await waitFor('the shards to split between a and b', () => ownsExactly([a, b], split));
      const ns = await namespace(a);
      const shard = split.get('h-b')![0]!;
      const wf = workflowIn(ns, shard);
      const started = await start(b.engine, ns, wf);
      await assertShardMoved('a cannot serve a shard of b', () => signal(a.engine, ns, wf, 'to-a'));

      cluster.kill('h-b');
      await waitFor('a to take every shard', () => a.owned.length === NUM_SHARDS);
      assert.ok(b.owned.includes(shard), 'b has not noticed yet: nothing told it');
      await assertShardMoved('the fenced node’s write', () => signal(b.engine, ns, wf, 'stale-b'));
      assert.ok(!b.owned.includes(shard), 'the fenced write made b drop the shard');
      await signal(a.engine, ns, wf, 'from-a');
      const described = await a.engine.describeWorkflowExecution(ns, { namespace: ns.name, execution: { workflowId: wf } });
      assert.equal(described.workflowExecutionInfo?.execution?.runId, started.runId);
      assert.equal(described.workflowExecutionInfo?.status, enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);

      cluster.revive('h-b');
      await waitFor('the split to come back', () => ownsExactly([a, b], split));
      await signal(b.engine, ns, wf, 'from-b-again');
      await assertShardMoved('a after handing the shard back', () => signal(a.engine, ns, wf, 'late-a'));
      const history = await b.engine.getWorkflowExecutionHistory(ns, { namespace: ns.name, execution: { workflowId: wf } }, new AbortController().signal);
      const signals = history.history?.events?.flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []) ?? [];
      assert.deepEqual(signals, ['from-a', 'from-b-again'], 'only acknowledged signals are in history');
    } finally {
      await b.stop();
      await a.stop();
    }
  });

  test('a shard fenced by a node outside membership is taken back while membership assigns it here', async () => {
    const cluster = new InMemoryCluster();
    const db = path.join(dir, 'intruder.db');
    const a = await Node.start(cluster, 'h-a', db, { reacquireDelayMs: 50 });
    const log = silentLogger();
    const intruderStore = await openSqlitePersistence({ path: db });
    const intruderNs = new NamespaceRegistry(intruderStore.namespaces, { region }, log);
    const intruder = new HistoryService({ numShards: NUM_SHARDS, hostId: 'intruder' }, intruderStore, intruderNs, log, createRegistry(), 'none');
    try {
      await waitFor('a to own every shard', () => a.owned.length === NUM_SHARDS);
      const ns = await namespace(a);
      const wf = workflowIn(ns, 3);
      await start(a.engine, ns, wf);

      await intruder.controller.acquire(3);
      await assertShardMoved('a write of the fenced owner', () => signal(a.engine, ns, wf, 'fenced'));
      await waitFor('a to take shard 3 back', () => a.owned.includes(3));
      assert.equal((await a.store.shards.getShard(3))?.owner, 'h-a');
      await signal(a.engine, ns, wf, 'after-taking-back');
      await assertShardMoved('the intruder, fenced in turn', () => signal(intruder.engine, ns, wf, 'intruder'));
    } finally {
      await intruder.stop();
      await intruderStore.close();
      await a.stop();
    }
  });
});
