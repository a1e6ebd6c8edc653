import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRegistry } from '../common/metrics.js';
import { silentLogger } from '../common/logger.js';
import { openSqlitePersistence } from './sqlite/index.js';
import { ConditionFailedError, HistoryConflictError, NamespaceAlreadyExistsError, ShardOwnershipLostError } from './errors.js';
import { outcomeOf, withPersistenceMetrics } from './metrics-decorator.js';
import { freshShardId, namespace } from './conformance/fixtures.js';

test('every call is timed with its store, operation and outcome; failures keep their error', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-pm-'));
  const registry = createRegistry();
  const store = withPersistenceMetrics(await openSqlitePersistence({ path: path.join(dir, 'x.db'), logger: silentLogger() }), registry);
  try {
    const ns = namespace();
    await store.namespaces.createNamespace(ns);
    assert.equal((await store.namespaces.getNamespaceByName(ns.name))?.id, ns.id);
    await assert.rejects(store.namespaces.createNamespace(ns), NamespaceAlreadyExistsError);
    const shardId = freshShardId();
    await store.shards.createShard({ shardId, rangeId: 1n, owner: 'a', ackLevels: {}, updatedAtMs: 1 });
    await assert.rejects(store.shards.updateShard({ shardId, rangeId: 3n, owner: 'b', ackLevels: {}, updatedAtMs: 2 }, 2n), ShardOwnershipLostError);
    await store.executions.rangeDeleteTimerTasks(shardId, { visibilityTimeMs: 1, taskId: 1n });

    const text = await registry.metrics();
    const count = (labels: string) => {
      const line = text.split('\n').find((l) => l.startsWith('tandem_persistence_latency_seconds_count{') && labels.split(',').every((p) => l.includes(p)));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    assert.equal(count('store="namespaces",operation="createNamespace",outcome="ok"'), 1);
    assert.equal(count('store="namespaces",operation="createNamespace",outcome="conflict"'), 1);
    assert.equal(count('store="namespaces",operation="getNamespaceByName",outcome="ok"'), 1);
    assert.equal(count('store="shards",operation="updateShard",outcome="fenced"'), 1);
    assert.equal(count('store="executions",operation="rangeDeleteTimerTasks",outcome="ok"'), 1);
    assert.match(text, /tandem_persistence_errors_total\{[^}]*store="shards",operation="updateShard",outcome="fenced"\} 1/);
    assert.equal(store.kind, 'sqlite');
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a rewrite of committed history is an error, not contention', () => {
  assert.equal(outcomeOf(new HistoryConflictError('event 3 rewritten')), 'error');
  assert.equal(outcomeOf(new ConditionFailedError('stale version')), 'conflict');
});
