// Per-shard streaming replication between two regions in one process (DESIGN invariant 6): b
// holds every run of a event for event within about a second of the writes stopping; a cut link
// resumes from the ack with no gap and no duplicate; a task that keeps failing goes to the DLQ
// while its shard keeps flowing, and the DLQ can be listed, retried and purged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { durationFromMs } from '../services/common/proto-time.js';
import { enums } from '../services/common/temporal.js';
import { checkReplay } from '../services/history/replay-check.js';
import type { NamespaceRecord } from '../services/persistence/types.js';
import { ReplicationAdminServiceClient, type DlqSelector, type ListDlqResponse, type PurgeDlqResponse, type RetryDlqResponse } from '../proto/gen/tandem/replication/v1/replication.js';
import { converge, historyDifferences, metricValue, setNamespaceState, NUM_SHARDS, startTwoRegions, type TwoRegions } from '../test-e2e/two-regions.js';

const CT = enums.CommandType;
const TANDEM = fileURLToPath(new URL('../bin/tandem.mjs', import.meta.url));
const run = promisify(execFile);
const MAX_TASK_ID = (1n << 63n) - 1n;

describe('replication between two regions', () => {
  let r: TwoRegions;
  let ns: NamespaceRecord;

  before(async () => {
    r = await startTwoRegions({ reconnectMaxBackoffMs: 1_000 });
    ns = await r.globalNamespace();
  });
  after(() => r.stop());

  const ref = (n: NamespaceRecord) => ({ id: n.id, name: n.name });

  /** A run with a few transactions: start, a completed workflow task (timer + activity), signals. */
  async function workload(n: NamespaceRecord, count: number, tag: string): Promise<string[]> {
    const engine = r.a.history!.engine;
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const workflowId = `${tag}-${i}-${randomUUID().slice(0, 6)}`;
      // A queue per run: the signal's workflow task must not reach the next run's poll.
      const queue = `q-${workflowId}`;
      ids.push(workflowId);
      await engine.startWorkflowExecution(ref(n), { namespace: n.name, workflowId, workflowType: { name: 'w' }, taskQueue: { name: queue }, requestId: randomUUID() });
      const task = await r.a.matching!.pollWorkflowTaskQueue(n.id, { namespace: n.name, taskQueue: { name: queue, kind: 1 }, identity: 'worker-a' }, AbortSignal.timeout(10_000));
      await engine.respondWorkflowTaskCompleted(ref(n), {
        namespace: n.name,
        taskToken: task.taskToken,
        identity: 'worker-a',
        commands: [
          { commandType: CT.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 't', startToFireTimeout: durationFromMs(3_600_000) } },
          {
            commandType: CT.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
            scheduleActivityTaskCommandAttributes: { activityId: 'act', activityType: { name: 'act' }, taskQueue: { name: `${queue}-act` }, startToCloseTimeout: durationFromMs(60_000) },
          },
        ],
      });
      await signal(n, workflowId);
    }
    return ids;
  }

  function signal(n: NamespaceRecord, workflowId: string) {
    return r.a.history!.engine.signalWorkflowExecution(ref(n), { namespace: n.name, workflowExecution: { workflowId }, signalName: 'hello', requestId: randomUUID() });
  }

  /** `shard:taskId` of every replication task a holds (task ids are unique per shard only). */
  async function replicationTasksInA(): Promise<string[]> {
    const ids: string[] = [];
    for (let shardId = 0; shardId < NUM_SHARDS; shardId++) {
      const tasks = await r.a.store!.executions.getHistoryTasks({ shardId, category: 'replication', afterTaskId: -1n, maxTaskId: MAX_TASK_ID, limit: 100_000 });
      ids.push(...tasks.map((t) => `${shardId}:${t.taskId}`));
    }
    return ids;
  }

  test('b holds every run of a, event for event, within about a second of the writes stopping', async () => {
    await workload(ns, 20, 'steady');
    const tookMs = await converge(r.a, r.b, 5_000);
    assert.ok(tookMs <= 1_500, `converged ${tookMs} ms after the load stopped`);
    const replay = await checkReplay(r.b.store!, NUM_SHARDS);
    assert.ok(replay.runsChecked >= 20);
    assert.deepEqual(replay.mismatches, [], 'every run of b rebuilds from its events');
    assert.ok((await metricValue(r.a, 'tandem_replication_tasks_sent_total')) >= 60);
  });

  test('a link cut for 30 s resumes from the ack: no gap, no duplicate', async (t) => {
    const ids = await workload(ns, 3, 'cut');
    await converge(r.a, r.b, 5_000);
    // Let the last acks reach a (the receiver acks every ackIntervalMs) so the resume point is exact.
    await new Promise((res) => setTimeout(res, 600));
    const before = new Set(await replicationTasksInA());
    const appliedBefore = await metricValue(r.b, 'tandem_replication_tasks_applied_total');
    const reconnectsBefore = await metricValue(r.b, 'tandem_replication_stream_reconnects_total');

    await r.link.cut();
    t.after(() => r.link.heal());
    const more = await workload(ns, 3, 'during-cut');
    for (const id of ids) await signal(ns, id);
    // As long as the drill: receivers back off to their longest wait meanwhile.
    await new Promise((res) => setTimeout(res, 30_000));
    assert.ok((await historyDifferences(r.a, r.b)).length > 0, 'nothing crossed the cut link');
    const written = (await replicationTasksInA()).filter((id) => !before.has(id)).length;
    assert.equal(written, more.length * 4 + ids.length, 'start, workflow task started, completed, signal per run; a signal per earlier run');

    await r.link.heal();
    await converge(r.a, r.b, 10_000);
    assert.equal((await metricValue(r.b, 'tandem_replication_tasks_applied_total')) - appliedBefore, written, 'each task written during the cut applied once');
    assert.ok((await metricValue(r.b, 'tandem_replication_stream_reconnects_total')) > reconnectsBefore, 'the streams reconnected by themselves');
    assert.equal(await metricValue(r.b, 'tandem_replication_tasks_failed_total'), 0);
  });

  test('acks are persisted in the sender shard and the queue is trimmed below them', async () => {
    await workload(ns, 2, 'trim');
    await converge(r.a, r.b, 5_000);
    let left = Infinity;
    for (let i = 0; i < 40 && left > 0; i++) {
      await new Promise((res) => setTimeout(res, 100));
      left = (await replicationTasksInA()).length;
    }
    assert.equal(left, 0, 'every acknowledged task was trimmed');
    const shard = await r.a.store!.shards.getShard(0);
    assert.ok(shard?.ackLevels['replication:b'], 'the ack of b is in the shard row');
  });

  test('a task that keeps failing goes to the DLQ, the shard keeps flowing; list, retry and purge', async () => {
    const admin = new ReplicationAdminServiceClient(r.b.address, grpc.credentials.createInsecure());
    const answer = <Res>(resolve: (r: Res) => void, reject: (e: unknown) => void) => (err: grpc.ServiceError | null, res: Res) => (err ? reject(err) : resolve(res));
    const list = (selector?: DlqSelector) => new Promise<ListDlqResponse>((res, rej) => admin.listDlq({ selector, limit: 1000 }, answer(res, rej)));
    const retry = (selector?: DlqSelector) => new Promise<RetryDlqResponse>((res, rej) => admin.retryDlq({ selector }, answer(res, rej)));
    const purge = () => new Promise<PurgeDlqResponse>((res, rej) => admin.purgeDlq({}, answer(res, rej)));
    try {
      // The poisoned namespace is gone in b: every apply of its tasks fails there.
      const poisoned = await r.globalNamespace(undefined, { inB: false });
      await workload(poisoned, 2, 'poison');
      await workload(ns, 4, 'healthy');
      await converge(r.a, r.b, 10_000).catch(() => undefined);
      let entries = (await list()).entries;
      for (let i = 0; i < 50 && entries.length < 8; i++) {
        await new Promise((res) => setTimeout(res, 100));
        entries = (await list()).entries;
      }
      assert.equal(entries.length, 8, 'four tasks per poisoned run');
      assert.ok(entries.every((e) => e.namespaceId === poisoned.id && e.sourceRegion === 'a' && e.attempts === 5 && /not found/i.test(e.lastError)));
      const healthy = (await historyDifferences(r.a, r.b)).filter((d) => !d.startsWith('poison'));
      assert.deepEqual(healthy, [], 'the healthy runs replicated past the poisoned tasks');
      assert.equal(await metricValue(r.b, 'tandem_replication_dlq_tasks'), 8);

      // Still poisoned: retry fails and keeps the entries.
      assert.deepEqual(await retry({ shardId: entries[0]!.shardId, dlqTaskId: entries[0]!.dlqTaskId }), { applied: 0, failed: 1 });
      // Fixed: retry applies them and they leave the DLQ; b holds the runs.
      await setNamespaceState(r.b, poisoned.id, 'registered');
      assert.deepEqual(await retry(), { applied: 8, failed: 0 });
      assert.deepEqual((await list()).entries, []);
      await converge(r.a, r.b, 5_000);
      assert.equal(await metricValue(r.b, 'tandem_replication_dlq_tasks'), 0);

      // Purge drops entries without applying them.
      const poisoned2 = await r.globalNamespace(undefined, { inB: false });
      await workload(poisoned2, 1, 'poison2');
      for (let i = 0; i < 50 && (await list()).entries.length < 4; i++) await new Promise((res) => setTimeout(res, 100));
      // The operator's view: `tandem dlq list` against b's frontend.
      const { stdout } = await run(process.execPath, [TANDEM, 'dlq', 'list', '--address', r.b.address]);
      const listed = stdout.trim().split('\n').map((l) => JSON.parse(l) as { namespaceId: string; source: string });
      assert.equal(listed.length, 4);
      assert.ok(listed.every((e) => e.namespaceId === poisoned2.id && e.source === 'a'));
      assert.deepEqual(await purge(), { purged: 4 });
      assert.deepEqual((await list()).entries, []);
    } finally {
      admin.close();
    }
  });
});
