// The visibility suite every VisibilityStore passes: Temporal's list filter language end to end
// (query strings through the frontend's parser), each answer compared with the in-process
// evaluator (../visibility-eval.ts) on the same records and, for many, with written-out
// expectations. Fresh namespace ids keep it independent of other rows in a shared store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isTandemError } from '../../common/errors.js';
import { parseVisibilityQuery } from '../visibility-parser.js';
import type { VisibilityStore } from '../store.js';
import type { VisibilityRecord } from '../types.js';
import { evaluateCount, evaluateList, sortGroups } from '../visibility-eval.js';
import type { CountResult, SearchAttributeType, TypedValue } from '../visibility-query.js';
import { visibility } from './fixtures.js';

export interface VisibilityHarness {
  store: VisibilityStore;
  /** Makes writes visible to reads (an OpenSearch index refresh); called after every batch of writes. */
  settle?: () => Promise<void>;
  close?: () => Promise<void>;
}

const searchAttributes: Record<string, SearchAttributeType> = {
  CustomKeywordField: 'Keyword',
  CustomTextField: 'Text',
  CustomIntField: 'Int',
  CustomDoubleField: 'Double',
  CustomBoolField: 'Bool',
  CustomDatetimeField: 'Datetime',
  CustomKeywordListField: 'KeywordList',
  TemporalNamespaceDivision: 'Keyword',
};

const T = Date.UTC(2026, 0, 1);
const H = 3_600_000;
const D = 24 * H;

const sa = (values: Record<string, TypedValue['value']>): Record<string, TypedValue> =>
  Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { type: searchAttributes[name]!, value }]));

/** Closed at `closeTimeMs`, with the duration history would record. */
const closed = (status: number, startTimeMs: number, closeTimeMs: number): Partial<VisibilityRecord> => ({
  status,
  startTimeMs,
  executionTimeMs: startTimeMs,
  closeTimeMs,
  executionDurationMs: closeTimeMs - startTimeMs,
});

/** The seeded runs, by workflow id; parent/root ids are filled in when seeding. */
const RUNS: Record<string, Partial<VisibilityRecord>> = {
  'order-1': {
    startTimeMs: T + H,
    historyLength: 10,
    searchAttributes: sa({
      CustomKeywordField: 'alpha',
      CustomTextField: 'The quick brown fox',
      CustomIntField: 5,
      CustomDoubleField: 1.5,
      CustomBoolField: true,
      CustomDatetimeField: T + D,
      CustomKeywordListField: ['red', 'green'],
    }),
  },
  'order-2': {
    ...closed(2, T - H, T + 3 * H),
    historyLength: 20,
    historySizeBytes: 4096,
    searchAttributes: sa({
      CustomKeywordField: 'beta',
      CustomTextField: 'lazy dog, quick fox',
      CustomIntField: 10,
      CustomDoubleField: -2.25,
      CustomBoolField: false,
      CustomDatetimeField: T - D,
      CustomKeywordListField: ['blue'],
    }),
  },
  'payment-1': { ...closed(3, T - 2 * D, T - D), workflowType: 'PaymentWorkflow', taskQueue: 'payments' },
  'payment-2': {
    startTimeMs: T + 2 * H,
    workflowType: 'PaymentWorkflow',
    taskQueue: 'payments',
    stateTransitionCount: 9,
    searchAttributes: sa({ CustomKeywordField: 'alphabet', CustomIntField: 7, CustomKeywordListField: ['green'] }),
  },
  'order-3': { ...closed(5, T - 10 * D, T - 9 * D), searchAttributes: sa({ CustomIntField: -3, CustomDatetimeField: T - D, CustomBoolField: false }) },
  'sched-1': { startTimeMs: T + 5 * H, workflowType: 'TemporalScheduler', searchAttributes: sa({ TemporalNamespaceDivision: 'TemporalScheduler' }) },
  'order-4': { ...closed(7, T + H, T + 4 * H), searchAttributes: sa({ CustomKeywordListField: [], CustomDoubleField: 1.5 }) },
  'order-5': { ...closed(4, T, T + 3 * H), searchAttributes: sa({ CustomKeywordField: 'Alpha' }) },
  'order-6': { ...closed(6, T - 3 * H, T - 2 * H) },
  'order-7': { startTimeMs: T + H, historyLength: 10 },
};

