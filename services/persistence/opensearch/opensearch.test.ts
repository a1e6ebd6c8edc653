import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testIndexName } from '../../../deploy/opensearch/test-instance.js';
import { visibility } from '../conformance/fixtures.js';
import type { VisibilityRecord } from '../types.js';
import { evaluateCount, evaluateList } from '../visibility-eval.js';
import type { Condition, FieldRef, VisibilityQuery } from '../visibility-query.js';
import { OpenSearchVisibilityStore, resolveOpenSearchConfig } from './visibility.js';

const url = process.env.TANDEM_TEST_OPENSEARCH;

const col = (name: string, type: FieldRef['type'] = 'Keyword'): FieldRef => ({ name, type, builtin: true });
const sa = (name: string, type: FieldRef['type']): FieldRef => ({ name, type, builtin: false });

describe('opensearch visibility config', () => {
  test('defaults and validation', () => {
    assert.deepEqual(resolveOpenSearchConfig({ url: 'http://h:9200/', index: 'tandem_visibility_a' }), {
      url: 'http://h:9200',
      index: 'tandem_visibility_a',
      shards: 1,
      replicas: 0,
      refreshIntervalMs: 1000,
      requestTimeoutMs: 10_000,
    });
    assert.throws(() => resolveOpenSearchConfig({ url: 'h:9200', index: 'x' }), /not http/);
    assert.throws(() => resolveOpenSearchConfig({ url: 'http://h', index: 'Upper' }), /lower-case/);
    assert.throws(() => resolveOpenSearchConfig({ url: 'http://h', index: 'x', replicas: -1 }), /replicas/);
  });
});

