import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fairnessStride, mergePriority, priorityLevel, priorityProblem, taskPriority } from './priority.js';

const p = (priorityKey: number, fairnessKey = '', fairnessWeight = 0) => ({ priorityKey, fairnessKey, fairnessWeight });

test('an own priority overrides its workflow\'s field by field; unset fields are inherited', () => {
  assert.deepEqual(mergePriority(p(2, 'tenant', 3), { fairnessWeight: 5 }), p(2, 'tenant', 5));
  assert.deepEqual(mergePriority(p(2, 'tenant', 3), p(1)), p(1, 'tenant', 3));
  assert.deepEqual(mergePriority(null, { priorityKey: 4 }), { priorityKey: 4 });
  assert.deepEqual(mergePriority(p(2), null), p(2));
  assert.equal(mergePriority(null, undefined), null);
});

test('the level: 0 is the default 3, keys past the last level wait in it', () => {
  assert.deepEqual([undefined, p(0), p(1), p(5), p(9)].map(priorityLevel), [3, 3, 1, 5, 5]);
  assert.deepEqual(taskPriority({ priorityKey: 2 }), p(2));
  assert.equal(taskPriority(null), undefined);
});

test('the stride shrinks as the weight grows; unset weighs 1', () => {
  assert.deepEqual([undefined, p(0, 'k', 0), p(0, 'k', 4), p(0, 'k', 1.5), p(0, 'k', 0.0001), p(0, 'k', 5000)].map(fairnessStride), [1000n, 1000n, 250n, 666n, 1_000_000n, 1n]);
});

test('a bad priority is named as the reference names it', () => {
  assert.equal(priorityProblem({ priorityKey: -1 }), "PriorityKey can't be negative");
  assert.equal(priorityProblem({ fairnessKey: 'k'.repeat(64) }), null, '64 bytes is the limit');
  assert.equal(priorityProblem({ fairnessKey: 'é'.repeat(33) }), 'FairnessKey length exceeds limit');
  assert.equal(priorityProblem({ fairnessWeight: -1 }), "FairnessWeight can't be negative");
  assert.equal(priorityProblem(null), null);
});
