// Smoke test of the sync replication bench: one async and one sync round of a few starts on two
// in-process SQLite regions. Counts only; timings are reported, never asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, parseCommandLine, runSyncReplication, syncReplicationDefaults } from './sync-replication.js';

test('an async and a sync round of 5 starts: all acknowledged, the sync ones each waited for b', { timeout: 180_000 }, async () => {
  const r = await runSyncReplication({ ...syncReplicationDefaults, workflows: 5, concurrency: 2, rounds: 1, maxSeconds: 60 });
  assert.deepEqual(r.rounds.map((x) => [x.mode, x.done, x.errors, x.syncTimeouts]), [['async', 5, 0, 0], ['sync', 5, 0, 0]]);
  assert.deepEqual(r.rounds.map((x) => x.syncWaits), [0, 5]);
  assert.match(formatReport(r), /sync +5 +2 +5/);
});

test('the command line takes counts and refuses bad values', () => {
  const o = parseCommandLine(['--workflows', '7', '--rounds', '3']);
  assert.deepEqual([o.workflows, o.rounds, o.concurrency], [7, 3, syncReplicationDefaults.concurrency]);
  assert.throws(() => parseCommandLine(['--rounds', '0']), /positive integer/);
});
