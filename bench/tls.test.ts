// Smoke test of the TLS bench: one plain and one tls round of a few starts on two `tandem dev`
// servers of two SQLite regions each. Counts only; timings are reported, never asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, parseCommandLine, runTlsBench, tlsBenchDefaults } from './tls.js';

test('a plain and a tls round of 5 starts: all acknowledged', { timeout: 240_000 }, async () => {
  const r = await runTlsBench({ ...tlsBenchDefaults, workflows: 5, concurrency: 2, rounds: 1, maxSeconds: 60 });
  assert.deepEqual(r.rounds.map((x) => [x.mode, x.done, x.errors]), [['plain', 5, 0], ['tls', 5, 0]]);
  assert.match(formatReport(r), /tls +5 +2 +5/);
});

test('the command line takes counts and refuses bad values', () => {
  const o = parseCommandLine(['--workflows', '7', '--rounds', '3']);
  assert.deepEqual([o.workflows, o.rounds, o.concurrency], [7, 3, tlsBenchDefaults.concurrency]);
  assert.throws(() => parseCommandLine(['--rounds', '0']), /positive integer/);
});
