// Schedules end to end with the official client's schedule API against `tandem dev`: fast
// intervals fire on time, overlap policies, pause, trigger, backfill, update with its conflict
// token, Describe (recent and future actions, canonical spec), List, delete. Timings are printed,
// not asserted tightly: the machine is shared.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleHandle } from '@temporalio/client';
import { enums } from '../services/common/temporal.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import referenceMatchingTimes from './fixtures/schedule-matching-times.reference.json' with { type: 'json' };
import { eventually, storesUnderTest } from './harness.js';
import { workerSuite } from './worker-suite.js';

const NAMESPACE = 'default';
const TEST_TIMEOUT_MS = 60_000;

Runtime.install({ logger: new DefaultLogger('ERROR') });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isoSecond = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

for (const kind of storesUnderTest()) {
  describe(`schedules on ${kind}`, () => {
    const taskQueue = `sched-${randomUUID()}`;
    const suite = workerSuite(kind, { namespace: NAMESPACE, taskQueue });

    /** A schedule starting `napper(napMs)` runs, named `<prefix>-<id>-<nominal time>`. */
    const create = (prefix: string, every: string, napMs: number, extra: Record<string, unknown> = {}): Promise<ScheduleHandle> => {
      const id = `${prefix}-${randomUUID().slice(0, 8)}`;
      return suite.client.schedule.create({
        scheduleId: id,
        spec: { intervals: [{ every }] },
        action: { type: 'startWorkflow', workflowType: 'napper', args: [napMs], taskQueue, workflowId: id },
        ...extra,
      } as never);
    };

    const actionsTaken = async (h: ScheduleHandle) => (await h.describe()).info.numActionsTaken;

    test('a 2 s interval fires on time; describe shows recent and future actions, memo and the runs it started', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await create('fire', '2s', 10, { policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL }, memo: { team: 'payments' } });
      const d = await eventually('three actions', async () => {
        const d = await h.describe();
        return d.info.recentActions.length >= 3 ? d : undefined;
      }, 20_000);
      const lateness = d.info.recentActions.map((a) => a.takenAt.getTime() - a.scheduledAt.getTime());
      console.log(`schedule lateness (ms) of ${h.scheduleId}: ${lateness.join(', ')}`);
      for (const a of d.info.recentActions) {
        assert.equal(a.scheduledAt.getTime() % 2000, 0, 'nominal times on the 2 s grid');
        assert.equal(a.action.workflow.workflowId, `${h.scheduleId}-${isoSecond(a.scheduledAt.getTime())}`);
      }
      assert.ok(lateness.every((ms) => ms >= 0 && ms < 5000), `lateness within bounds: ${lateness.join(', ')}`);
      assert.equal(d.info.nextActionTimes.length, 10);
      assert.equal(d.info.nextActionTimes[1]!.getTime() - d.info.nextActionTimes[0]!.getTime(), 2000);
      assert.deepEqual(d.memo, { team: 'payments' });
      const first = d.info.recentActions[0]!.action.workflow;
      const run = await suite.client.workflow.getHandle(first.workflowId, first.firstExecutionRunId).describe();
      assert.deepEqual(run.searchAttributes.TemporalScheduledById, [h.scheduleId]);
      assert.equal(new Date(String(run.searchAttributes.TemporalScheduledStartTime?.[0])).getTime(), d.info.recentActions[0]!.scheduledAt.getTime());
      await h.delete();
    });

    test('overlap SKIP skips while its action runs; ALLOW_ALL overlaps', { timeout: TEST_TIMEOUT_MS }, async () => {
      const skip = await create('skip', '1s', 4000, { policies: { overlap: ScheduleOverlapPolicy.SKIP } });
      const all = await create('all', '1s', 4000, { policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL } });
      await sleep(3600);
      const [ds, da] = await Promise.all([skip.describe(), all.describe()]);
      console.log(`SKIP: taken ${ds.info.numActionsTaken}, skipped ${ds.info.numActionsSkippedOverlap}; ALLOW_ALL: taken ${da.info.numActionsTaken}`);
      assert.equal(ds.info.numActionsTaken, 1);
      assert.ok(ds.info.numActionsSkippedOverlap >= 1);
      assert.equal(ds.info.runningActions.length, 1);
      assert.ok(da.info.numActionsTaken >= 3, `ALLOW_ALL took ${da.info.numActionsTaken}`);
      await Promise.all([skip.delete(), all.delete()]);
    });

    test('BUFFER_ONE starts the buffered time once the running action closes', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await create('buffer', '1s', 2500, { policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE } });
      const d = await eventually('two actions', async () => {
        const d = await h.describe();
        return d.info.recentActions.length >= 2 ? d : undefined;
      }, 15_000);
      const [first, second] = d.info.recentActions;
      const gap = second!.takenAt.getTime() - first!.takenAt.getTime();
      console.log(`BUFFER_ONE: second action ${gap} ms after the first (which naps 2500 ms), skipped ${d.info.numActionsSkippedOverlap}`);
      assert.ok(gap >= 2500, 'the buffered start waited for the running action');
      assert.ok(second!.takenAt.getTime() - second!.scheduledAt.getTime() >= 1000, 'a buffered time, started late');
      await h.delete();
    });

    test('pause stops firing and shows its note; unpause resumes', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await create('pause', '1s', 10);
      await eventually('first action', async () => ((await actionsTaken(h)) >= 1 ? true : undefined), 10_000);
      await h.pause('maintenance window');
      const paused = await h.describe();
      assert.equal(paused.state.paused, true);
      assert.equal(paused.state.note, 'maintenance window');
      const n = paused.info.numActionsTaken;
      await sleep(2500);
      assert.equal(await actionsTaken(h), n);
      await h.unpause('back');
      await eventually('firing again', async () => ((await actionsTaken(h)) > n ? true : undefined), 10_000);
      const listed = await eventually('paused search attribute cleared', async () => {
        for await (const s of suite.client.schedule.list()) if (s.scheduleId === h.scheduleId && !s.state.paused) return s;
        return undefined;
      });
      assert.equal(listed.state.note, 'back');
      await h.delete();
    });

    test('each action gets the last completion result; pause on failure pauses at the first failed action', { timeout: TEST_TIMEOUT_MS }, async () => {
      const id = `counter-${randomUUID().slice(0, 8)}`;
      const h = await suite.client.schedule.create({
        scheduleId: id,
        spec: { intervals: [{ every: '1s' }] },
        action: { type: 'startWorkflow', workflowType: 'scheduledCounter', args: [3], taskQueue, workflowId: id },
        policies: { pauseOnFailure: true, overlap: ScheduleOverlapPolicy.BUFFER_ONE },
      });
      const paused = await eventually(`${id} paused by its failed action`, async () => {
        const d = await h.describe();
        return d.state.paused ? d : undefined;
      });
      assert.match(paused.state.note ?? '', /^paused due to workflow failure: counter-.*: Failed$/);
      const runs = paused.info.recentActions.map((a) => suite.client.workflow.getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId));
      assert.deepEqual(await runs[0]!.result(), 1);
      assert.deepEqual(await runs[1]!.result(), 2, 'the second action counted on from the first one\'s result');
      await assert.rejects(runs[2]!.result(), (err: Error) => /planned failure at action 3/.test(String(err.cause)));
      await sleep(2500);
      assert.equal((await h.describe()).info.numActionsTaken, paused.info.numActionsTaken, 'no action while paused');
      await h.delete();
    });

    test('trigger and backfill start the runs they name, even while paused', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await create('manual', '10s', 10, { state: { paused: true }, policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL } });
      await h.trigger();
      await eventually('triggered run', async () => ((await actionsTaken(h)) === 1 ? true : undefined), 10_000);
      const end = Math.floor(Date.now() / 10_000) * 10_000 - 10_000;
      const start = end - 20_000;
      await h.backfill({ start: new Date(start), end: new Date(end), overlap: ScheduleOverlapPolicy.ALLOW_ALL });
      const expected = [start, start + 10_000, end].map((t) => `${h.scheduleId}-${isoSecond(t)}`);
      for (const id of expected) {
        await eventually(`backfilled ${id}`, async () => (await suite.client.workflow.getHandle(id).describe()).workflowId);
      }
      assert.equal(await actionsTaken(h), 4);
      await h.delete();
    });

    test('update changes the interval under the conflict token, a stale token is refused; search attributes and memo update too', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await create('update', '1h', 10);
      await h.update((prev) => ({ ...prev, spec: { intervals: [{ every: '1s' }] } }));
      await eventually('fires at the new interval', async () => ((await actionsTaken(h)) >= 2 ? true : undefined), 10_000);
      const d = await h.describe();
      assert.equal(d.spec.intervals?.[0]?.every, 1000);
      await assert.rejects(
        suite.client.workflowService.updateSchedule({ namespace: NAMESPACE, scheduleId: h.scheduleId, schedule: d.raw.schedule, conflictToken: Buffer.from('0') }),
        (err: { code?: number }) => err.code === status.FAILED_PRECONDITION,
      );
      // The schedule's own search attributes and memo change with an update too.
      await suite.client.connection.operatorService.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: { ScheduleOwner: enums.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD } });
      const json = (v: unknown) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) });
      await suite.client.workflowService.updateSchedule({
        namespace: NAMESPACE,
        scheduleId: h.scheduleId,
        schedule: d.raw.schedule,
        conflictToken: d.raw.conflictToken,
        memo: { fields: { owner: json('ops') } },
        searchAttributes: { indexedFields: { ScheduleOwner: json('ops') } },
      });
      await eventually('memo and search attributes updated', async () => {
        const now = await h.describe();
        return now.memo?.owner === 'ops' && (now.searchAttributes.ScheduleOwner as string[] | undefined)?.[0] === 'ops' ? true : undefined;
      }, 10_000);
      await h.delete();
    });

    test('a cron string is described as a structured calendar', { timeout: TEST_TIMEOUT_MS }, async () => {
      const id = `cron-${randomUUID().slice(0, 8)}`;
      const h = await suite.client.schedule.create({
        scheduleId: id,
        spec: { cronExpressions: ['30 12 * * MON'] },
        action: { type: 'startWorkflow', workflowType: 'napper', args: [10], taskQueue, workflowId: id },
        state: { paused: true },
      });
      const d = await h.describe();
      assert.deepEqual(d.raw.schedule?.spec?.cronString ?? [], []);
      assert.ok((d.spec.calendars?.length ?? 0) >= 1, `calendars: ${JSON.stringify(d.spec)}`);
      await h.delete();
    });

    test('every kind of spec is created and described: calendars, intervals with phase, cron, time zone, jitter, bounds, exclusions', { timeout: TEST_TIMEOUT_MS }, async () => {
      const id = `kinds-${randomUUID().slice(0, 8)}`;
      const startAt = new Date(Date.now() - 86_400_000);
      const endAt = new Date(Date.now() + 30 * 86_400_000);
      const h = await suite.client.schedule.create({
        scheduleId: id,
        spec: {
          calendars: [{ hour: 9, minute: 30, dayOfWeek: ['MONDAY', 'WEDNESDAY'], comment: 'standup' }],
          intervals: [{ every: '1h', offset: '15m' }],
          cronExpressions: ['0 0 1 * *'],
          skip: [{ month: 'DECEMBER', dayOfMonth: 25 }],
          timezone: 'Europe/Berlin',
          jitter: '10s',
          startAt,
          endAt,
        },
        action: { type: 'startWorkflow', workflowType: 'napper', args: [10], taskQueue, workflowId: id },
        state: { paused: true },
      });
      const d = await h.describe();
      assert.equal(d.spec.timezone, 'Europe/Berlin');
      assert.equal(d.spec.jitter, 10_000);
      assert.deepEqual(d.spec.intervals, [{ every: 3_600_000, offset: 900_000 }]);
      assert.ok((d.spec.calendars?.length ?? 0) >= 2, 'the calendar and the cron string, as calendars');
      assert.equal(d.spec.startAt?.getTime(), startAt.getTime());
      const now = Date.now();
      const res = (await suite.client.workflowService.listScheduleMatchingTimes({
        namespace: NAMESPACE,
        scheduleId: id,
        startTime: { seconds: Math.floor(now / 1000) as never },
        endTime: { seconds: (Math.floor(now / 1000) + 7 * 86_400) as never },
      })) as { startTime?: { seconds?: unknown }[] | null };
      const times = (res.startTime ?? []).map((t) => Number(t.seconds) * 1000);
      assert.ok(times.length >= 7 * 24, `hourly times and more in a week: ${times.length}`);
      assert.ok(times.every((t, i) => t >= now - 1000 && (i === 0 || t >= times[i - 1]!)), 'ascending, in range');
      await h.delete();
    });

    test('daylight-saving shifts and jitter: ListScheduleMatchingTimes lists what the reference server lists', { timeout: TEST_TIMEOUT_MS }, async () => {
      const ts = (iso: string) => ({ seconds: Math.floor(Date.parse(iso) / 1000) as never });
      const matching = async (spec: unknown, [from, to]: string[]): Promise<string[]> => {
        const scheduleId = `matching-${randomUUID().slice(0, 8)}`;
        await suite.client.workflowService.createSchedule({
          namespace: NAMESPACE,
          scheduleId,
          requestId: scheduleId,
          schedule: { spec: spec as never, action: { startWorkflow: { workflowId: scheduleId, workflowType: { name: 'napper' }, taskQueue: { name: taskQueue } } }, state: { paused: true } },
        });
        const res = await suite.client.workflowService.listScheduleMatchingTimes({ namespace: NAMESPACE, scheduleId, startTime: ts(from!), endTime: ts(to!) });
        await suite.client.workflowService.deleteSchedule({ namespace: NAMESPACE, scheduleId });
        return (res.startTime ?? []).map((t) => new Date(Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6).toISOString());
      };
      for (const c of referenceMatchingTimes.cases) assert.deepEqual(await matching(c.spec, c.window), c.expected, c.name);
      // Jitter is seeded by the schedule (the reference's seed includes its namespace id), so only its bounds compare.
      const { spec, window } = referenceMatchingTimes.jitter;
      const jittered = (await matching(spec, window)).map((t) => Date.parse(t));
      const hour = 3_600_000;
      const nominal = jittered.map((t) => Math.floor(t / hour) * hour);
      assert.deepEqual(nominal.map((t) => new Date(t).getUTCHours()), [1, 2, 3, 4, 5], 'nominal times strictly after the start');
      assert.ok(jittered.every((t, i) => t - nominal[i]! < 600_000), `within 10 min of their nominal time: ${jittered.map((t) => new Date(t).toISOString())}`);
      assert.ok(new Set(jittered.map((t, i) => t - nominal[i]!)).size > 1, 'jitter varies between times');
    });

    test('create twice is refused; list shows schedules and a workflow list does not; delete stops it', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await create('listed', '1s', 10);
      await assert.rejects(
        suite.client.schedule.create({
          scheduleId: h.scheduleId,
          spec: { intervals: [{ every: '1s' }] },
          action: { type: 'startWorkflow', workflowType: 'napper', args: [10], taskQueue, workflowId: 'other' },
        }),
        ScheduleAlreadyRunning,
      );
      const summary = await eventually('listed', async () => {
        for await (const s of suite.client.schedule.list()) if (s.scheduleId === h.scheduleId) return s;
        return undefined;
      });
      assert.equal(summary.action?.workflowType, 'napper');
      for await (const wf of suite.client.workflow.list()) assert.ok(!wf.workflowId.startsWith('temporal-sys-scheduler:'), wf.workflowId);
      await eventually('an action', async () => ((await actionsTaken(h)) >= 1 ? true : undefined), 10_000);
      await h.delete();
      await assert.rejects(h.describe(), ScheduleNotFoundError);
      const count = async () => (await suite.client.workflow.count(`TemporalScheduledById = '${h.scheduleId}'`)).count;
      const atDelete = await eventually('runs listed', async () => ((await count()) >= 1 ? count() : undefined));
      await sleep(2500);
      assert.ok((await count()) <= atDelete + 1, 'no runs after delete');
    });
  });
}
