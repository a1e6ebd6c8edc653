// Conflict resolution by version history (DESIGN invariant 5): after a forced failover both
// regions write one run; exchanging replication both ways ends with the higher version's branch in
// both, the losing branch's user input reapplied once, the loser readable as a fork. Duplicate runs
// of one workflow id end as one running run. Two regions in one process, replication by hand.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { durationFromMs, toLong } from '../common/proto-time.js';
import { enums } from '../common/temporal.js';
import { silentLogger } from '../common/logger.js';
import { NamespaceFailoverCoordinator } from '../namespaces/failover-coordinator.js';
import { nextFailoverVersion } from '../namespaces/failover.js';
import type { NamespaceRecord } from '../persistence/types.js';
import type { NamespaceRef } from './api.js';
import type { MutableState } from './mutable-state.js';
import { takeNonEventState } from './non-event-state.js';
import { planReplicated } from './replicated-plan.js';
import { checkReplay, differences, eventPart } from './replay-check.js';
import { emptyState, type HistoryEvent } from './state.js';
import type { TaskAttrs } from './tasks.js';
import { regionA, regionB, TestRegion } from './test-region.js';

const ET = enums.EventType;
const CT = enums.CommandType;
const QUEUE = 'conflict-resolution';
const SHARDS = [0, 1];

