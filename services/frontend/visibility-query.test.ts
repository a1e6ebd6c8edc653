import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVisibilityQuery } from './visibility-query.js';
import { isTandemError } from '../common/errors.js';

function rejects(q: string, pattern: RegExp) {
  assert.throws(
    () => parseVisibilityQuery(q),
    (e) => isTandemError(e, 'INVALID_ARGUMENT') && pattern.test(e.message),
    q,
  );
}

test('empty query: no filter', () => {
  assert.deepEqual(parseVisibilityQuery(''), {});
  assert.deepEqual(parseVisibilityQuery('   '), {});
  assert.deepEqual(parseVisibilityQuery('ORDER BY StartTime DESC'), {});
});

test('each supported condition and their conjunction', () => {
  assert.deepEqual(parseVisibilityQuery("WorkflowId = 'wf-1'"), { workflowId: 'wf-1' });
  assert.deepEqual(parseVisibilityQuery('WorkflowType="MyWorkflow"'), { workflowType: 'MyWorkflow' });
  assert.deepEqual(parseVisibilityQuery("RunId = 'r'"), { runId: 'r' });
  assert.deepEqual(parseVisibilityQuery("ExecutionStatus = 'Running'"), { status: 1 });
  assert.deepEqual(parseVisibilityQuery("ExecutionStatus = 'TimedOut'"), { status: 7 });
  assert.deepEqual(
    parseVisibilityQuery("WorkflowType = 'T' and ExecutionStatus = 'Completed' AND WorkflowId = 'it\\'s = AND' order by StartTime desc"),
    { workflowType: 'T', status: 2, workflowId: "it's = AND" },
  );
});

test('unsupported parts are named', () => {
  rejects("WorkflowId = 'a' OR WorkflowId = 'b'", /unsupported "OR" at position 17/);
  rejects("CustomKeywordField = 'x'", /unsupported search attribute CustomKeywordField at position 0/);
  rejects("StartTime > '2024-01-01'", /unsupported search attribute StartTime/);
  rejects("WorkflowId != 'a'", /unsupported operator !=/);
  rejects("WorkflowId LIKE 'a%'", /unsupported operator LIKE/);
  rejects("(WorkflowId = 'a')", /unsupported "\(" at position 0/);
  rejects('WorkflowId = 5', /needs a quoted string value at position 13/);
  rejects('WorkflowId =', /needs a quoted string value/);
  rejects('WorkflowId', /needs = and a value/);
  rejects("WorkflowId = 'a' AND", /AND at the end/);
  rejects("WorkflowId = 'a", /unterminated string at position 13/);
  rejects("ExecutionStatus = 'Sleeping'", /unknown ExecutionStatus "Sleeping"/);
  rejects("WorkflowId = 'a' AND WorkflowId = 'b'", /second condition on WorkflowId/);
  rejects('ORDER BY StartTime ASC', /ORDER BY StartTime DESC/);
  rejects('ORDER BY CloseTime DESC', /ORDER BY StartTime DESC/);
  rejects("WorkflowId = 'a' ORDER BY StartTime DESC LIMIT 5", /unsupported "LIMIT"/);
});