/** Children of order-1 (their root too) and a grandchild. */
const PARENTS: Record<string, string> = { 'payment-1': 'order-1', 'payment-2': 'order-1', 'order-6': 'payment-2' };

function records(namespaceId: string): VisibilityRecord[] {
  const recs = new Map<string, VisibilityRecord>();
  for (const [workflowId, over] of Object.entries(RUNS)) {
    // Run ids sort like their workflow ids, so ties in an order (broken by run id) are known.
    const runId = `${workflowId}:${randomUUID()}`;
    recs.set(workflowId, visibility(namespaceId, { executionTimeMs: over.startTimeMs ?? T, ...over, workflowId, runId }));
  }
  const rootOf = (id: string): string => (PARENTS[id] ? rootOf(PARENTS[id]) : id);
  for (const [child, parent] of Object.entries(PARENTS)) {
    const rec = recs.get(child)!;
    const p = recs.get(parent)!;
    const root = recs.get(rootOf(child))!;
    Object.assign(rec, { parentWorkflowId: p.workflowId, parentRunId: p.runId, rootWorkflowId: root.workflowId, rootRunId: root.runId });
  }
  return [...recs.values()];
}

/** [query, the workflow ids it lists, in order]; every one is also checked against the evaluator. */
const LISTS: [string, string[]][] = [
  // The Web UI's own queries.
  ['`ExecutionStatus`="Running"', ['payment-2', 'order-1', 'order-7']],
  ['StartTime >= "2026-01-01T00:00:00Z"', ['payment-2', 'order-1', 'order-7', 'order-4', 'order-5']],
  // Everything but the scheduler's run, in the default order: open newest start first (ties by
  // run id), then closed newest close first.
  ['', ['payment-2', 'order-1', 'order-7', 'order-4', 'order-5', 'order-2', 'order-6', 'payment-1', 'order-3']],
  ["TemporalNamespaceDivision = 'TemporalScheduler'", ['sched-1']],
  ["TemporalNamespaceDivision IS NULL AND WorkflowType = 'TemporalScheduler'", []],
  ['TemporalNamespaceDivision IS NOT NULL OR TemporalNamespaceDivision IS NULL', ['sched-1', 'payment-2', 'order-1', 'order-7', 'order-4', 'order-5', 'order-2', 'order-6', 'payment-1', 'order-3']],
  // Keyword columns and every operator.
  ["WorkflowType = 'PaymentWorkflow'", ['payment-2', 'payment-1']],
  ["WorkflowType != 'OrderWorkflow'", ['payment-2', 'payment-1']],
  ["WorkflowType <> 'OrderWorkflow'", ['payment-2', 'payment-1']],
  ["WorkflowId > 'order-6'", ['payment-2', 'order-7', 'payment-1']],
  ["WorkflowId >= 'order-6' AND WorkflowId < 'payment-1'", ['order-7', 'order-6']],
  ["WorkflowId <= 'order-2'", ['order-1', 'order-2']],
  ["WorkflowId IN ('order-1', 'order-3', 'nope')", ['order-1', 'order-3']],
  ["WorkflowId NOT IN ('order-1', 'order-3')", ['payment-2', 'order-7', 'order-4', 'order-5', 'order-2', 'order-6', 'payment-1']],
  ["WorkflowId BETWEEN 'order-2' AND 'order-4'", ['order-4', 'order-2', 'order-3']],
  ["WorkflowId NOT BETWEEN 'order-2' AND 'payment-1'", ['payment-2', 'order-1']],
  ["WorkflowId STARTS_WITH 'pay'", ['payment-2', 'payment-1']],
  ["WorkflowId NOT STARTS_WITH 'order'", ['payment-2', 'payment-1']],
  ["TaskQueue = 'payments'", ['payment-2', 'payment-1']],
  ["ExecutionStatus IN ('Completed', 'Failed', 'TimedOut')", ['order-4', 'order-2', 'payment-1']],
  ["ExecutionStatus != 'Running'", ['order-4', 'order-5', 'order-2', 'order-6', 'payment-1', 'order-3']],
  ["ExecutionStatus = 'ContinuedAsNew' OR ExecutionStatus = 'Terminated' OR ExecutionStatus = 'Canceled'", ['order-5', 'order-6', 'order-3']],
  // Parent and root.
  ['ParentWorkflowId = "order-1"', ['payment-2', 'payment-1']],
  ['RootWorkflowId = "order-1"', ['payment-2', 'order-1', 'order-6', 'payment-1']],
  ['ParentWorkflowId IS NOT NULL', ['payment-2', 'order-6', 'payment-1']],
  // Times, durations, counters.
  ["StartTime BETWEEN '2025-12-31T22:00:00Z' AND '2026-01-01T01:00:00Z'", ['order-1', 'order-7', 'order-4', 'order-5', 'order-2']],
  ['StartTime < 1767225600000000000', ['order-2', 'order-6', 'payment-1', 'order-3']],
  ["CloseTime IS NULL", ['payment-2', 'order-1', 'order-7']],
  ["CloseTime > '2026-01-01T02:00:00+00:00'", ['order-4', 'order-5', 'order-2']],
  ["ExecutionTime NOT BETWEEN '2025-12-31T00:00:00Z' AND '2026-01-01T01:00:00Z'", ['payment-2', 'payment-1', 'order-3']],
  ["ExecutionDuration > '3h'", ['order-2', 'payment-1', 'order-3']],
  ["ExecutionDuration <= '1h'", ['order-6']],
  ['ExecutionDuration IS NULL', ['payment-2', 'order-1', 'order-7']],
  ['HistoryLength = 10', ['order-1', 'order-7']],
  ['HistorySizeBytes > 1024 OR StateTransitionCount >= 9', ['payment-2', 'order-2']],
  // Custom attributes of each type.
  ["CustomKeywordField = 'alpha'", ['order-1']],
  ["CustomKeywordField != 'alpha'", ['payment-2', 'order-5', 'order-2']],
  ["CustomKeywordField STARTS_WITH 'alpha'", ['payment-2', 'order-1']],
  ["CustomKeywordField NOT STARTS_WITH 'alpha'", ['order-5', 'order-2']],
  ["CustomKeywordField >= 'alphabet'", ['payment-2', 'order-2']],
  ['CustomKeywordField IS NULL', ['order-7', 'order-4', 'order-6', 'payment-1', 'order-3']],
  ["CustomTextField = 'quick fox'", ['order-2']],
  ["CustomTextField = 'QUICK'", ['order-1', 'order-2']],
  ["CustomTextField != 'brown'", ['order-2']],
  ['CustomIntField > 5', ['payment-2', 'order-2']],
  ['CustomIntField < "0"', ['order-3']],
  ['CustomIntField IN (5, 7)', ['payment-2', 'order-1']],
  ['CustomIntField NOT IN (5, 7)', ['order-2', 'order-3']],
  ['CustomIntField BETWEEN -3 AND 5', ['order-1', 'order-3']],
  ['CustomDoubleField = 1.5', ['order-1', 'order-4']],
  ['CustomDoubleField < 0', ['order-2']],
  ['CustomDoubleField >= -2.25 AND CustomDoubleField != 1.5', ['order-2']],
  ['CustomBoolField = true', ['order-1']],
  ['CustomBoolField = false', ['order-2', 'order-3']],
  ['CustomBoolField != true', ['order-2', 'order-3']],
  ['CustomBoolField IS NOT NULL', ['order-1', 'order-2', 'order-3']],
  ["CustomDatetimeField > '2026-01-01T00:00:00Z'", ['order-1']],
  ["CustomDatetimeField = '2025-12-31T00:00:00Z'", ['order-2', 'order-3']],
  ["CustomDatetimeField BETWEEN '2025-01-01T00:00:00Z' AND '2026-12-31T00:00:00.000Z'", ['order-1', 'order-2', 'order-3']],
  ["CustomKeywordListField = 'green'", ['payment-2', 'order-1']],
  ["CustomKeywordListField != 'green'", ['order-2']],
  ["CustomKeywordListField IN ('blue', 'red')", ['order-1', 'order-2']],
  ["CustomKeywordListField NOT IN ('blue', 'red')", ['payment-2']],
  ["CustomKeywordListField STARTS_WITH 'gr'", ['payment-2', 'order-1']],
  ["CustomKeywordListField NOT STARTS_WITH 'gr'", ['order-2']],
  ['CustomKeywordListField IS NULL', ['order-7', 'order-4', 'order-5', 'order-6', 'payment-1', 'order-3']],
  // AND binds tighter than OR; parentheses.
  ["WorkflowType = 'PaymentWorkflow' OR ExecutionStatus = 'Running' AND HistoryLength = 10", ['payment-2', 'order-1', 'order-7', 'payment-1']],
  ["(WorkflowType = 'PaymentWorkflow' OR ExecutionStatus = 'Running') AND HistoryLength = 3", ['payment-2', 'payment-1']],
  ["((WorkflowId = 'order-1')) OR (CustomIntField = 10 AND (CustomBoolField = false OR CustomBoolField = true))", ['order-1', 'order-2']],
  // ORDER BY.
  ['ORDER BY StartTime', ['order-3', 'payment-1', 'order-6', 'order-2', 'order-5', 'order-1', 'order-4', 'order-7', 'payment-2']],
  ["ExecutionStatus = 'Running' ORDER BY StartTime DESC", ['payment-2', 'order-1', 'order-7']],
  ["CustomIntField IS NOT NULL ORDER BY CustomIntField DESC", ['order-2', 'payment-2', 'order-1', 'order-3']],
  ['CloseTime IS NOT NULL ORDER BY CloseTime ASC, WorkflowId DESC', ['order-3', 'payment-1', 'order-6', 'order-5', 'order-2', 'order-4']],
  // Byte order ('A' < 'a'); missing values last, by run id.
  ['ParentWorkflowId IS NULL ORDER BY CustomKeywordField', ['order-5', 'order-1', 'order-2', 'order-3', 'order-4', 'order-7']],
  ['ORDER BY ExecutionStatus, WorkflowType DESC, HistoryLength DESC, WorkflowId', ['order-5', 'order-2', 'order-6', 'payment-1', 'payment-2', 'order-1', 'order-7', 'order-3', 'order-4']],
  ['ORDER BY CustomDoubleField DESC, CustomBoolField, CustomDatetimeField', ['order-1', 'order-4', 'order-2', 'order-3', 'order-5', 'order-6', 'order-7', 'payment-1', 'payment-2']],
];

