// The visibility bench's data set and queries, without OpenSearch: the records are spread as
// the README says, the same on every run, and every query parses against the bench's attributes.
// A run against OpenSearch is `npx tsx bench/visibility.ts --workflows 2000 --iterations 5 --starts 100`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVisibilityQuery } from '../services/persistence/visibility-parser.js';
import { matches } from '../services/persistence/visibility-eval.js';
import { benchRecord, CUSTOM_ATTRIBUTES, CUSTOMERS, DATA_END_MS, parseVisibilityCommandLine, queryCases, visibilityDefaults, WORKFLOW_TYPES } from './visibility.js';

const N = 20_000;
const records = Array.from({ length: N }, (_, i) => benchRecord('ns', i, N));

test('records are the same on every run and spread over statuses, types, customers, 30 days and families', () => {
  assert.deepEqual(benchRecord('ns', 123, N), records[123]);
  const share = (f: (r: (typeof records)[number]) => boolean) => records.filter(f).length / N;
  assert.ok(Math.abs(share((r) => r.status === 1) - 0.1) < 0.01, 'about 10 % running');
  assert.ok(share((r) => r.status === 2) > 0.7, 'most completed');
  assert.equal(new Set(records.map((r) => r.workflowType)).size, WORKFLOW_TYPES);
  assert.ok(new Set(records.map((r) => r.searchAttributes.CustomerId!.value)).size > CUSTOMERS * 0.8);
  assert.ok(records.every((r) => r.startTimeMs <= DATA_END_MS && r.startTimeMs > DATA_END_MS - 30 * 86_400_000));
  assert.ok(records.every((r) => (r.status === 1) === (r.closeTimeMs === null)));
  assert.ok(Math.abs(share((r) => r.parentWorkflowId !== null) - 0.2) < 0.01, 'a fifth are children or grandchildren');
  assert.equal(records[21]!.parentWorkflowId, records[20]!.workflowId);
  assert.equal(records[24]!.parentWorkflowId, records[21]!.workflowId);
  assert.equal(records[24]!.rootWorkflowId, records[20]!.workflowId);
  assert.equal(records[25]!.rootWorkflowId, records[25]!.workflowId);
  assert.equal(new Set(records.map((r) => r.runId)).size, N);
});

test('every query parses against the bench attributes and matches records of the data set', () => {
  for (const q of queryCases(N)) {
    for (const it of [0, 1, 57]) {
      const parsed = parseVisibilityQuery(q.query(it), CUSTOM_ATTRIBUTES, { count: q.kind === 'count' });
      const where = parsed.query.where;
      const matching = where ? records.filter((r) => matches(r, where)).length : N;
      assert.ok(matching > 0, `${q.name} #${it} (${q.query(it)}) matches nothing`);
    }
  }
});

test('the command line', () => {
  const o = parseVisibilityCommandLine(['--workflows', '5000', '--reuse', '--starts', '0']);
  assert.equal(o.workflows, 5000);
  assert.equal(o.reuse, true);
  assert.equal(o.starts, 0);
  assert.equal(o.iterations, visibilityDefaults.iterations);
  assert.equal(parseVisibilityCommandLine([]).reuse, false);
  assert.throws(() => parseVisibilityCommandLine(['--batch', '0']), /positive integer/);
});