describe('conflict resolution by version history', () => {
  let a: TestRegion;
  let b: TestRegion;
  let ns: NamespaceRef;

  before(async () => {
    [a, b] = await Promise.all([TestRegion.start(regionA), TestRegion.start(regionB)]);
  });
  after(() => Promise.all([a.stop(), b.stop()]));

  /** A global namespace active in a, in both regions (as namespace replication leaves it). */
  async function globalNamespace(): Promise<NamespaceRecord> {
    const rec = await a.namespaces.register({ name: `g-${randomUUID().slice(0, 8)}`, isGlobal: true, regions: ['a', 'b'], activeRegion: 'a' });
    await b.store.namespaces.createNamespace(rec);
    ns = { id: rec.id, name: rec.name };
    return rec;
  }

  /** A forced failover decided in b alone (a is cut off and keeps writing at its version). */
  async function forceToB(): Promise<void> {
    await b.namespaces.update(ns.name, (r) => ({
      ...r,
      activeRegion: 'b',
      failoverVersion: nextFailoverVersion(r.failoverVersion, regionB.initialFailoverVersion, regionB.failoverVersionIncrement),
    }));
  }

  /** Ships every replication task of `from` to `to` as the stream does (events and state read now). */
  async function ship(from: TestRegion, to: TestRegion): Promise<void> {
    for (const shardId of SHARDS) {
      const tasks = await from.store.executions.getHistoryTasks({ shardId, category: 'replication', afterTaskId: -1n, maxTaskId: 2n ** 63n - 1n, limit: 1000 });
      for (const t of tasks) {
        const attrs = JSON.parse(t.data) as TaskAttrs;
        const run = await from.engine.tx.read(t.namespaceId, t.workflowId, t.runId);
        const { events, versionHistory } = await from.engine.tx.eventsForReplication(run, attrs.firstEventId!, attrs.nextEventId!, attrs.version!);
        await to.engine.tx.applyReplicated(run.key, events, { ...takeNonEventState(run.data), versionHistory });
      }
    }
  }

  async function history(r: TestRegion, workflowId: string, runId = ''): Promise<{ ms: MutableState; events: HistoryEvent[] }> {
    const ms = await r.engine.tx.read(ns.id, workflowId, runId);
    return { ms, events: await r.engine.tx.readAllEvents(ms, 1, ms.info.nextEventId) };
  }

  const signalsNamed = (events: HistoryEvent[], name: string) =>
    events.filter((e) => e.eventType === ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED && e.workflowExecutionSignaledEventAttributes?.signalName === name);
  const shape = (events: HistoryEvent[]) => events.map((e) => [Number(e.eventId), String(e.version), e.eventType]);

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await probe();
      if (got !== undefined) return got;
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const signal = (r: TestRegion, workflowId: string, name: string) =>
    r.engine.signalWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId }, signalName: name, requestId: randomUUID() });
  const start = (r: TestRegion, workflowId: string) =>
    r.engine.startWorkflowExecution(ns, { namespace: ns.name, workflowId, workflowType: { name: 'w' }, taskQueue: { name: QUEUE }, requestId: randomUUID() });

  test('after a forced failover both regions end on the higher version, the loser signal reapplied once', async () => {
    const rec = await globalNamespace();
    const workflowId = `wf-${randomUUID()}`;
    const { runId } = await start(a, workflowId);
    await ship(a, b);

    await forceToB();
    await signal(a, workflowId, 'from-a');
    await signal(b, workflowId, 'from-b');
    // b's worker answers with a timer, which fires in b.
    const task = await b.matching.pollWorkflowTaskQueue(ns.id, { namespace: ns.name, taskQueue: { name: QUEUE, kind: 1 }, identity: 'worker-b' }, AbortSignal.timeout(10_000));
    await b.engine.respondWorkflowTaskCompleted(ns, {
      namespace: ns.name,
      taskToken: task.taskToken,
      identity: 'worker-b',
      commands: [{ commandType: CT.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 't', startToFireTimeout: durationFromMs(1) } }],
    });
    await until('the timer to fire in b', async () => ((await history(b, workflowId)).events.some((e) => e.eventType === ET.EVENT_TYPE_TIMER_FIRED) ? true : undefined));

    // a's branch reaches b: it loses (version 1 < 2), is kept as a fork, and b (active) reapplies its signal.
    await ship(a, b);
    await until('the reapplied signal in b', async () => (signalsNamed((await history(b, workflowId)).events, 'from-a').length > 0 ? true : undefined));
    // b's branch reaches a: it wins there; a's state is rebuilt from it.
    await ship(b, a);
    // a ships its own, now losing, branch again; b knows it: no second reapply.
    await ship(a, b);
    await ship(b, a);

    const inA = await history(a, workflowId);
    const inB = await history(b, workflowId);
    assert.deepEqual(shape(inA.events), shape(inB.events), 'identical histories, versions included');
    assert.equal(inB.ms.info.lastWriteVersion, String(nextFailoverVersion(rec.failoverVersion, regionB.initialFailoverVersion, regionB.failoverVersionIncrement)));
    assert.equal(signalsNamed(inB.events, 'from-a').length, 1, "a's signal reapplied exactly once");
    assert.equal(signalsNamed(inB.events, 'from-b').length, 1);
    assert.ok(signalsNamed(inB.events, 'from-a').every((e) => String(e.version) === inB.ms.info.lastWriteVersion), 'reapplied at the winner version');
    assert.deepEqual(differences(eventPart(inA.ms.data), eventPart(inB.ms.data)).filter((d) => !d.startsWith('info.nonCurrentBranches') && !d.startsWith('info.branch')), []);
    for (const r of [a, b]) assert.deepEqual((await checkReplay(r.store, SHARDS.length)).mismatches, []);

    // The losing branch stays readable as a fork in both regions.
    for (const [region, { ms }] of [[a, inA], [b, inB]] as const) {
      const forks = ms.info.nonCurrentBranches ?? [];
      assert.equal(forks.length, 1);
      const lostHere = await region.engine.tx.readBranchEvents(ms, forks[0]!.branchId, 1, 100);
      assert.equal(signalsNamed(lostHere, 'from-a').length, 1, 'the fork holds the original signal');
      assert.equal(String(signalsNamed(lostHere, 'from-a')[0]!.version), String(rec.failoverVersion));
    }
    assert.equal(inA.ms.info.runId, runId);
  });

  test('an event id the run has, at another version, is never dropped as a duplicate', () => {
    // The run has events 1..3 at version 1; a region at version 2 wrote its own event 3.
    const info = emptyState({ namespaceId: 'n', workflowId: 'w', runId: 'r' }, 1n, 'b0').info;
    info.versionHistory = [{ eventId: 3, version: '1' }];
    const event = (id: number, version: number): HistoryEvent => ({ eventId: toLong(BigInt(id)), version: toLong(BigInt(version)), eventType: ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED });
    const known = [event(3, 1)];
    const sameIdOtherVersion = [event(3, 2)];
    assert.equal(planReplicated(info, known, [{ eventId: 3, version: '1' }]).kind, 'duplicate');
    const plan = planReplicated(info, sameIdOtherVersion, [{ eventId: 2, version: '1' }, { eventId: 3, version: '2' }]);
    assert.equal(plan.kind, 'fork');
    assert.equal(plan.kind === 'fork' && plan.lca, 2);
  });

  test('duplicate runs of one workflow id end as one running run', async () => {
    await globalNamespace();
    const workflowId = `wf-${randomUUID()}`;
    // Apart: a starts a run at version 1; b, forced active at version 2, starts its own.
    await forceToB();
    const { runId: runA } = await start(a, workflowId);
    await signal(a, workflowId, 'to-run-a');
    const { runId: runB } = await start(b, workflowId);
    assert.notEqual(runA, runB);
    // a learns of the failover when the link heals (namespace replication).
    assert.equal(await a.namespaces.applyReplicated(await b.namespaces.requireById(ns.id)), 'updated');

    await ship(a, b);
    await until("b to close a's run", async () => {
      const run = await b.engine.tx.read(ns.id, workflowId, runA!);
      return run.isRunning ? undefined : run;
    });
    await until("a's signal on b's run", async () => (signalsNamed((await history(b, workflowId, runB!)).events, 'to-run-a').length === 1 ? true : undefined));
    await ship(b, a);
    await ship(a, b);
    await ship(b, a);

    for (const r of [a, b]) {
      const [ra, rb] = await Promise.all([r.engine.tx.read(ns.id, workflowId, runA!), r.engine.tx.read(ns.id, workflowId, runB!)]);
      assert.equal(rb.isRunning, true, 'the run of the higher version keeps running');
      assert.equal(ra.isRunning, false, 'the other is closed');
      assert.equal(ra.info.status, enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED);
      const closing = (await history(r, workflowId, runA!)).events.at(-1)!;
      assert.match(closing.workflowExecutionTerminatedEventAttributes?.reason ?? '', /duplicate run/);
    }
    assert.equal(signalsNamed((await history(b, workflowId, runB!)).events, 'to-run-a').length, 1, 'its signal reapplied once');
    for (const r of [a, b]) assert.deepEqual((await checkReplay(r.store, SHARDS.length)).mismatches, []);
  });

  test('a forced failover reports the replication lag it loses, in its report and audit entry', async () => {
    await globalNamespace();
    const asked: string[] = [];
    const coordinator = new NamespaceFailoverCoordinator({
      registry: b.namespaces,
      audit: b.store.clusterMetadata,
      log: silentLogger(),
      measureLag: async (namespaceId, from) => {
        asked.push(`${namespaceId}/${from}`);
        return { tasks: 7, seconds: 2.5 };
      },
    });
    const report = await coordinator.failover(ns.name, 'b', { graceful: false, identity: 'test' });
    assert.deepEqual(report.lag, { tasks: 7, seconds: 2.5 });
    assert.deepEqual(asked, [`${ns.id}/a`], 'measured from the region that was active');
    const [entry] = await b.store.clusterMetadata.listFailoverAudit(ns.name, 1);
    assert.equal(entry!.mode, 'forced');
    assert.match(entry!.message, /replication lag at the switch: 7 tasks, 2\.500 s not applied from a/);
  });
});
