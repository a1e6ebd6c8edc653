import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testIndexName } from '../../../deploy/opensearch/test-instance.js';
import { visibility } from '../conformance/fixtures.js';
import { runVisibilityConformance } from '../conformance/visibility-suite.js';
import type { FieldRef, VisibilityQuery } from '../visibility-query.js';
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
const skip = url ? false : 'TANDEM_TEST_OPENSEARCH (http://host:port of an OpenSearch 2.19) is not set: the conformance suite and these tests do not run';

async function openStore(): Promise<OpenSearchVisibilityStore> {
  const store = new OpenSearchVisibilityStore({ url: url!, index: testIndexName() });
  await store.start();
  return store;
}

if (url) {
  runVisibilityConformance('opensearch', async () => {
    const store = await openStore();
    return { store, settle: () => store.settle(), close: () => store.dropIndex() };
  });
}

// What the conformance suite cannot see: one index shared by namespaces, retried writes, outages.
describe('opensearch visibility store', { skip }, () => {
  let store: OpenSearchVisibilityStore;
  const ns = randomUUID();
  const other = randomUUID();
  const byRunId = (runId: string): VisibilityQuery => ({ where: { op: '=', field: col('RunId'), value: runId } });
  const list = async (namespaceId: string, query: VisibilityQuery) => (await store.listVisibility({ namespaceId, query, pageSize: 100 })).records;

  before(async () => {
    store = await openStore();
  });

  after(async () => {
    await store?.dropIndex();
  });

  test('start is idempotent and keeps what the index holds', async () => {
    const r = visibility(ns);
    await store.upsertVisibility(r);
    await store.start();
    await store.settle();
    assert.deepEqual(await list(ns, byRunId(r.runId)), [r]);
  });

  test('one attribute name, two types in two namespaces: each namespace queries its own', async () => {
    const mine = visibility(ns, { searchAttributes: { Amount: { type: 'Int', value: 7 } } });
    const theirs = visibility(other, { searchAttributes: { Amount: { type: 'Keyword', value: 'lots' } } });
    await store.upsertVisibility(mine);
    await store.upsertVisibility(theirs);
    await store.settle();
    assert.deepEqual(await list(ns, { where: { op: '>', field: sa('Amount', 'Int'), value: 5 } }), [mine]);
    assert.deepEqual(await list(other, { where: { op: '=', field: sa('Amount', 'Keyword'), value: 'lots' } }), [theirs]);
    assert.deepEqual(await list(ns, { where: { op: '=', field: sa('Amount', 'Keyword'), value: 'lots' } }), []);
  });

  test('a retried older record never replaces a newer one; the same version replaces', async () => {
    const r = visibility(ns, { stateTransitionCount: 5, historyLength: 9 });
    await store.upsertVisibility(r);
    await store.upsertVisibility({ ...r, stateTransitionCount: 4, historyLength: 7 });
    await store.upsertVisibility({ ...r, historyLength: 10 });
    await store.settle();
    assert.deepEqual((await list(ns, byRunId(r.runId))).map((x) => x.historyLength), [10]);
    await store.deleteVisibility(ns, r.runId);
    await store.deleteVisibility(ns, r.runId);
    await store.settle();
    assert.deepEqual(await list(ns, byRunId(r.runId)), []);
  });

  test('bulkUpsert writes many records as upsertVisibility does, older versions dropped', async () => {
    const a = visibility(ns, { stateTransitionCount: 3, historyLength: 4 });
    const b = visibility(ns, { searchAttributes: { Amount: { type: 'Int', value: 9 } } });
    await store.upsertVisibility({ ...a, stateTransitionCount: 6, historyLength: 12 });
    await store.bulkUpsert([a, b]);
    await store.bulkUpsert([]);
    await store.settle();
    assert.deepEqual((await list(ns, byRunId(a.runId))).map((x) => x.historyLength), [12]);
    assert.deepEqual(await list(ns, byRunId(b.runId)), [b]);
    await assert.rejects(store.bulkUpsert([visibility(ns, { searchAttributes: { Amount: { type: 'Int', value: 'x' as never } } })]), /1 of 1 failed/);
  });

  test('an unreachable cluster is StoreUnavailableError', async () => {
    const down = new OpenSearchVisibilityStore({ url: 'http://127.0.0.1:1', index: 'x', requestTimeoutMs: 2000 });
    await assert.rejects(down.countVisibility(ns, {}), { name: 'StoreUnavailableError' });
  });
});
