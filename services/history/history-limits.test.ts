// Issue 13 part 4: a running workflow past the history limits (history/config.ts) is terminated by
// its next write, which then finds it closed; the termination's reason names the limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isTandemError } from '../common/errors.js';
import { enums } from '../common/temporal.js';
import type { NamespaceRef } from './api.js';
import { regionA, TestRegion } from './test-region.js';

async function withRegion(config: { maxHistoryEvents?: number; maxHistorySizeBytes?: number }, fn: (r: TestRegion, ns: NamespaceRef) => Promise<void>): Promise<void> {
  const r = await TestRegion.start(regionA, { config });
  try {
    const rec = await r.namespaces.register({ name: `limits-${randomUUID().slice(0, 8)}` });
    await fn(r, { id: rec.id, name: rec.name });
  } finally {
    await r.stop();
  }
}

async function signalUntilRefused(r: TestRegion, ns: NamespaceRef, workflowId: string): Promise<void> {
  for (let i = 1; i <= 50; i++) {
    try {
      await r.engine.signalWorkflowExecution(ns, { namespace: ns.name, workflowExecution: { workflowId }, signalName: 's', input: { payloads: [{ data: Buffer.alloc(100) }] }, requestId: randomUUID() });
    } catch (err) {
      assert.ok(isTandemError(err, 'WORKFLOW_ALREADY_COMPLETED'), String(err));
      return;
    }
  }
  assert.fail('signals were never refused');
}

async function lastEvent(r: TestRegion, ns: NamespaceRef, workflowId: string) {
  const events = (await r.engine.getWorkflowExecutionHistory(ns, { namespace: ns.name, execution: { workflowId } }, new AbortController().signal)).history?.events ?? [];
  return events[events.length - 1]!;
}

for (const [what, config, reason] of [
  ['event count', { maxHistoryEvents: 6 }, /^Workflow history count exceeds limit: 7 events > 6 events\.$/],
  ['size', { maxHistorySizeBytes: 600 }, /^Workflow history size exceeds limit: \d+ bytes > 600 bytes\.$/],
] as const) {
  test(`a workflow past the history ${what} limit is terminated, with the limit as its reason`, async () => {
    await withRegion(config, async (r, ns) => {
      const workflowId = `wf-${randomUUID()}`;
      await r.engine.startWorkflowExecution(ns, { namespace: ns.name, workflowId, workflowType: { name: 'w' }, taskQueue: { name: 'nobody' }, requestId: randomUUID() });
      await signalUntilRefused(r, ns, workflowId);
      const last = await lastEvent(r, ns, workflowId);
      assert.equal(last.eventType, enums.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
      assert.match(last.workflowExecutionTerminatedEventAttributes?.reason ?? '', reason);
    });
  });
}
