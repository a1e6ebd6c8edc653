// The profiler switch of the launchers: nothing without TANDEM_CPU_PROF_DIR, a folder per process with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { CPU_PROF_DIR_ENV, cpuProfileFlags } from './cpu-profile.js';

test('node is profiled only when TANDEM_CPU_PROF_DIR names a folder, each process in a folder of its own', () => {
  assert.deepEqual(cpuProfileFlags('a-history-1', {}), []);
  assert.deepEqual(cpuProfileFlags('a-history-1', { [CPU_PROF_DIR_ENV]: 'prof' }), ['--cpu-prof', '--cpu-prof-dir', path.resolve('prof', 'a-history-1')]);
});
