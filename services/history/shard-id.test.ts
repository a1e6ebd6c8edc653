import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shardIdFor } from './shard-id.js';

test('shard ids are stable, in range and spread', () => {
  assert.equal(shardIdFor('ns', 'wf', 16), shardIdFor('ns', 'wf', 16));
  const counts = new Array(16).fill(0);
  for (let i = 0; i < 16_000; i++) counts[shardIdFor('ns', `wf-${i}`, 16)]++;
  assert.ok(counts.every((c) => c > 700 && c < 1300), JSON.stringify(counts));
});
