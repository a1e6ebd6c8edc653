import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TASK_ID, compareKeys, successor } from './task-key.js';

test('the successor of a key comes right after it and stays a signed 64-bit id the stores can bind', () => {
  for (const k of [{ visibilityTimeMs: 5, taskId: 7n }, { visibilityTimeMs: 5, taskId: MAX_TASK_ID }]) {
    const next = successor(k);
    assert.equal(compareKeys(k, next), -1);
    assert.ok(next.taskId >= -(1n << 63n) && next.taskId <= MAX_TASK_ID, `${next.taskId} fits in int64`);
  }
  // A timer window's end (its millisecond's last id): the next millisecond's first key.
  assert.equal(successor({ visibilityTimeMs: 5, taskId: MAX_TASK_ID }).visibilityTimeMs, 6);
});
