// Smoke test of the side-by-side bench: Tandem as one process on both stores, 5 starts and 2
// completed workflows each. Counts and wiring only; CPU and timings are reported, never asserted.
// (The region and the reference server have their own smoke tests or need the `temporal` CLI.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSideBySide, parseSideBySideCommandLine, runSideBySide } from './side-by-side.js';

test('each target gets its load; per-workflow CPU comes from every process of the target', { timeout: 240_000 }, async () => {
  const report = await runSideBySide({ workflows: { start: 5, complete: 2 }, warmup: 0, concurrency: 2, maxSeconds: 60, temporalCli: null, targets: ['tandem one process'], log: () => {} });
  assert.deepEqual(
    report.runs.map((r) => [r.target, r.store, r.mode, r.result.completed]),
    [
      ['tandem one process', 'sqlite', 'start', 5],
      ['tandem one process', 'sqlite', 'complete', 2],
      ['tandem one process', 'cassandra', 'start', 5],
      ['tandem one process', 'cassandra', 'complete', 2],
    ],
  );
  assert.ok(report.runs.every((r) => r.serverMsPerWorkflow > 0), JSON.stringify(report.runs.map((r) => r.serverMsPerWorkflow)));
  assert.match(formatSideBySide(report), /tandem one process +sqlite +start/);
});

test('the command line picks targets and counts', () => {
  const o = parseSideBySideCommandLine(['--targets', 'one,reference', '--starts', '100', '--completes', '0']);
  assert.deepEqual([o.targets, o.workflows], [['tandem one process', 'reference start-dev'], { start: 100, complete: 0 }]);
  assert.throws(() => parseSideBySideCommandLine(['--targets', 'mars']), /one, up and reference/);
});
