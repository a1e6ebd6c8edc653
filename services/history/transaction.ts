// The one write path of history (DESIGN invariants 3, 4, 4a): every change of a run, by a client
// call, a worker, a timer, a timeout, retention or the replication applier, loads the run under
// its shard's workflow lock, checks the write policy, applies events, derives the tasks once from
// the resulting state, and writes one fenced, version-conditioned batch.
import { randomUUID } from 'node:crypto';
import { apiError, isTandemError } from '../common/errors.js';
import { ConditionFailedError } from '../persistence/errors.js';
import type { Persistence } from '../persistence/store.js';
import type { CreateMode, ExecutionKey, HistoryBranch } from '../persistence/types.js';
import type { NamespaceRecord } from '../persistence/types.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import { assertActive, namespaceNotActive } from '../namespaces/active.js';
import { foldHistory } from './event-fold.js';
import { isUserInput } from './events-reapplier.js';
import { MutableState } from './mutable-state.js';
import { applyNonEventState, type NonEventSnapshot } from './non-event-state.js';
import type { Shard, ShardWrite } from './shard.js';
import type { ShardController } from './shard-controller.js';
import type { SyncReplication } from './sync-replication.js';
import { ReplicationGap } from './replication-gap.js';
import { planReplicated } from './replicated-plan.js';
import type { BranchVersionHistory, HistoryEvent, VersionHistoryItem } from './state.js';
import { generateTasks } from './task-generator.js';
import { replicationTask, transferTask, type NewTask } from './tasks.js';
import { allBranches, forkAt, itemsOf, lastEventId, lastVersion, truncate, versionAt } from './version-history.js';

/**
 * 'active': a local change; the namespace must be active here and not in handover, and the run
 * must not carry a version newer than the namespace's (a failover this region has not seen).
 * 'replicated': events of another region, applied with their own versions.
 */
export type WritePolicy = 'active' | 'replicated';

/** Runs on the state of an active write before the change: e.g. a workflow task of the old region. */
export type TransactionHook = (ms: MutableState, nowMs: number) => void;

export interface TransactionOptions {
  policy?: WritePolicy;
}

export class Transactions {
  private beforeActive: TransactionHook = () => undefined;

