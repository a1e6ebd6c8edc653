// Global namespaces as `make dev` runs them (DESIGN invariants 4-10): regions a and b in one
// process on SQLite, the official client and worker connected ONLY to the global endpoint. Under a
// bounded load, b's copy of every run equals a's event for event (versions included); a graceful
// failover a -> b moves the namespace while workflows are in flight, the same worker (same
// address) finishes every one of them in b, none lost or run twice; then it fails back the same way.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { DevRegions, devRegionsDefaults } from '../deploy/processes/dev-regions.js';
import { silentLogger } from '../services/common/logger.js';
import { checkReplay } from '../services/history/replay-check.js';
import type { EmbeddedCluster } from '../deploy/processes/embedded.js';
import * as activities from './activities.js';
import { eventually, freePort, workflowBundle } from './harness.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const NUM_SHARDS = 4;
const WORKFLOWS = 20;

describe('a global namespace across two regions (make dev, SQLite)', () => {
  let dir: string;
  let dev: DevRegions;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `global-${randomUUID()}`;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-global-'));
    const defaults = devRegionsDefaults({ kind: 'sqlite', dir });
    const ports = [await freePort(), await freePort()];
    dev = new DevRegions(
      { ...defaults, opsPagePort: 0, devPort: await freePort(), numShards: NUM_SHARDS, routeTtlMs: 1000, regions: defaults.regions.map((r, i) => ({ ...r, port: ports[i]!, metricsPort: 0 })) },
      silentLogger(),
    );
    await dev.start();
    client = new Client({ connection: await Connection.connect({ address: dev.address }) });
    worker = await Worker.create({ connection: await NativeConnection.connect({ address: dev.address }), taskQueue, workflowBundle: await workflowBundle(), activities });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await client?.connection.close();
    await dev?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const [a, b] = [() => dev.clusters[0]!, () => dev.clusters[1]!];

  /** (event id, version, type) of every event of the run, as the region stores it. */
  async function historyIn(region: EmbeddedCluster, workflowId: string): Promise<string[]> {
    const ns = await region.namespaces!.requireByName('default');
    const engine = region.history!.engine;
    const ms = await engine.tx.read(ns.id, workflowId, '');
    return (await engine.tx.readAllEvents(ms, 1, ms.info.nextEventId)).map((e) => `${String(e.eventId)}@${String(e.version)}:${e.eventType}`);
  }

  async function sameInBothRegions(ids: string[]): Promise<void> {
    await eventually(
      'b holds every run as a has it',
      async () => {
        for (const id of ids) {
          const [inA, inB] = [await historyIn(a(), id), await historyIn(b(), id)];
          if (JSON.stringify(inA) !== JSON.stringify(inB)) return undefined;
        }
        return true;
      },
      15_000,
    );
  }

  async function failover(to: string): Promise<void> {
    const started = Date.now();
    await client.connection.workflowService.updateNamespace({ namespace: 'default', replicationConfig: { activeClusterName: to } });
    for (const region of dev.clusters) {
      await eventually(`region ${region.config.region.name} sees default active in ${to}`, async () =>
        (await region.namespaces!.refreshNamespace((await region.namespaces!.requireByName('default')).id)).activeRegion === to ? true : undefined,
      );
    }
    await eventually('the global endpoint routes default to ' + to, async () => ((await dev.routes.get('default'))?.region === to ? true : undefined));
    console.log(`failover to ${to}: ${Date.now() - started} ms`);
  }

  test('under load, b holds every run as a has it; a graceful failover and a failback lose nothing and run nothing twice', { timeout: 180_000 }, async () => {
    const ids = Array.from({ length: WORKFLOWS }, (_, i) => `global-${i}-${randomUUID()}`);
    const handles = await Promise.all(ids.map((workflowId) => client.workflow.start('waitForSignals', { taskQueue, workflowId })));
    for (const h of handles) await h.signal('add', 1);
    const greeted = await client.workflow.execute('greeter', { taskQueue, workflowId: `greeter-${randomUUID()}`, args: ['a'] });
    assert.equal(greeted, 'hello a');
    await sameInBothRegions(ids);

    // Graceful failover with every workflow in flight; the worker keeps its one address.
    await failover('b');
    for (const h of handles) await h.signal('add', 10);
    for (const h of handles) await h.signal('done');
    const results = await Promise.all(handles.map((h) => h.result()));
    assert.deepEqual(results, ids.map(() => 11), 'every workflow saw both signals exactly once and completed');
    for (const id of ids) {
      // WORKFLOW_EXECUTION_COMPLETED (type 2), written at a version of region b (residue 2 mod 10).
      const completed = (await historyIn(b(), id)).find((e) => e.endsWith(':2'));
      assert.match(completed ?? '', /@\d*2:2$/, `${id} completed in b`);
    }
    assert.equal(await client.workflow.execute('greeter', { taskQueue, workflowId: `greeter-${randomUUID()}`, args: ['b'] }), 'hello b');
    await sameInBothRegions(ids);

    // And home again.
    await failover('a');
    const back = await client.workflow.start('waitForSignals', { taskQueue, workflowId: `back-${randomUUID()}` });
    await back.signal('add', 5);
    await back.signal('done');
    assert.equal(await back.result(), 5);

    for (const region of dev.clusters) {
      const report = await checkReplay(region.store!, NUM_SHARDS);
      assert.deepEqual(report.mismatches, [], `every run of region ${region.config.region.name} rebuilds from its history`);
    }
  });
});
