// docs/compatibility.md is generated from the service definitions and the frontend's handlers:
// it must be exactly what compatibility.ts writes today.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { compatibilityDoc, compatibilityMarkdown, servedMethods } from './compatibility.js';
import { WORKFLOW_SERVICE } from './handlers.js';

test('docs/compatibility.md is what services/frontend/compatibility.ts generates (regenerate with --write)', () => {
  assert.equal(fs.readFileSync(compatibilityDoc, 'utf8'), compatibilityMarkdown());
});

test('the listing sees the handlers the frontend binds', () => {
  const served = servedMethods()[WORKFLOW_SERVICE];
  for (const m of ['StartWorkflowExecution', 'PollWorkflowTaskQueue', 'UpdateWorkflowExecution', 'CreateSchedule']) assert.ok(served.has(m), m);
});
