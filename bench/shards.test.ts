// Smoke test of the shard-count benchmark: two small shard counts on SQLite, the first loaded with
// 5 starts. Counts and wiring only; timings are reported, never asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatShardTable, parseShardCommandLine, runShardBench, shardDefaults } from './shards.js';

test('each shard count gets a fresh server, timed to all shards owned, measured idle, and loaded when asked', { timeout: 180_000 }, async () => {
  const report = await runShardBench({ ...shardDefaults, stores: ['sqlite'], shards: [2, 8], loadShards: [2], idleSeconds: 1, workflows: 5, warmup: 0, concurrency: 2, log: () => {} });
  assert.deepEqual(
    report.runs.map((r) => [r.store, r.numShards, r.load?.completed, r.load?.errors]),
    [
      ['sqlite', 2, 5, 0],
      ['sqlite', 8, undefined, undefined],
    ],
  );
  for (const r of report.runs) {
    assert.ok(r.startupSeconds > 0 && r.rssMb.idle > 0, JSON.stringify(r));
    assert.ok('server' in r.idle.msPerSecond, 'the server process is read');
  }
  assert.ok('server' in report.runs[0]!.load!.cpuMsPerWorkflow);
  assert.match(formatShardTable(report), /sqlite +8 /);
});

test('the command line takes lists of shard counts and refuses bad ones', () => {
  const o = parseShardCommandLine(['--store', 'sqlite', '--shards', '16,1024', '--load-shards', '16', '--warmup', '0']);
  assert.deepEqual([o.stores, o.shards, o.loadShards, o.warmup, o.idleSeconds], [['sqlite'], [16, 1024], [16], 0, shardDefaults.idleSeconds]);
  assert.deepEqual(parseShardCommandLine([]).stores, ['sqlite', 'cassandra']);
  assert.throws(() => parseShardCommandLine(['--shards', '16,0']), /positive integer/);
  assert.throws(() => parseShardCommandLine(['--store', 'mysql']), /one of sqlite, cassandra, both/);
});
