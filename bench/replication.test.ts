// Smoke test of the replication bench: a tiny run of both phases on a spawned two-region server.
// It checks the counts and that nothing was lost, duplicated or left different between the
// regions; timings are reported, never asserted.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { formatReport, parseCommandLine, replicationDefaults, runReplication } from './replication.js';

before(() => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
});

test('5 workflows replicate to b and 2 graceful failovers under load lose nothing', { timeout: 180_000 }, async () => {
  const r = await runReplication({ ...replicationDefaults, workflows: 5, concurrency: 2, failovers: 2, settleSeconds: 1, maxSeconds: 60 });
  assert.equal(r.lagLoad.errors, 0, r.lagLoad.errorSamples.join('; '));
  assert.equal(r.lagLoad.done, 5);
  assert.equal(r.lagMs.n, 5, 'every close was seen in both regions');
  assert.deepEqual(r.failovers.map((f) => `${f.from}->${f.to}`), ['a->b', 'b->a']);
  assert.equal(r.check.finalActive, 'a');
  // Lag-phase workflows, failover probes, and at least what the failover load acknowledged.
  assert.ok(r.check.workflows >= 5 + 2, `checked ${r.check.workflows}`);
  assert.deepEqual(r.check.lost, []);
  assert.deepEqual(r.check.duplicated, []);
  assert.deepEqual(r.check.diverged, []);
  assert.match(formatReport(r), /a -> b/);
});

test('the command line takes counts and refuses bad values', () => {
  const o = parseCommandLine(['--workflows', '7', '--failovers', '0', '--shards', '4']);
  assert.deepEqual([o.workflows, o.failovers, o.numShards, o.concurrency], [7, 0, 4, replicationDefaults.concurrency]);
  assert.throws(() => parseCommandLine(['--workflows', '0']), /positive integer/);
  assert.throws(() => parseCommandLine(['--failovers', 'two']), /positive integer/);
});
