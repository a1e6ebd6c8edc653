import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Task } from '../../proto/gen/tandem/internal/v1/common.js';
import type { AddTaskRequest } from './api.js';
import { taskFromWire, taskToWire } from './task-wire.js';

test('a task crosses the wire with its pinned version and its priority', () => {
  const task: AddTaskRequest = {
    taskQueue: { namespaceId: 'ns', name: 'orders', type: 2, kind: 1 },
    workflowId: 'wf',
    runId: 'run',
    scheduledEventId: 5,
    scheduleToStartTimeoutMs: 1500,
    pinnedVersion: { deploymentName: 'd', buildId: 'b1' },
    priority: { priorityKey: 1, fairnessKey: 'tenant-7', fairnessWeight: 2.5 },
  };
  assert.deepEqual(taskFromWire(Task.decode(Task.encode(taskToWire(task)).finish())), task);
  const { pinnedVersion: _v, priority: _p, ...bare } = task;
  assert.deepEqual(taskFromWire(Task.decode(Task.encode(taskToWire(bare)).finish())), bare, 'none set: none comes back');
});
