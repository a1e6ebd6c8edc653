// A schedule across failovers, as `make dev` runs two regions (SQLite, one process): a 1 s
// ALLOW_ALL schedule created in a fires there; a graceful failover a -> b moves it (b fires it,
// a stops); then region b goes down and a forced failover promotes a, which fires on. Every
// nominal time from the first action to the last is taken exactly once across the regions.
// Nobody polls the action's task queue: firing does not depend on a worker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { DevRegions, devRegionsDefaults } from '../deploy/processes/dev-regions.js';
import { silentLogger } from '../services/common/logger.js';
import { RegionClient } from '../services/controller/region-client.js';
import { visibilityColumns } from '../services/persistence/visibility-query.js';
import type { EmbeddedCluster } from '../deploy/processes/embedded.js';
import { eventually, freePort } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a schedule across a graceful and a forced failover (make dev, SQLite)', () => {
  let dir: string;
  let dev: DevRegions;
  let client: Client;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-sched-failover-'));
    const defaults = devRegionsDefaults({ kind: 'sqlite', dir });
    const ports = [await freePort(), await freePort()];
    dev = new DevRegions(
      { ...defaults, opsPagePort: 0, devPort: await freePort(), numShards: 4, routeTtlMs: 1000, regions: defaults.regions.map((r, i) => ({ ...r, port: ports[i]!, metricsPort: 0 })) },
      silentLogger(),
    );
    await dev.start();
    client = new Client({ connection: await Connection.connect({ address: dev.address }) });
  });

  after(async () => {
    await client?.connection.close();
    await dev?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const [a, b] = [() => dev.clusters[0]!, () => dev.clusters[1]!];

  async function activeIn(region: EmbeddedCluster, name: string): Promise<void> {
    await eventually(`region ${region.config.region.name} sees default active in ${name}`, async () =>
      (await region.namespaces!.refreshNamespace((await region.namespaces!.requireByName('default')).id)).activeRegion === name ? true : undefined,
    );
  }

  /** The nominal times of the runs the schedule started, as region `c` stores them (second precision). */
  async function nominalTimesIn(c: EmbeddedCluster, scheduleId: string): Promise<{ times: number[]; byRegion: Record<string, number> }> {
    const ns = await c.namespaces!.requireByName('default');
    const engine = c.history!.engine;
    const times: number[] = [];
    const byRegion: Record<string, number> = {};
    const page = await c.store!.visibility.listVisibility({
      namespaceId: ns.id,
      query: { where: { op: 'and', items: [{ op: '=', field: { name: 'WorkflowType', type: visibilityColumns.WorkflowType, builtin: true }, value: 'napper' }] } },
      pageSize: 1000,
    });
    for (const r of page.records) {
      if (!r.workflowId.startsWith(`${scheduleId}-`)) continue;
      times.push(Date.parse(r.workflowId.slice(scheduleId.length + 1)));
      const ms = await engine.tx.read(ns.id, r.workflowId, r.runId);
      const [first] = await engine.tx.readAllEvents(ms, 1, 2);
      const region = Number(first!.version) % 10 === 1 ? 'a' : 'b';
      byRegion[region] = (byRegion[region] ?? 0) + 1;
    }
    return { times: times.sort((x, y) => x - y), byRegion };
  }

  test('every nominal time from the first action to the last is taken once, in the region active then', { timeout: 120_000 }, async () => {
    const scheduleId = `fo-${randomUUID().slice(0, 8)}`;
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1s' }] },
      policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL },
      action: { type: 'startWorkflow', workflowType: 'napper', args: [10], taskQueue: `nobody-${scheduleId}`, workflowId: scheduleId },
    });
    await sleep(3500);

    const graceful = Date.now();
    await client.connection.workflowService.updateNamespace({ namespace: 'default', replicationConfig: { activeClusterName: 'b' } });
    await activeIn(a(), 'b');
    await activeIn(b(), 'b');
    console.log(`graceful failover a -> b: ${Date.now() - graceful} ms`);
    await sleep(3500);

    // Region b goes away; a is promoted without it.
    await b().stop();
    const forced = Date.now();
    const admin = new RegionClient('a', a().address);
    try {
      await admin.failover({ namespace: 'default', targetRegion: 'a', force: true, timeoutMs: 10_000n, identity: 'schedules-failover test' }, 15_000);
    } finally {
      await admin.close();
    }
    await activeIn(a(), 'a');
    console.log(`forced failover b -> a: ${Date.now() - forced} ms`);
    await sleep(3500);

    const { times, byRegion } = await eventually('actions after the forced failover', async () => {
      const got = await nominalTimesIn(a(), scheduleId);
      return got.times.length > 0 && got.times.at(-1)! > forced + 2000 ? got : undefined;
    }, 15_000);
    console.log(`schedule ${scheduleId}: ${times.length} actions, started in a ${byRegion.a ?? 0}, in b ${byRegion.b ?? 0}`);
    assert.ok((byRegion.b ?? 0) > 0, 'b fired while active');
    assert.ok((byRegion.a ?? 0) > 0, 'a fired while active');
    assert.equal(new Set(times).size, times.length, 'no nominal time taken twice');
    const gaps = times.slice(1).filter((t, i) => t - times[i]! !== 1000);
    assert.deepEqual(gaps.map((t) => new Date(t).toISOString()), [], 'no nominal time missed');
  });
});
