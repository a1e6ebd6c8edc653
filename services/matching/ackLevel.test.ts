import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckLevelTracker } from './ackLevel.js';

const L = (pass: bigint, taskId: bigint) => ({ pass, taskId });

test('the ack level is the last task finished in level order, never past an unfinished one', () => {
  const t = new AckLevelTracker(L(0n, 10n));
  // A higher pass comes later whatever its id.
  for (const l of [L(0n, 12n), L(0n, 15n), L(1000n, 5n)]) t.add(l);
  t.setReadLevel(L(1000n, 5n));
  assert.deepEqual(t.ackLevel, L(0n, 10n));
  t.finish(L(0n, 15n));
  assert.deepEqual(t.ackLevel, L(0n, 10n), 'a later task finishing does not move it');
  t.finish(L(0n, 12n));
  assert.deepEqual(t.ackLevel, L(0n, 15n));
  t.finish(L(1000n, 5n));
  assert.deepEqual(t.ackLevel, L(1000n, 5n));
  assert.equal(t.has(15n), false, 'tasks behind the ack level are forgotten');
});

test('levels read past without a task count as done', () => {
  const t = new AckLevelTracker(L(0n, 0n));
  t.setReadLevel(L(100n, 7n));
  assert.deepEqual(t.ackLevel, L(100n, 7n));
  t.add(L(150n, 3n));
  t.setReadLevel(L(200n, 1n));
  assert.deepEqual(t.ackLevel, L(100n, 7n));
  t.finish(L(150n, 3n));
  assert.deepEqual(t.ackLevel, L(200n, 1n));
});

test('a task written below the read level holds the ack level back until it is done or removed', () => {
  const t = new AckLevelTracker(L(0n, 0n));
  t.add(L(0n, 1n));
  t.add(L(2000n, 2n));
  t.setReadLevel(L(2000n, 2n));
  t.add(L(1000n, 3n));
  t.finish(L(0n, 1n));
  t.finish(L(2000n, 2n));
  assert.deepEqual(t.ackLevel, L(0n, 1n));
  t.remove(L(1000n, 3n));
  assert.deepEqual(t.ackLevel, L(2000n, 2n), 'a failed write no longer holds it');
});

test('a read level lowered (tasks let go, to be read again) keeps the done and started tasks above it known', () => {
  const t = new AckLevelTracker(L(0n, 0n));
  for (const l of [L(0n, 1n), L(5n, 2n), L(9n, 3n)]) t.add(l);
  t.setReadLevel(L(9n, 3n));
  t.finish(L(9n, 3n));
  t.finish(L(0n, 1n));
  t.letGo([L(5n, 2n)], L(0n, 1n));
  assert.equal(t.has(3n), true, 'a re-read skips the done task');
  assert.equal(t.has(2n), false, 'and reads the let-go one again');
  assert.deepEqual(t.ackLevel, L(0n, 1n), 'not past the let-go task, which is not read yet');
  t.add(L(5n, 2n));
  t.setReadLevel(L(9n, 3n));
  t.finish(L(5n, 2n));
  assert.deepEqual(t.ackLevel, L(9n, 3n));
});
