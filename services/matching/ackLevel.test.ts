import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckLevelTracker } from './ackLevel.js';

test('the ack level stops below the oldest unfinished task', () => {
  const t = new AckLevelTracker(10n);
  assert.equal(t.ackLevel, 10n);
  for (const id of [12n, 15n, 20n]) t.loaded(id);
  assert.equal(t.ackLevel, 11n);
  t.finish(15n);
  assert.equal(t.ackLevel, 11n, 'a later task finishing does not move it');
  assert.equal(t.outstanding, 2);
  t.finish(12n);
  assert.equal(t.ackLevel, 19n);
  t.finish(20n);
  assert.equal(t.ackLevel, 20n);
  assert.equal(t.outstanding, 0);
});

test('ids read past without a task count as done', () => {
  const t = new AckLevelTracker(0n);
  t.readUpTo(100n);
  assert.equal(t.ackLevel, 100n);
  t.loaded(150n);
  t.readUpTo(200n);
  assert.equal(t.ackLevel, 149n);
  t.finish(150n);
  assert.equal(t.ackLevel, 200n);
  assert.throws(() => t.loaded(200n), /read level/);
});
