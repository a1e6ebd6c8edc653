// Custom search attributes end to end: the official client defines one of every type through
// OperatorService, starts a workflow with them, the official worker upserts from inside; Describe
// and List show what the run holds; bad values are refused at start and fail a workflow task.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { WorkflowHandle } from '@temporalio/client';
import { defineSearchAttributeKey, TypedSearchAttributes } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { enums } from '../services/common/temporal.js';
import { eventually, storesUnderTest } from './harness.js';
import { workerSuite } from './worker-suite.js';

const NAMESPACE = 'default';
const TEST_TIMEOUT_MS = 60_000;
const T = enums.IndexedValueType;

Runtime.install({ logger: new DefaultLogger('ERROR') });

const keys = {
  keyword: defineSearchAttributeKey('CustomKeyword', 'KEYWORD'),
  text: defineSearchAttributeKey('CustomText', 'TEXT'),
  int: defineSearchAttributeKey('CustomInt', 'INT'),
  double: defineSearchAttributeKey('CustomDouble', 'DOUBLE'),
  bool: defineSearchAttributeKey('CustomBool', 'BOOL'),
  datetime: defineSearchAttributeKey('CustomDatetime', 'DATETIME'),
  keywordList: defineSearchAttributeKey('CustomKeywordList', 'KEYWORD_LIST'),
};

async function workflowTaskFailures(h: WorkflowHandle): Promise<number[]> {
  const events = (await h.fetchHistory()).events ?? [];
  return events.filter((e) => e.workflowTaskFailedEventAttributes).map((e) => e.workflowTaskFailedEventAttributes!.cause ?? 0);
}

for (const kind of storesUnderTest()) {
  describe(`search attributes on ${kind}`, () => {
    const taskQueue = `sa-${randomUUID()}`;
    const suite = workerSuite(kind, { namespace: NAMESPACE, taskQueue });

    test('one attribute of every type is created and listed', { timeout: TEST_TIMEOUT_MS }, async () => {
      const every = {
        CustomKeyword: T.INDEXED_VALUE_TYPE_KEYWORD,
        CustomText: T.INDEXED_VALUE_TYPE_TEXT,
        CustomInt: T.INDEXED_VALUE_TYPE_INT,
        CustomDouble: T.INDEXED_VALUE_TYPE_DOUBLE,
        CustomBool: T.INDEXED_VALUE_TYPE_BOOL,
        CustomDatetime: T.INDEXED_VALUE_TYPE_DATETIME,
        CustomKeywordList: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
      };
      await suite.client.connection.operatorService.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: every });
      const listed = await suite.client.connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
      assert.deepEqual(listed.customAttributes, every);
      assert.equal(listed.systemAttributes.ExecutionStatus, T.INDEXED_VALUE_TYPE_KEYWORD);
    });

    test('a start with every type, an upsert from the workflow: Describe and List show them', { timeout: TEST_TIMEOUT_MS }, async () => {
      const due = new Date('2026-06-01T12:00:00.000Z');
      const h = await suite.client.workflow.start('upsertingWorkflow', {
        workflowId: `sa-${randomUUID()}`,
        taskQueue,
        typedSearchAttributes: new TypedSearchAttributes([
          { key: keys.keyword, value: 'started' },
          { key: keys.text, value: 'some words' },
          { key: keys.int, value: 1 },
          { key: keys.double, value: 2.5 },
          { key: keys.bool, value: true },
          { key: keys.datetime, value: due },
          { key: keys.keywordList, value: ['a'] },
        ]),
        memo: { stage: 'started' },
      });
      const described = await eventually('the upsert', async () => {
        const d = await h.describe();
        return d.typedSearchAttributes.get(keys.keyword) === 'upserted' ? d : undefined;
      });
      const sa = described.typedSearchAttributes;
      assert.equal(sa.get(keys.text), 'some words');
      assert.equal(sa.get(keys.int), 42);
      assert.equal(sa.get(keys.double), 2.5);
      assert.equal(sa.get(keys.bool), true);
      assert.equal(sa.get(keys.datetime)?.toISOString(), due.toISOString());
      assert.deepEqual(sa.get(keys.keywordList), ['x', 'y']);
      assert.deepEqual(described.memo, { stage: 'upserted' });
      assert.equal(described.raw.workflowExecutionInfo?.rootExecution?.workflowId, h.workflowId);
      assert.equal(described.raw.executionConfig?.workflowRunTimeout, null, 'no run timeout was set');
      assert.ok((described.raw.workflowExecutionInfo?.autoResetPoints?.points ?? []).length >= 1, 'the first workflow task of the build is a reset point');

      await h.signal('finish');
      assert.equal(await h.result(), 'patched');
      const listed = await eventually('the closed run listed by its attributes', async () => {
        const found = [];
        for await (const w of suite.client.workflow.list({ query: `CustomKeyword = 'upserted' AND CustomInt = 42 AND WorkflowId = '${h.workflowId}'` })) found.push(w);
        return found.length === 1 && found[0]!.status.name === 'COMPLETED' ? found[0]! : undefined;
      });
      assert.deepEqual(listed.typedSearchAttributes.get(keys.keywordList), ['x', 'y']);
      assert.deepEqual(listed.memo, { stage: 'upserted' });
    });

    test('a start with an undefined or mistyped attribute is INVALID_ARGUMENT', { timeout: TEST_TIMEOUT_MS }, async () => {
      const start = (searchAttributes: Record<string, string[] | number[]>) =>
        suite.client.workflow.start('upsertingWorkflow', { workflowId: `bad-${randomUUID()}`, taskQueue, searchAttributes });
      // The client wraps the gRPC error (code, details) as its cause.
      const refused = (message: RegExp) => (err: { cause?: { code?: number; details?: string } }) =>
        err.cause?.code === status.INVALID_ARGUMENT && message.test(err.cause.details ?? '');
      await assert.rejects(start({ NotDefined: ['x'] }), refused(/NotDefined is not defined in namespace default; add it with temporal operator search-attribute create/));
      await assert.rejects(start({ CustomInt: ['abc'] }), refused(/CustomInt of type Int cannot hold "abc"/));
    });

    test('a mistyped upsert fails the workflow task with BAD_SEARCH_ATTRIBUTES', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await suite.client.workflow.start('badUpsertWorkflow', { workflowId: `bad-upsert-${randomUUID()}`, taskQueue });
      const causes = await eventually('a failed workflow task', async () => {
        const c = await workflowTaskFailures(h);
        return c.length > 0 ? c : undefined;
      });
      assert.equal(causes[0], enums.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES);
      await h.terminate('done');
    });
  });
}
