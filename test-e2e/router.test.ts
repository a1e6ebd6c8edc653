// The global endpoint in front of one real region: the official client connects ONLY to the
// router, which proxies by the namespace's route to a `tandem dev` process (SQLite).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { silentLogger } from '../services/common/logger.js';
import { createRegistry } from '../services/common/metrics.js';
import { InMemoryRouteRegistry } from '../services/routes/in-memory.js';
import { DEFAULT_ROUTE } from '../services/routes/route.js';
import { RouterService } from '../services/router/server.js';
import { StoreFixture, TandemProcess } from './harness.js';

describe('router in front of one tandem dev region', () => {
  let store: StoreFixture;
  let region: TandemProcess;
  let connection: Connection;
  const routes = new InMemoryRouteRegistry();
  const metrics = createRegistry();
  const router = new RouterService({ port: 0 }, { routes, registry: metrics, logger: silentLogger() });

  before(async () => {
    store = await StoreFixture.create('sqlite');
    region = await TandemProcess.start(store);
    for (const namespace of [DEFAULT_ROUTE, 'default']) {
      await routes.put({ namespace, region: 'a', endpoint: region.address, epoch: 1, ttlMs: 5000 });
    }
    await router.start();
    connection = await Connection.connect({ address: router.address });
  });
  after(async () => {
    await connection?.close();
    await router.stop();
    await region?.stop();
    await store?.dispose();
  });

  test('start and describe a workflow through the router', async () => {
    const client = new Client({ connection, namespace: 'default' });
    const workflowId = `router-${randomUUID()}`;
    const handle = await client.workflow.start('routerIdle', { taskQueue: `router-${randomUUID()}`, workflowId, args: ['x'] });
    const d = await handle.describe();
    assert.equal(d.workflowId, workflowId);
    assert.equal(d.status.name, 'RUNNING');
    assert.equal(d.type, 'routerIdle');
    await handle.terminate('done');
    assert.equal((await handle.describe()).status.name, 'TERMINATED');

    const requests = (await metrics.getSingleMetric('tandem_router_requests_total')!.get()).values;
    const start = requests.find((v) => v.labels.method === 'StartWorkflowExecution');
    assert.deepEqual([start?.labels.region, start?.labels.code, start?.value], ['a', 'OK', 1]);
  });
});