  constructor(
    private readonly shards: ShardController,
    private readonly store: Persistence,
    readonly namespaces: NamespaceRegistry,
    private readonly sync: SyncReplication,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Set once by the engine: what every active write does first (see WorkflowTaskHandler). */
  onBeforeActiveWrite(hook: TransactionHook): void {
    this.beforeActive = hook;
  }

  get region(): string {
    return this.namespaces.localRegion;
  }

  shardFor(namespaceId: string, workflowId: string): Shard {
    return this.shards.shardFor(namespaceId, workflowId);
  }

  /** The namespace when this region may write it now; NamespaceNotActive / handover otherwise. */
  async activeNamespace(namespaceId: string): Promise<NamespaceRecord> {
    const ns = await this.namespaces.requireById(namespaceId);
    assertActive(ns, this.region, 'write');
    return ns;
  }

  /**
   * Returns once a sync namespace's standby regions acknowledged everything the workflow's shard
   * committed so far (sync-replication.ts). Every active write calls it after its lock is released;
   * a caller answering with a run it did not write now (a deduplicated start) calls it too.
   */
  async awaitStandbys(namespaceId: string, workflowId: string): Promise<void> {
    await this.sync.waitForStandbys(this.shardFor(namespaceId, workflowId), await this.namespaces.requireById(namespaceId));
  }

  /**
   * Runs fn on the run's state under the workflow's lock and writes what it produced. An empty
   * runId means the current run. A lost race on the record version retries from a fresh load.
   * An active write of a sync namespace returns once replicated (awaitStandbys).
   */
  async update<T>(
    namespaceId: string,
    workflowId: string,
    runId: string,
    fn: (ms: MutableState, nowMs: number) => Promise<T> | T,
    opts: TransactionOptions = {},
  ): Promise<T> {
    const policy = opts.policy ?? 'active';
    const shard = this.shardFor(namespaceId, workflowId);
    const result = await shard.workflowLocks.run(lockKey(namespaceId, workflowId), async () => {
      for (let attempt = 1; ; attempt++) {
        const ns = await this.namespaces.requireById(namespaceId);
        const ms = await this.load(shard, namespaceId, workflowId, runId, ns.failoverVersion);
        const now = this.clock();
        try {
          if (policy === 'active') {
            this.admitActive(ns, ms);
            this.beforeActive(ms, now);
            // What the hook did (e.g. failing a workflow task of the old region) stands on its own:
            // it must not be lost when fn then refuses the call (that task's late completion).
            if (ms.pendingTransaction.events.length > 0) await this.commit(shard, ms, ns, now);
          }
          const result = await fn(ms, now);
          await this.commit(shard, ms, ns, now);
          return result;
        } catch (err) {
          if (err instanceof ConditionFailedError && attempt < 3) {
            shard.invalidate(ms.key);
            continue;
          }
          // A failed handler may have changed the cached state half-way: reload next time.
          const untouched = ms.pendingTransaction.events.length === 0 && ms.pendingTransaction.tasks.length === 0 && !ms.dirty;
          if (!(isTandemError(err) && untouched)) shard.invalidate(ms.key);
          ms.takeTransaction();
          throw err;
        }
      }
    });
    // Outside the lock: the standby's round trip must not hold up the workflow's next write.
    if (policy === 'active') await this.awaitStandbys(namespaceId, workflowId);
    return result;
  }

  /** Reads a run without writing anything (any region: the standby keeps full state). */
  async read(namespaceId: string, workflowId: string, runId: string): Promise<MutableState> {
    const shard = this.shardFor(namespaceId, workflowId);
    const ns = await this.namespaces.requireById(namespaceId);
    return shard.workflowLocks.run(lockKey(namespaceId, workflowId), () => this.load(shard, namespaceId, workflowId, runId, ns.failoverVersion));
  }

  /**
   * Creates a run: build(version, now) returns its state with the start events added. Active
   * policy only; replicated runs are created by applyReplicated. Returns once replicated for a
   * sync namespace (awaitStandbys).
   */
  async create(namespaceId: string, workflowId: string, mode: CreateMode, build: (version: bigint, nowMs: number) => MutableState): Promise<MutableState> {
    const shard = this.shardFor(namespaceId, workflowId);
    const ns = await this.activeNamespace(namespaceId);
    const ms = await shard.workflowLocks.run(lockKey(namespaceId, workflowId), async () => {
      const now = this.clock();
      const ms = build(ns.failoverVersion, now);
      await shard.createExecution(ms, this.close(ms, ns, now, replicates(ns)), mode);
      return ms;
    });
    await this.sync.waitForStandbys(shard, ns);
    return ms;
  }

  /**
   * Applies another region's events to a run (DESIGN invariants 5, 6), creating it from its first
   * events when absent, then the non-event state shipped with them. The events are placed by
   * version history (replicated-plan.ts): known ones are dropped, ones that extend the current
   * branch are folded in, others go to a fork; a gap is refused so the sender resends.
   * `snapshot.versionHistory` is the sender's branch the events were read from.
   */
  async applyReplicated(key: ExecutionKey, events: HistoryEvent[], snapshot?: NonEventSnapshot): Promise<MutableState> {
    const shard = this.shardFor(key.namespaceId, key.workflowId);
    const ns = await this.namespaces.requireById(key.namespaceId);
    return shard.workflowLocks.run(lockKey(key.namespaceId, key.workflowId), async () => {
      const existing = await shard.loadExecution(key, ns.failoverVersion);
      try {
        if (!existing) return await this.createReplicated(shard, ns, key, events, snapshot);
        const plan = events.length > 0 ? planReplicated(existing.info, events, snapshot?.versionHistory) : { kind: 'append' as const, events, branch: undefined };
        switch (plan.kind) {
          case 'gap':
            throw new ReplicationGap(key, plan.resendFrom, Number(events[0]!.eventId));
          case 'duplicate':
            // The sender's state still applies when its events are all here already, unless it
            // was sent with older events than the run has now (a task shipped again).
            if (snapshot && plan.branch.current && (!snapshot.versionHistory || lastEventId(snapshot.versionHistory) === existing.info.nextEventId - 1)) {
              await this.appendCurrent(shard, ns, existing, [], snapshot);
            }
            return existing;
          case 'append':
            if (!plan.branch || plan.branch.current) return await this.appendCurrent(shard, ns, existing, plan.events, snapshot);
            return await this.writeOtherBranch(shard, ns, existing, branchOf(key, plan.branch), truncateTo(plan.branch, Infinity), plan.events, snapshot);
          case 'fork': {
            const fork = forkAt(branchOf(key, plan.from), plan.lca + 1, randomUUID());
            return await this.writeOtherBranch(shard, ns, existing, fork, truncateTo(plan.from, plan.lca), plan.events, snapshot);
          }
        }
      } catch (err) {
        shard.invalidate(key);
        throw err;
      }
    });
  }

  /**
   * The events of a replication task, [first, next), and the version history of the branch they
   * are on: the branch where event next - 1 has the task's version, so a task whose branch lost
   * here still ships its own events (the other region reapplies their user input); else the
   * current branch (resends, state-only tasks).
   */
  async eventsForReplication(ms: MutableState, first: number, next: number, version: string): Promise<{ events: HistoryEvent[]; nextEventId: number; versionHistory: VersionHistoryItem[] }> {
    const branches = allBranches(ms.info);
    const b = branches.find((x) => versionAt(x.items, next - 1) === version) ?? branches[0]!;
    // Never past the branch's committed end: rows beyond it may be orphans of a failed write.
    const end = Math.min(next, lastEventId(b.items) + 1);
    const events = end > first ? await this.shardFor(ms.info.namespaceId, ms.info.workflowId).readAllEvents(branchOf(ms.key, b), first, end) : [];
    return { events, nextEventId: end, versionHistory: truncate(b.items, end - 1) };
  }

  /** Events of any branch of the run (a fork that lost, to reapply what it holds). */
  async readBranchEvents(ms: MutableState, branchId: string, first: number, next: number): Promise<HistoryEvent[]> {
    const b = allBranches(ms.info).find((x) => x.branchId === branchId);
    if (!b) return [];
    return this.shardFor(ms.info.namespaceId, ms.info.workflowId).readAllEvents(branchOf(ms.key, b), first, Math.min(next, lastEventId(b.items) + 1));
  }

  /** A replicated run's first write. A running run of the same workflow id here makes it a zombie, resolved by a task. */
  private async createReplicated(shard: Shard, ns: NamespaceRecord, key: ExecutionKey, events: HistoryEvent[], snapshot?: NonEventSnapshot): Promise<MutableState> {
    const ms = MutableState.empty(key, ns.failoverVersion, key.runId);
    if (events.length === 0) return ms;
    if (Number(events[0]!.eventId) !== 1) throw new ReplicationGap(key, 1, Number(events[0]!.eventId));
    for (const e of events) ms.applyReplicated(e);
    const now = this.clock();
    if (snapshot) for (const t of applyNonEventState(ms, snapshot, now)) ms.addTask(t);
    const mode = await this.replicatedCreateMode(shard, key);
    const write = this.close(ms, ns, now, false);
    if (mode.kind === 'zombie') {
      ms.zombie = true;
      const current = await this.store.executions.getCurrentExecution(shard.shardId, key.namespaceId, key.workflowId);
      if (current && ms.isRunning) write.tasks.push(transferTask('resolveDuplicateRun', now, { otherRunId: current.runId }));
    }
    await shard.createExecution(ms, write, mode);
    return ms;
  }

  /** Events that continue the current branch, and the sender's non-event state. */
  private async appendCurrent(shard: Shard, ns: NamespaceRecord, ms: MutableState, events: HistoryEvent[], snapshot?: NonEventSnapshot): Promise<MutableState> {
    for (const e of events) ms.applyReplicated(e);
    const now = this.clock();
    if (snapshot) for (const t of applyNonEventState(ms, snapshot, now)) ms.addTask(t);
    if (events.length === 0 && !snapshot) return ms;
    await shard.updateExecution(ms, this.close(ms, ns, now, false));
    return ms;
  }

  /**
   * Events for a branch other than the current one: a new fork, or a fork seen before. The branch
   * whose last version is higher wins (DESIGN invariant 5). If it is the incoming one, the run's
   * state is rebuilt from it and moves there, with its tasks derived again; the old current branch
   * stays readable, and its own user input reaches the winner through the other region, which
   * receives it as a losing branch. Otherwise the events are stored on their branch and a task
   * reapplies their user input to the current one where the namespace is active.
   */
  private async writeOtherBranch(
    shard: Shard,
    ns: NamespaceRecord,
    ms: MutableState,
    branch: HistoryBranch,
    base: VersionHistoryItem[],
    events: HistoryEvent[],
    snapshot?: NonEventSnapshot,
  ): Promise<MutableState> {
    const items = itemsOf(events, base);
    const now = this.clock();
    const others = allBranches(ms.info).filter((b) => b.branchId !== branch.branchId);
    if (lastVersion(items) > lastVersion(ms.info.versionHistory)) {
      const shared = await shard.readAllEvents(branch, 1, Number(events[0]!.eventId));
      const rebuilt = new MutableState(foldHistory(ms.key, branch.branchId, shared), ms.dbRecordVersion, ms.currentVersion);
      rebuilt.info.branchAncestors = branch.ancestors;
      rebuilt.info.nonCurrentBranches = others.map(({ current: _current, ...b }) => b);
      rebuilt.storedNextEventId = ms.storedNextEventId;
      rebuilt.zombie = ms.zombie;
      for (const e of events) rebuilt.applyReplicated(e);
      if (snapshot) for (const t of applyNonEventState(rebuilt, snapshot, now)) rebuilt.addTask(t);
      shard.log.info({ workflowId: ms.info.workflowId, runId: ms.info.runId, from: ms.info.branchId, to: branch.branchId, version: lastVersion(items).toString() }, 'replicated branch wins; run rebuilt from it');
      shard.invalidate(ms.key);
      await shard.updateExecution(rebuilt, this.close(rebuilt, ns, now, false, [...shared, ...rebuilt.pendingTransaction.events]));
      return rebuilt;
    }
    ms.info.nonCurrentBranches = [...others.filter((b) => !b.current).map(({ current: _current, ...b }) => b), { branchId: branch.branchId, ancestors: branch.ancestors, items }];
    const first = Number(events[0]!.eventId);
    const tasks = events.some(isUserInput) ? [transferTask('reapplyEvents', now, { branchId: branch.branchId, firstEventId: first, nextEventId: first + events.length })] : [];
    shard.log.info({ workflowId: ms.info.workflowId, runId: ms.info.runId, branch: branch.branchId, version: lastVersion(items).toString() }, 'replicated branch loses; kept as a fork');
    await shard.updateExecution(ms, { events, tasks, branch });
    return ms;
  }

  /** Removes a closed run (retention, DeleteWorkflowExecution): its record, history and visibility. */
  async deleteRun(key: ExecutionKey): Promise<void> {
    const shard = this.shardFor(key.namespaceId, key.workflowId);
    await this.activeNamespace(key.namespaceId);
    await shard.workflowLocks.run(lockKey(key.namespaceId, key.workflowId), async () => {
      await this.store.executions.deleteWorkflowExecution(shard.shardId, key);
      shard.invalidate(key);
    });
    await this.store.visibility.deleteVisibility(key.namespaceId, key.runId);
  }

  async readEvents(ms: MutableState, minEventId: number, maxEventId: number, limit: number): Promise<HistoryEvent[]> {
    return this.shardFor(ms.info.namespaceId, ms.info.workflowId).readEvents(ms.branch, minEventId, maxEventId, limit);
  }

  async readAllEvents(ms: MutableState, minEventId: number, maxEventId: number): Promise<HistoryEvent[]> {
    return this.shardFor(ms.info.namespaceId, ms.info.workflowId).readAllEvents(ms.branch, minEventId, maxEventId);
  }

  /** One event of a run (e.g. an activity's scheduled event, for its input). */
  async readEvent(ms: MutableState, eventId: number): Promise<HistoryEvent | undefined> {
    const [e] = await this.readEvents(ms, eventId, eventId + 1, 1);
    return e;
  }

  private admitActive(ns: NamespaceRecord, ms: MutableState): void {
    assertActive(ns, this.region, 'write');
    // The run saw a failover this region's view of the namespace has not: never write under it.
    if (BigInt(ms.info.lastWriteVersion) > ns.failoverVersion) throw namespaceNotActive(ns, this.region);
    ms.currentVersion = ns.failoverVersion;
  }

  private async commit(shard: Shard, ms: MutableState, ns: NamespaceRecord, now: number): Promise<void> {
    const write = this.close(ms, ns, now, replicates(ns));
    if (write.events.length === 0 && write.tasks.length === 0 && !write.newRun && !ms.dirty) return;
    await shard.updateExecution(ms, write);
  }

  /**
   * Ends the transaction: its events, the tasks derived once from the resulting state, and for a
   * replicated namespace the replication task that ships them (DESIGN invariant 6). taskEvents:
   * the events to derive tasks from when not the transaction's (a state rebuilt from a branch).
   */
  private close(ms: MutableState, ns: NamespaceRecord, now: number, replicate: boolean, taskEvents?: HistoryEvent[]): ShardWrite {
    const tx = ms.takeTransaction();
    const ctx = { nowMs: now, retentionMs: ns.retentionMs };
    const tasksOf = (run: MutableState, events: HistoryEvent[], explicit: NewTask[], changed: boolean): NewTask[] => {
      const tasks = clampTimers([...generateTasks(run, run === ms && taskEvents ? taskEvents : events, ctx), ...explicit], now);
      if (replicate && changed) {
        const first = events.length > 0 ? Number(events[0]!.eventId) : run.info.nextEventId;
        tasks.push(replicationTask(first, run.info.nextEventId, run.currentVersion, now));
      }
      return tasks;
    };
    const write: ShardWrite = { events: tx.events, tasks: tasksOf(ms, tx.events, tx.tasks, tx.events.length > 0 || ms.dirty || tx.tasks.length > 0) };
    if (tx.newRun) {
      const next = tx.newRun.takeTransaction();
      write.newRun = { ms: tx.newRun, events: next.events, tasks: tasksOf(tx.newRun, next.events, next.tasks, true) };
    }
    return write;
  }

  private async replicatedCreateMode(shard: Shard, key: ExecutionKey): Promise<CreateMode> {
    const current = await this.store.executions.getCurrentExecution(shard.shardId, key.namespaceId, key.workflowId);
    if (!current) return { kind: 'brandNew' };
    if (current.state === 'completed' || current.state === 'zombie') {
      return { kind: 'replaceCurrent', previousRunId: current.runId, previousLastWriteVersion: current.lastWriteVersion };
    }
    return { kind: 'zombie' };
  }

  private async load(shard: Shard, namespaceId: string, workflowId: string, runId: string, version: bigint): Promise<MutableState> {
    let rid = runId;
    if (!rid) {
      const current = await this.store.executions.getCurrentExecution(shard.shardId, namespaceId, workflowId);
      if (!current) throw apiError('WORKFLOW_NOT_FOUND', workflowId);
      rid = current.runId;
    }
    const ms = await shard.loadExecution({ namespaceId, workflowId, runId: rid }, version);
    if (!ms) throw apiError('WORKFLOW_NOT_FOUND', workflowId, runId);
    return ms;
  }
}

/** A global namespace with a standby: every local write of it is shipped. */
function replicates(ns: NamespaceRecord): boolean {
  return ns.isGlobal && ns.regions.length > 1;
}

function branchOf(key: ExecutionKey, b: BranchVersionHistory): HistoryBranch {
  return { treeId: key.runId, branchId: b.branchId, ancestors: b.ancestors };
}

function truncateTo(b: BranchVersionHistory, eventId: number): VersionHistoryItem[] {
  return truncate(b.items, Math.min(eventId, lastEventId(b.items)));
}

function lockKey(namespaceId: string, workflowId: string): string {
  return `${namespaceId}/${workflowId}`;
}

/**
 * A timer is never written to fire before its commit: the timer queue's ack level trails the
 * clock, so an earlier one could fall behind it and never be read.
 */
function clampTimers(tasks: NewTask[], now: number): NewTask[] {
  for (const t of tasks) if (t.category === 'timer' && t.visibilityTimeMs < now) t.visibilityTimeMs = now;
  return tasks;
}