// Start one with `npx tsx deploy/opensearch/cli.ts start --name test --port 29200 --transport-port 29300`.
describe('opensearch visibility store', { skip: url ? false : 'TANDEM_TEST_OPENSEARCH (http://host:port of an OpenSearch 2.19) is not set' }, () => {
  let store: OpenSearchVisibilityStore;
  const ns = randomUUID();
  const other = randomUUID();
  const base = 1_700_000_000_000;
  const records: VisibilityRecord[] = [];

  before(async () => {
    store = new OpenSearchVisibilityStore({ url: url!, index: testIndexName() });
    await store.start();
    await store.start(); // idempotent
    for (let i = 0; i < 12; i++) {
      const closed = i % 3 === 0;
      records.push(
        visibility(ns, {
          workflowId: `wf-${i % 5}`,
          workflowType: i % 2 ? 'Order' : 'Refund',
          status: closed ? 2 + (i % 2) : 1,
          startTimeMs: base + (i % 4) * 1000,
          closeTimeMs: closed ? base + 10_000 + i : null,
          executionDurationMs: closed ? 10_000 + i : null,
          historyLength: i,
          searchAttributes: {
            CustomerId: { type: 'Keyword', value: `c-${i % 3}` },
            ...(i % 2 ? { Amount: { type: 'Int', value: i * 10 } } : {}),
            ...(i % 4 === 1 ? { Note: { type: 'Text', value: `Rush order, Gift_wrap #${i}` } } : {}),
            Tags: { type: 'KeywordList', value: i % 3 === 2 ? [] : [`t${i % 2}`, 'all'] },
            Score: { type: 'Double', value: i / 4 },
            Vip: { type: 'Bool', value: i % 5 === 0 },
          },
        }),
      );
    }
    // The same name with another type in another namespace of the same index.
    records.push(visibility(other, { searchAttributes: { Amount: { type: 'Keyword', value: 'lots' } } }));
    for (const r of records) await store.upsertVisibility(r);
    await store.settle();
  });

  after(async () => {
    await store?.dropIndex();
  });

  async function listAll(query: VisibilityQuery, pageSize = 5, namespaceId = ns): Promise<VisibilityRecord[]> {
    const out: VisibilityRecord[] = [];
    let token: string | undefined;
    do {
      const page = await store.listVisibility({ namespaceId, query, pageSize, nextPageToken: token });
      out.push(...page.records);
      token = page.nextPageToken;
    } while (token);
    return out;
  }

  const queries: [string, Condition | undefined, VisibilityQuery['orderBy']?][] = [
    ['everything, default order', undefined],
    ['keyword =', { op: '=', field: col('WorkflowType'), value: 'Order' }],
    ['status !=', { op: '!=', field: col('ExecutionStatus'), value: 'Running' }],
    ['close time null', { op: 'isNull', field: col('CloseTime', 'Datetime') }],
    ['int range on a custom attribute', { op: '>=', field: sa('Amount', 'Int'), value: 50 }],
    ['!= skips missing values', { op: '!=', field: sa('Amount', 'Int'), value: 50 }],
    ['not between', { op: 'notBetween', field: sa('Amount', 'Int'), low: 20, high: 60 }],
    ['in / not in', { op: 'or', items: [{ op: 'in', field: col('WorkflowId'), values: ['wf-1', 'wf-2'] }, { op: 'notIn', field: sa('CustomerId', 'Keyword'), values: ['c-0', 'c-1'] }] }],
    ['starts with', { op: 'startsWith', field: col('WorkflowId'), prefix: 'wf-3' }],
    ['keyword list any / none', { op: 'and', items: [{ op: '=', field: sa('Tags', 'KeywordList'), value: 'all' }, { op: '!=', field: sa('Tags', 'KeywordList'), value: 't1' }] }],
    ['empty keyword list is null', { op: 'isNull', field: sa('Tags', 'KeywordList') }],
    ['text phrase', { op: '=', field: sa('Note', 'Text'), value: 'gift WRAP' }],
    ['text phrase negated', { op: '!=', field: sa('Note', 'Text'), value: 'order gift' }],
    ['double and bool', { op: 'and', items: [{ op: '<', field: sa('Score', 'Double'), value: 2.25 }, { op: '=', field: sa('Vip', 'Bool'), value: false }] }],
    ['datetime between', { op: 'between', field: col('StartTime', 'Datetime'), low: base + 1000, high: base + 2000 }],
    ['order by a custom int ascending, missing last', undefined, [{ field: sa('Amount', 'Int'), desc: false }]],
    ['order by close time ascending, missing last', undefined, [{ field: col('CloseTime', 'Datetime'), desc: false }]],
    ['order by keyword desc then double', undefined, [{ field: sa('CustomerId', 'Keyword'), desc: true }, { field: sa('Score', 'Double'), desc: false }]],
    ['order by bool', undefined, [{ field: sa('Vip', 'Bool'), desc: true }]],
  ];

  for (const [name, where, orderBy] of queries) {
    test(`list: ${name}`, async () => {
      const query: VisibilityQuery = { where, orderBy };
      const want = evaluateList(records.filter((r) => r.namespaceId === ns), query).map((r) => r.runId);
      assert.deepEqual((await listAll(query, 4)).map((r) => r.runId), want);
    });
  }

  test('records come back as written; namespaces do not mix', async () => {
    const got = await listAll({}, 100, other);
    assert.deepEqual(got, [records[records.length - 1]]);
    assert.deepEqual(await listAll({ where: { op: '=', field: sa('Amount', 'Keyword'), value: 'lots' } }), []);
  });

  test('count, and count grouped by status', async () => {
    const where: Condition = { op: '!=', field: col('WorkflowId'), value: 'wf-0' };
    const mine = records.filter((r) => r.namespaceId === ns);
    assert.deepEqual(await store.countVisibility(ns, { where }), evaluateCount(mine, { where }));
    const groupBy = [col('ExecutionStatus'), sa('Amount', 'Int')];
    assert.deepEqual(await store.countVisibility(ns, {}, groupBy), evaluateCount(mine, {}, groupBy));
  });

  test('an older record never replaces a newer one; the same version replaces', async () => {
    const r = visibility(ns, { stateTransitionCount: 5, historyLength: 9 });
    await store.upsertVisibility(r);
    await store.upsertVisibility({ ...r, stateTransitionCount: 4, historyLength: 7 });
    await store.upsertVisibility({ ...r, historyLength: 10 });
    await store.settle();
    const q: VisibilityQuery = { where: { op: '=', field: col('RunId'), value: r.runId } };
    assert.deepEqual((await listAll(q)).map((x) => x.historyLength), [10]);
    await store.deleteVisibility(ns, r.runId);
    await store.deleteVisibility(ns, r.runId); // idempotent
    await store.settle();
    assert.deepEqual(await listAll(q), []);
  });

  test('a bad page token is INVALID_ARGUMENT', async () => {
    await assert.rejects(store.listVisibility({ namespaceId: ns, query: {}, pageSize: 2, nextPageToken: 'nope' }), /Invalid NextPageToken/);
  });

  test('an unreachable cluster is StoreUnavailableError', async () => {
    const down = new OpenSearchVisibilityStore({ url: 'http://127.0.0.1:1', index: 'x', requestTimeoutMs: 2000 });
    await assert.rejects(down.countVisibility(ns, {}), { name: 'StoreUnavailableError' });
  });
});