/** [count query, total, groups as "value=count" largest first]. */
const COUNTS: [string, number, string[]?][] = [
  ['', 9],
  ['GROUP BY ExecutionStatus', 9, ['Running=3', 'Canceled=1', 'Completed=1', 'ContinuedAsNew=1', 'Failed=1', 'Terminated=1', 'TimedOut=1']],
  ["WorkflowType = 'PaymentWorkflow' GROUP BY ExecutionStatus", 2, ['Failed=1', 'Running=1']],
  ["WorkflowType = 'Nope' GROUP BY ExecutionStatus", 0, []],
  ['`ExecutionStatus`="Running"', 3],
  ['ParentWorkflowId = "order-1" AND ParentRunId = "<order-1>"', 2],
  ['RootWorkflowId = "order-1"', 4],
  ["TemporalNamespaceDivision = 'TemporalScheduler' GROUP BY ExecutionStatus", 1, ['Running=1']],
];

export function runVisibilityConformance(name: string, open: () => Promise<VisibilityHarness>): void {
  describe(`Visibility conformance: ${name}`, () => {
    let h: VisibilityHarness;
    const ns = randomUUID();
    let seeded: VisibilityRecord[];
    const byWorkflowId = () => new Map(seeded.map((r) => [r.workflowId, r]));
    /** Placeholders like <order-1> stand for that workflow's run id, unknown until seeded. */
    const withRunIds = (q: string) => q.replace(/<([a-z0-9-]+)>/g, (_, id: string) => byWorkflowId().get(id)!.runId);

    const write = async (recs: VisibilityRecord[]) => {
      for (const r of recs) await h.store.upsertVisibility(r);
      await h.settle?.();
    };
    const listAll = async (namespaceId: string, q: string, pageSize = 1000) => {
      const { query } = parseVisibilityQuery(q, searchAttributes, { count: false });
      const seen: VisibilityRecord[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await h.store.listVisibility({ namespaceId, query, pageSize, nextPageToken: token });
        assert.ok(page.records.length <= pageSize, 'a page holds at most pageSize records');
        assert.ok(page.records.length > 0 || page.nextPageToken === undefined, 'only the last page may be empty');
        seen.push(...page.records);
        token = page.nextPageToken;
        assert.ok(++pages <= seeded.length + 2, 'paging ends');
      } while (token !== undefined);
      return { records: seen, pages, query };
    };
    const plainCount = (c: CountResult) => ({
      count: c.count,
      groups: c.groups && sortGroups([...c.groups]).map((g) => `${g.values.join(',')}=${g.count}`),
    });

    before(async () => {
      h = await open();
      seeded = records(ns);
      // Another namespace's rows never show.
      await write([...seeded, ...records(randomUUID())]);
    });
    after(async () => {
      await h.close?.();
    });

    test('a listed record round-trips every field, search attributes of each type included', async () => {
      const { records: got } = await listAll(ns, 'TemporalNamespaceDivision IS NULL OR TemporalNamespaceDivision IS NOT NULL');
      const want = new Map(seeded.map((r) => [r.runId, r]));
      assert.equal(got.length, seeded.length);
      for (const r of got) assert.deepEqual(r, want.get(r.runId));
    });

    for (const [q, want] of LISTS) {
      test(`list ${q || '(empty)'}`, async () => {
        const { records: got, query } = await listAll(ns, withRunIds(q));
        const ids = got.map((r) => r.workflowId);
        assert.deepEqual(ids, evaluateList(seeded, query).map((r) => r.workflowId), 'the evaluator agrees');
        assert.deepEqual(ids, want);
      });
    }

    for (const [q, count, groups] of COUNTS) {
      test(`count ${q || '(empty)'}`, async () => {
        const { query, groupBy } = parseVisibilityQuery(withRunIds(q), searchAttributes, { count: true });
        const got = plainCount(await h.store.countVisibility(ns, query, groupBy));
        assert.deepEqual(got, plainCount(evaluateCount(seeded, query, groupBy)), 'the evaluator agrees');
        assert.deepEqual(got, { count, groups });
      });
    }

    test('pages across any order with opaque tokens, until no token', async () => {
      for (const q of [
        '',
        'ORDER BY CustomIntField DESC, StartTime',
        'ORDER BY CloseTime',
        'ORDER BY CloseTime DESC, ExecutionStatus',
        'ORDER BY HistoryLength, CustomBoolField DESC',
        "WorkflowType = 'OrderWorkflow' ORDER BY StartTime DESC",
        'ORDER BY CustomDoubleField',
      ]) {
        const { records: whole } = await listAll(ns, q);
        for (const pageSize of [1, 2, 3]) {
          const { records: paged, pages } = await listAll(ns, q, pageSize);
          assert.deepEqual(paged.map((r) => r.runId), whole.map((r) => r.runId), `${q} by ${pageSize}`);
          assert.ok(pages >= Math.ceil(whole.length / pageSize), `${q} by ${pageSize}: one page per ${pageSize}`);
        }
      }
    });

    test('a token that is not one is INVALID_ARGUMENT', async () => {
      const { query } = parseVisibilityQuery('', searchAttributes, { count: false });
      for (const nextPageToken of ['garbage', Buffer.from('[1,2]').toString('base64url')]) {
        await assert.rejects(h.store.listVisibility({ namespaceId: ns, query, pageSize: 2, nextPageToken }), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
      }
    });

    test('upsert replaces the record of a run and is idempotent; delete removes one run', async () => {
      const other = randomUUID();
      const [open1, open2] = [visibility(other, { startTimeMs: T }), visibility(other, { startTimeMs: T + 1 })];
      await write([open1!, open2!]);
      const done = {
        ...open1!,
        ...closed(2, T, T + H),
        historyLength: 11,
        searchAttributes: sa({ CustomKeywordField: 'x' }),
        data: JSON.stringify({ memo: { a: 1 } }),
      };
      await write([done, done]);
      assert.deepEqual((await listAll(other, '')).records, [open2, done]);
      assert.deepEqual((await listAll(other, "CustomKeywordField = 'x'")).records, [done]);
      await h.store.deleteVisibility(other, open2!.runId);
      await h.store.deleteVisibility(other, randomUUID());
      await h.settle?.();
      assert.deepEqual((await listAll(other, '')).records, [done]);
      const { query } = parseVisibilityQuery('', searchAttributes, { count: true });
      assert.deepEqual(await h.store.countVisibility(other, query), { count: 1 });
    });
  });
}
