// The seam through which a process main composes what history must not import (replication
// starts and stops a shard's stream): listeners passed to HistoryService see every shard the node
// acquires and releases, and a listener that throws keeps neither the others nor the shard from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../common/logger.js';
import { createRegistry } from '../common/metrics.js';
import { NamespaceRegistry } from '../namespaces/registry.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import { HistoryService } from './history-service.js';
import type { ShardLifecycleListener } from './shard-controller.js';

const region = { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n };

test('shard listeners from the process main see each shard acquired and released', async () => {
  const store = await openSqlitePersistence({ path: ':memory:' });
  const log = silentLogger();
  const namespaces = new NamespaceRegistry(store.namespaces, { region }, log);
  const seen: string[] = [];
  const broken: ShardLifecycleListener = {
    onShardAcquired() {
      throw new Error('a broken listener');
    },
    onShardReleased() {
      throw new Error('a broken listener');
    },
  };
  const recorder: ShardLifecycleListener = {
    onShardAcquired: (shard) => seen.push(`acquired ${shard.shardId} at range ${shard.rangeId}`),
    onShardReleased: (shard) => seen.push(`released ${shard.shardId}`),
  };
  const history = new HistoryService({ numShards: 2, hostId: 'h' }, store, namespaces, log, createRegistry(), 'none', {
    shardListeners: [broken, recorder],
  });
  try {
    await namespaces.start();
    await history.start();
    assert.deepEqual(seen, []);
    await history.controller.acquire(1);
    await history.controller.acquire(0);
    history.controller.release(1);
    await history.controller.acquire(1);
    assert.deepEqual(seen, ['acquired 1 at range 1', 'acquired 0 at range 1', 'released 1', 'acquired 1 at range 2']);
    await history.stop();
    assert.deepEqual(seen.slice(4).sort(), ['released 0', 'released 1']);
    assert.deepEqual(history.controller.ownedShardIds, []);
  } finally {
    await namespaces.stop();
    await store.close();
  }
});
