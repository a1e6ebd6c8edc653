// Visibility in OpenSearch across two regions of separate processes, as production runs it: a and
// b (`tandem up` in small, one history node each) on their own keyspaces of the test Cassandra,
// each region's visibility in its own index of the test OpenSearch. A global namespace active in
// a; the official client adds the custom search attribute `CustomerId` and starts a parent (whose
// abandoned child keeps running), runs that keep running, one that completes, one terminated.
// The queries the Web UI sends (status, start time, parent, root, the custom attribute, counts
// grouped by status) must answer the same rows in a and in b, b's frontend asked directly (the
// standby: its records are built from the events it applies), and both indexes hold the records.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { defineSearchAttributeKey, TypedSearchAttributes } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { dropTestKeyspace, ensureTestCassandra, type TestCassandra } from '../deploy/cassandra/test-instance.js';
import { testIndexName } from '../deploy/opensearch/test-instance.js';
import { ensureTestRedis } from '../deploy/redis/test-instance.js';
import { enums } from '../services/common/temporal.js';
import * as activities from './activities.js';
import { eventually, workflowBundle } from './harness.js';
import { regionsTopology } from './region-fixture.js';
import { RegionPair } from './region-pair.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const OPENSEARCH = process.env.TANDEM_TEST_OPENSEARCH;
const SKIP = !OPENSEARCH || !process.env.TANDEM_TEST_CASSANDRA ? 'needs TANDEM_TEST_OPENSEARCH and TANDEM_TEST_CASSANDRA (a running test OpenSearch and Cassandra)' : false;
const NAMESPACE = `vis-${randomUUID().slice(0, 8)}`;
const CUSTOMER = defineSearchAttributeKey('CustomerId', 'KEYWORD');
/** Records are searchable within the index's refresh interval; b's come after replication too. */
const CONVERGE_MS = 30_000;

/** A row as the test compares it: workflow id -> status name. */
type Rows = Record<string, string>;

