// CPU windows from readings: pure arithmetic over a probe that returns fixed readings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureCpu, msPer, otherCores } from './cpu.js';

test('a CPU window is the difference of two readings, per party, and per unit of work', async () => {
  const readings = [{ server: 1.5, cassandra: 10 }, { server: 2.0, cassandra: 12.5 }];
  const { result, cpu } = await measureCpu(() => readings.shift()!, async () => 'done');
  assert.equal(result, 'done');
  assert.deepEqual(cpu.seconds, { server: 0.5, cassandra: 2.5 });
  assert.deepEqual(msPer(cpu, 100), { server: 5, cassandra: 25 });
  assert.ok(Number.isNaN(msPer(cpu, 0).server!), 'no work done: no per-unit figure');
});

test('the other cores are what the machine spent beyond every party read', () => {
  assert.equal(otherCores({ seconds: { server: 2, bench: 1, machine: 7 }, wallSeconds: 2 }), 2);
  assert.equal(otherCores({ seconds: { server: 2 }, wallSeconds: 2 }), undefined, 'no machine reading: unknown');
});
