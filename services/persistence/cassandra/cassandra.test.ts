import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { dropTestKeyspace, ensureTestCassandra, type TestCassandra } from '../../../deploy/cassandra/test-instance.js';
import { runPersistenceConformance } from '../conformance/suite.js';
import { runVisibilityConformance } from '../conformance/visibility-suite.js';
import { StoreUnavailableError } from '../errors.js';
import { LEGACY_SUBQUEUE } from '../task-levels.js';
import { openCassandraPersistence } from './index.js';

let instance: TestCassandra | undefined;

runPersistenceConformance('cassandra', async () => {
  instance = await ensureTestCassandra();
  return openCassandraPersistence({ contactPoints: [instance.contactPoint], localDataCenter: 'datacenter1', keyspace: instance.keyspace });
});

runVisibilityConformance('cassandra', async () => {
  instance ??= await ensureTestCassandra();
  const p = await openCassandraPersistence({ contactPoints: [instance.contactPoint], localDataCenter: 'datacenter1', keyspace: instance.keyspace });
  return { store: p.visibility, close: () => p.close() };
});

test('opening a store nobody listens on is StoreUnavailableError', async () => {
  await assert.rejects(
    openCassandraPersistence({ contactPoints: ['127.0.0.1:1'], localDataCenter: 'datacenter1', keyspace: 'unreachable' }),
    StoreUnavailableError,
  );
});

test('schema is idempotent: a second open of the same keyspace works', async () => {
  const t = instance ?? (await ensureTestCassandra());
  const again = await openCassandraPersistence({ contactPoints: [t.contactPoint], localDataCenter: 'datacenter1', keyspace: t.keyspace });
  await again.close();
});

test('a queue of the old task_queues table is adopted on its first lease: unacked tasks in the legacy subqueue, the old rows gone', async () => {
  const t = instance ?? (await ensureTestCassandra());
  instance ??= t;
  const store = await openCassandraPersistence({ contactPoints: [t.contactPoint], localDataCenter: 'datacenter1', keyspace: t.keyspace });
  const raw = new cassandra.Client({ contactPoints: [t.contactPoint], localDataCenter: 'datacenter1', encoding: { useBigIntAsLong: true } });
  try {
    const key = { namespaceId: randomUUID(), name: 'old-tq', type: 1 };
    const id = (seq: bigint) => 7n * 2n ** 20n + seq;
    const old = `${t.keyspace}.task_queues`;
    const insert = `INSERT INTO ${old} (namespace_id, name, type, row_type, id, range_id, ack_level, expiry_time, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    const pk = [key.namespaceId, key.name, key.type];
    await raw.execute(insert, [...pk, 0, 0n, 7n, id(1n), null, null], { prepare: true });
    for (const seq of [1n, 2n, 3n]) await raw.execute(insert, [...pk, 1, id(seq), null, null, seq * 10n, `{"seq":${seq}}`], { prepare: true });

    const lease = await store.taskQueues.leaseTaskQueue(key);
    assert.equal(lease.rangeId, 8n, 'the old row was fenced at 8 and the new one starts there');
    assert.deepEqual(lease.ackLevels, { [LEGACY_SUBQUEUE]: { pass: 0n, taskId: id(1n) } });
    const tasks = await store.taskQueues.getTasks(key, LEGACY_SUBQUEUE, lease.ackLevels[LEGACY_SUBQUEUE]!, 10);
    assert.deepEqual(tasks, [2n, 3n].map((seq) => ({ subqueue: LEGACY_SUBQUEUE, pass: 0n, taskId: id(seq), expiryTimeMs: Number(seq * 10n), data: `{"seq":${seq}}` })));
    assert.equal((await raw.execute(`SELECT id FROM ${old} WHERE namespace_id = ? AND name = ? AND type = ?`, pk, { prepare: true })).rowLength, 0);
    assert.equal((await store.taskQueues.leaseTaskQueue(key)).rangeId, 9n, 'later leases bump the new row');
  } finally {
    await raw.shutdown();
    await store.close();
  }
});

after(async () => {
  if (instance) await dropTestKeyspace(instance);
});