describe('visibility in OpenSearch across two regions of separate processes', { timeout: 150_000, skip: SKIP }, () => {
  const taskQueue = `vis-${randomUUID()}`;
  const suffix = randomUUID().slice(0, 6);
  const [a, b] = [`va${suffix}`, `vb${suffix}`];
  const indexes = { [a]: testIndexName(), [b]: testIndexName() };
  const keyspaces: TestCassandra[] = [];
  let pair: RegionPair;
  const clients = new Map<string, Client>();
  let native: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  // Whole seconds, a second early: StartTime >= it holds for every run of this test and no other.
  const since = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000).toISOString();
  const parentId = `parent-${suffix}`;
  let parentRunId = '';
  /** What every region must list: workflow id -> status. */
  const expected: Rows = {};

  before(async () => {
    const redis = await ensureTestRedis();
    keyspaces.push(await ensureTestCassandra(), await ensureTestCassandra());
    const topology = await regionsTopology({
      regions: [a, b].map((name, i) => ({ name, historyNodes: 1, cassandra: keyspaces[i]!, visibility: { url: OPENSEARCH!, index: indexes[name]! } })),
      numShards: 2,
      redis,
      membership: { ttlMs: 3000, heartbeatMs: 1000, pollMs: 300 },
    });
    const bundle = workflowBundle();
    pair = await RegionPair.start(topology, 'tandem-vis-');
    await pair.registerGlobalNamespace(NAMESPACE, a);
    for (const name of [a, b]) clients.set(name, new Client({ connection: await pair.connection(name), namespace: NAMESPACE }));
    native = await NativeConnection.connect({ address: pair.frontendOf(a) });
    worker = await Worker.create({ connection: native, namespace: NAMESPACE, taskQueue, workflowBundle: await bundle, activities });
    workerRun = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await workerRun?.catch(() => {});
    await native?.close();
    await pair?.stop();
    for (const k of keyspaces) await dropTestKeyspace(k);
    for (const index of Object.values(indexes)) await fetch(`${OPENSEARCH}/${index}`, { method: 'DELETE' }).catch(() => {});
  });

  /** The rows a query lists in the region, asked of its own frontend (never forwarded to the active one). */
  function list(region: string, query: string): Promise<Rows> {
    return pair.local(region, async () => {
      const rows: Rows = {};
      for await (const w of clients.get(region)!.workflow.list({ query })) rows[w.workflowId] = w.status.name;
      return rows;
    });
  }

  /** Polls until the query lists exactly `want` in the region. */
  async function lists(region: string, query: string, want: Rows): Promise<void> {
    let last: Rows = {};
    await eventually(
      `${region}: ${query}`,
      async () => {
        last = await list(region, query);
        return JSON.stringify(sorted(last)) === JSON.stringify(sorted(want)) ? true : undefined;
      },
      CONVERGE_MS,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; listed ${JSON.stringify(sorted(last))}, want ${JSON.stringify(sorted(want))}`);
    });
  }

  const only = (pick: (id: string, status: string) => boolean): Rows => Object.fromEntries(Object.entries(expected).filter(([id, s]) => pick(id, s)));

  test('the official client defines CustomerId and starts parent, child and runs in a', async () => {
    const client = clients.get(a)!;
    await pair.local(a, (c) => c.operatorService.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: { CustomerId: enums.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD } }));
    // The parent starts its child with ABANDON and completes; the child keeps running.
    const parent = await client.workflow.start('abandoningParent', { workflowId: parentId, taskQueue, args: [`${parentId}-child`, 'ABANDON'] });
    parentRunId = parent.firstExecutionRunId;
    assert.equal(await parent.result(), `${parentId}-child`);
    Object.assign(expected, { [parentId]: 'COMPLETED', [`${parentId}-child`]: 'RUNNING' });
    const start = (workflowId: string, customer: string) =>
      client.workflow.start('waitForSignals', { workflowId, taskQueue, typedSearchAttributes: new TypedSearchAttributes([{ key: CUSTOMER, value: customer }]) });
    for (const id of [`acme-0-${suffix}`, `acme-1-${suffix}`]) {
      await start(id, 'acme');
      expected[id] = 'RUNNING';
    }
    const done = await start(`done-${suffix}`, 'other');
    await done.signal('done');
    assert.equal(await done.result(), 0);
    expected[done.workflowId] = 'COMPLETED';
    const terminated = await start(`term-${suffix}`, 'other');
    await terminated.terminate('by the test');
    expected[terminated.workflowId] = 'TERMINATED';
  });

  for (const region of ['a', 'b'] as const) {
    test(`the Web UI's queries answer the right rows in ${region}${region === 'b' ? ' (the standby, from the events it applied)' : ''}`, async () => {
      const name = region === 'a' ? a : b;
      await lists(name, '`ExecutionStatus`="Running"', only((_, s) => s === 'RUNNING'));
      await lists(name, `StartTime >= "${since}"`, expected);
      await lists(name, `ParentWorkflowId = "${parentId}" AND ParentRunId = "${parentRunId}"`, { [`${parentId}-child`]: 'RUNNING' });
      await lists(name, `RootWorkflowId = "${parentId}"`, only((id) => id.startsWith(parentId)));
      await lists(name, 'CustomerId = "acme"', only((id) => id.startsWith('acme-')));
      await lists(name, '`ExecutionStatus`="Running" AND CustomerId = "acme"', only((id) => id.startsWith('acme-')));

      const counted = await pair.local(name, () => clients.get(name)!.workflow.count('GROUP BY ExecutionStatus'));
      const groups = Object.fromEntries(counted.groups.map((g) => [String(g.groupValues[0]), g.count]));
      assert.deepEqual(groups, { Running: 3, Completed: 2, Terminated: 1 }, `${name}: count GROUP BY ExecutionStatus`);
      assert.equal(counted.count, 6, `${name}: count`);
      assert.equal((await pair.local(name, () => clients.get(name)!.workflow.count('CustomerId = "acme"'))).count, 2, `${name}: count of CustomerId = "acme"`);

      // The records live in the region's own OpenSearch index: one document per run.
      const docs = await eventually(
        `${name}'s index ${indexes[name]} holds the 6 runs`,
        async () => {
          const res = await fetch(`${OPENSEARCH}/${indexes[name]}/_count`);
          const body = (await res.json()) as { count?: number };
          return body.count === 6 ? body.count : undefined;
        },
        CONVERGE_MS,
      );
      assert.equal(docs, 6);
      const hit = (await (await fetch(`${OPENSEARCH}/${indexes[name]}/_search?q=${encodeURIComponent(`"${parentId}-child"`)}`)).json()) as { hits: { total: { value: number } } };
      assert.ok(hit.hits.total.value >= 1, `${name}'s index has a document for the child`);
    });
  }
});

function sorted(rows: Rows): Rows {
  return Object.fromEntries(Object.entries(rows).sort(([x], [y]) => x.localeCompare(y)));
}
