// Smoke test of the region benchmark: one history node, then three, each a fresh region of
// separate processes on the test Cassandra and Redis, 5 workflows per mode. Counts only; timings
// are reported, never asserted.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { formatRegionTable, parseRegionCommandLine, regionDefaults, runRegionBench } from './region.js';

before(() => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
});

test('one and three history nodes each run 5 workflows per mode with no errors', { timeout: 300_000 }, async () => {
  // 16 shards, not the production count: the smoke test checks the wiring, quickly.
  const numShards = 16;
  const report = await runRegionBench({ ...regionDefaults, nodes: [1, 3], numShards, workflows: { start: 5, complete: 5 }, concurrency: 2, warmup: 0, log: () => {} });
  assert.deepEqual(
    report.runs.map((r) => r.historyNodes),
    [1, 3],
  );
  for (const run of report.runs) {
    assert.equal(Object.keys(run.shardsOwned).length, run.historyNodes);
    assert.equal(
      Object.values(run.shardsOwned).reduce((a, b) => a + b, 0),
      numShards,
      `${run.historyNodes} node(s): every shard owned`,
    );
    assert.deepEqual(
      run.phases.map((p) => p.result.mode),
      ['start', 'complete'],
    );
    for (const { result: r } of run.phases) {
      const what = `${run.historyNodes} node(s), ${r.mode}`;
      assert.deepEqual(r.errorSamples, [], what);
      assert.equal(r.errors, 0, what);
      assert.equal(r.completed, 5, what);
      assert.equal(r.partial, false, what);
      assert.equal(r.spawned, false, `${what}: driven through the region's frontend`);
      for (const party of ['frontend', 'matching', 'history']) assert.ok(party in r.cpuMsPerWorkflow, `${what}: ${party} CPU read`);
    }
  }
  assert.deepEqual(
    report.ratios.map((r) => [r.mode, r.over]),
    [
      ['start', [3, 1]],
      ['complete', [3, 1]],
    ],
  );
  assert.match(formatRegionTable(report), /ratio 3\/1/);
});

test('the command line sets both modes or one, and refuses bad values', () => {
  assert.deepEqual(parseRegionCommandLine(['--workflows', '7']).workflows, { start: 7, complete: 7 });
  const o = parseRegionCommandLine(['--start-workflows', '0', '--nodes', '1,3,3,1', '--warmup', '0', '--shards', '64']);
  assert.deepEqual([o.workflows, o.nodes, o.warmup, o.numShards], [{ start: 0, complete: regionDefaults.workflows.complete }, [1, 3, 3, 1], 0, 64]);
  assert.throws(() => parseRegionCommandLine(['--nodes', '1,x']), /positive integer/);
  assert.throws(() => parseRegionCommandLine(['--workflows', '0']), /positive integer/);
  assert.throws(() => parseRegionCommandLine(['--start-workflows', '0', '--complete-workflows', '0']), /nothing to measure/);
});
