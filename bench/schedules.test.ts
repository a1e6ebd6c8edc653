// Smoke test of the schedules benchmark: 20 schedules every 2 s on SQLite, a 4 s window. Counts
// and wiring only; lateness is reported, never asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatScheduleTable, parseScheduleCommandLine, runScheduleBench, scheduleDefaults } from './schedules.js';

test('each count gets a fresh server; every due firing of the window is found fired or missed', { timeout: 180_000 }, async () => {
  const report = await runScheduleBench({ ...scheduleDefaults, stores: ['sqlite'], schedules: [20], everySeconds: 2, windowSeconds: 4, concurrency: 8, log: () => {} });
  const [run] = report.runs;
  assert.equal(run!.due, 40, 'two due times per schedule in the window');
  assert.equal(run!.fired + run!.missed, run!.due);
  assert.ok(run!.fired > 0, JSON.stringify(run));
  assert.match(formatScheduleTable(report), /sqlite +20 /);
});

test('the command line takes lists of counts and refuses a window the recent actions cannot hold', async () => {
  const o = parseScheduleCommandLine(['--schedules', '500,2000', '--every-seconds', '10', '--window-seconds', '60']);
  assert.deepEqual([o.stores, o.schedules, o.everySeconds, o.windowSeconds], [['sqlite'], [500, 2000], 10, 60]);
  assert.throws(() => parseScheduleCommandLine(['--schedules', '0']), /positive integer/);
  await assert.rejects(runScheduleBench({ ...o, windowSeconds: 100, log: () => {} }), /at most 8/);
});
