// The loss window of a forced failover, measured on the receiving side (receiver-lag.ts): near
// zero with the link healthy and idle, and covering what the old active region wrote after the
// link was cut; served as MeasureLag and reported by `tandem failover --force` and the audit log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { NamespaceRecord } from '../services/persistence/types.js';
import { ReplicationAdminServiceClient, type MeasureLagResponse } from '../proto/gen/tandem/replication/v1/replication.js';
import { converge, NUM_SHARDS, startTwoRegions, type TwoRegions } from '../test-e2e/two-regions.js';

const TANDEM = fileURLToPath(new URL('../bin/tandem.mjs', import.meta.url));
const run = promisify(execFile);
const HEARTBEAT_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the replication lag a forced failover loses', () => {
  let r: TwoRegions;
  let ns: NamespaceRecord;
  let admin: InstanceType<typeof ReplicationAdminServiceClient>;

  before(async () => {
    r = await startTwoRegions({ heartbeatIntervalMs: HEARTBEAT_MS, reconnectMaxBackoffMs: 1_000 });
    ns = await r.globalNamespace();
    admin = new ReplicationAdminServiceClient(r.b.address, grpc.credentials.createInsecure());
  });
  after(async () => {
    admin.close();
    await r.stop();
  });

  const measure = (sourceRegion = 'a') =>
    new Promise<MeasureLagResponse>((resolve, reject) => admin.measureLag({ namespaceId: ns.id, sourceRegion }, (err, res) => (err ? reject(err) : resolve(res!))));

  function start(tag: string) {
    const workflowId = `${tag}-${randomUUID().slice(0, 8)}`;
    return r.a.history!.engine.startWorkflowExecution({ id: ns.id, name: ns.name }, { namespace: ns.name, workflowId, workflowType: { name: 'w' }, taskQueue: { name: 'q' }, requestId: randomUUID() });
  }

  test('healthy and idle: no task waiting, a window of about one heartbeat', async () => {
    for (let i = 0; i < 4; i++) await start('before');
    await converge(r.a, r.b, 5_000);
    await sleep(2 * HEARTBEAT_MS);
    const lag = await measure();
    assert.equal(lag.tasks, 0n);
    assert.deepEqual([lag.shards, lag.shardsUnknown, lag.shardsDisconnected], [NUM_SHARDS, 0, 0]);
    assert.ok(lag.seconds >= 0.9 * (HEARTBEAT_MS / 1000) && lag.seconds <= HEARTBEAT_MS / 1000 + 0.5, `window ${lag.seconds} s`);
  });

  test('an unknown source region is refused', async () => {
    await assert.rejects(measure('nowhere'), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT);
  });

  test('link cut, a keeps writing: the forced failover to b reports a window covering those writes', async () => {
    await r.link.cut();
    const cutAtMs = Date.now();
    let written = 0;
    while (Date.now() - cutAtMs < 2_000) {
      await start('during-cut');
      written++;
      await sleep(100);
    }
    const wroteForS = (Date.now() - cutAtMs) / 1000;
    assert.ok(written > 5);

    const { stdout } = await run(process.execPath, [TANDEM, 'failover', ns.name, '--to', 'b', '--force', '--address', r.b.address]);
    const report = JSON.parse(stdout.trim()) as { mode: string; toRegion: string; lagTasks: number; lagSeconds: number; lagShardsUnknown: number };
    assert.deepEqual([report.mode, report.toRegion], ['forced', 'b']);
    assert.equal(report.lagTasks, 0, 'b never got what a wrote after the cut: nothing is waiting to apply');
    assert.equal(report.lagShardsUnknown, 0);
    assert.ok(report.lagSeconds >= wroteForS, `the window (${report.lagSeconds} s) covers the ${wroteForS} s a wrote after the cut`);

    const [entry] = await r.b.store!.clusterMetadata.listFailoverAudit(ns.name, 1);
    assert.equal(entry!.mode, 'forced');
    assert.deepEqual([entry!.lagTasks, entry!.lagSeconds], [report.lagTasks, report.lagSeconds]);
    const disconnected = await measure();
    assert.equal(disconnected.shardsDisconnected, NUM_SHARDS, 'every stream from a is down');
  });
});
