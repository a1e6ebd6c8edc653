import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lagFromSamples } from './replication-lag.js';

test("a source's lag per target: the worst shard's seconds, the sum of its shards' tasks; other sources ignored", () => {
  const s = (shard: number, source: string, target: string, value: number) => ({ labels: { shard: String(shard), source, target }, value });
  const seconds = [s(0, 'a', 'b', 0.2), s(1, 'a', 'b', 1.5), s(0, 'b', 'a', 9), s(0, 'a', 'c', 0)];
  const tasks = [s(0, 'a', 'b', 3), s(1, 'a', 'b', 4), s(0, 'b', 'a', 100)];
  assert.deepEqual(lagFromSamples(seconds, tasks, 'a'), [
    { target: 'b', tasks: 7, seconds: 1.5 },
    { target: 'c', tasks: 0, seconds: 0 },
  ]);
  assert.deepEqual(lagFromSamples(seconds, tasks, 'z'), []);
});
