// Smoke test of the load generator: a tiny run of each mode on a spawned SQLite server. It checks
// the counts only; timings are reported, never asserted.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { formatTable, loadDefaults, parseCommandLine, runLoad, type Mode } from './load.js';

before(() => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
});

for (const mode of ['start', 'complete'] as Mode[]) {
  test(`${mode} mode reports 5 of 5 workflows done on SQLite`, { timeout: 120_000 }, async () => {
    const r = await runLoad({ ...loadDefaults, store: 'sqlite', mode, workflows: 5, concurrency: 2, maxSeconds: 60 });
    assert.deepEqual(r.errorSamples, []);
    assert.equal(r.errors, 0);
    assert.equal(r.completed, 5);
    assert.equal(r.unfinished, 0);
    assert.equal(r.partial, false);
    assert.equal(r.spawned, true);
    // The spawned server's own CPU time, and this process's, were read around the loop.
    assert.deepEqual(Object.keys(r.cpuMsPerWorkflow).filter((p) => p !== 'machine'), ['server', 'bench']);
    assert.match(formatTable([r]), new RegExp(`sqlite +${mode} +5 +2 +5 +0 +no`));
  });
}

test('start mode with --auth starts 5 of 5 with the server\'s admin key', { timeout: 120_000 }, async () => {
  const r = await runLoad({ ...loadDefaults, store: 'sqlite', mode: 'start', workflows: 5, concurrency: 2, maxSeconds: 60, auth: true });
  assert.deepEqual(r.errorSamples, []);
  assert.equal(r.completed, 5);
  assert.equal(parseCommandLine(['--auth'])[0]!.auth, true);
  assert.equal(parseCommandLine([])[0]!.auth, false);
  await assert.rejects(runLoad({ ...loadDefaults, store: 'sqlite', mode: 'complete', workflows: 1, concurrency: 1, maxSeconds: 1, auth: true }), /start mode on a spawned server only/);
});

test('the command line gives one run per store and refuses bad values', () => {
  const runs = parseCommandLine(['--store', 'both', '--workflows', '7', '--concurrency', '3', '--mode', 'complete']);
  assert.deepEqual(
    runs.map((r) => [r.store, r.mode, r.workflows, r.concurrency, r.maxSeconds]),
    [
      ['sqlite', 'complete', 7, 3, 120],
      ['cassandra', 'complete', 7, 3, 120],
    ],
  );
  assert.throws(() => parseCommandLine(['--workflows', '0']), /positive integer/);
  assert.throws(() => parseCommandLine(['--mode', 'fast']), /one of start, complete/);
  assert.throws(() => parseCommandLine(['--store', 'both', '--address', '127.0.0.1:7233']), /cannot be combined/);
});
