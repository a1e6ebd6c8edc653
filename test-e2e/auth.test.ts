// Issue 13, API keys, as `tandem dev --auth` runs them: regions a and b in one process on SQLite
// behind the global endpoint, auth on. The official client and worker with `apiKey` run a workflow
// end to end; a read-only key cannot start, signal or terminate; a developer key cannot register a
// namespace or fail one over; expired, disabled and 1,000 made-up keys are refused; after a
// failover the same key works in b; a key disabled in a stops working in a and in b (identity
// replication plus the 2 s key cache).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { DevRegions, devRegionsDefaults } from '../deploy/processes/dev-regions.js';
import { silentLogger } from '../services/common/logger.js';
import { bootstrapKey } from '../services/auth/region-services.js';
import { IdentityServiceClient } from '../proto/gen/tandem/admin/v1/identity.js';
import { FailoverServiceClient } from '../proto/gen/tandem/admin/v1/failover.js';
import * as activities from './activities.js';
import { eventually, freePort, workflowBundle } from './harness.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

/** The code a call failed with, or 'OK'. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    const e = err as { code?: number; cause?: { code?: number } };
    const code = e.code ?? e.cause?.code;
    return code === undefined ? String(err) : grpc.status[code]!;
  }
}

function unary<T>(fn: (cb: (err: grpc.ServiceError | null, res: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

function bearer(key: string): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('authorization', `Bearer ${key}`);
  return m;
}

describe('API keys (tandem dev --auth, two regions, SQLite)', () => {
  let dir: string;
  let dev: DevRegions;
  let adminKey: string;
  let identity: IdentityServiceClient;
  const connections: Connection[] = [];
  const taskQueue = `auth-${randomUUID()}`;

  /** The official client (no retries: a refusal is seen as it is) at `address` with `apiKey`. */
  function clientWith(apiKey: string | undefined, address = dev.address): Client {
    // Lazy: connect() would call GetSystemInfo, which a refused key fails.
    const connection = Connection.lazy({ address, apiKey, tls: false, interceptors: [] });
    connections.push(connection);
    return new Client({ connection, namespace: 'default' });
  }

  async function keyFor(user: string, role: string, ttlMs = 0): Promise<string> {
    await unary((cb) => identity.createUser({ user: { name: user, role, namespacePermissions: {}, serviceAccount: false, createdAtMs: 0n } }, bearer(adminKey), cb)).catch(() => {});
    const r = await unary<{ secret: string }>((cb) => identity.createApiKey({ owner: user, description: 'test', ttlMs: BigInt(ttlMs) }, bearer(adminKey), cb));
    return r.secret;
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-auth-'));
    const defaults = devRegionsDefaults({ kind: 'sqlite', dir });
    const ports = [await freePort(), await freePort()];
    dev = new DevRegions(
      { ...defaults, auth: true, opsPagePort: 0, devPort: await freePort(), numShards: 2, routeTtlMs: 1000, regions: defaults.regions.map((r, i) => ({ ...r, port: ports[i]!, metricsPort: 0 })) },
      silentLogger(),
    );
    await dev.start();
    adminKey = await bootstrapKey(dev.home.identity!, 'admin', 'admin', false, 'test bootstrap');
    identity = new IdentityServiceClient(dev.home.address, grpc.credentials.createInsecure());
  });

  after(async () => {
    identity?.close();
    for (const c of connections) await c.close();
    await dev?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the official client and worker with apiKey run a workflow through the global endpoint', async () => {
    const key = await keyFor('app', 'developer');
    const client = clientWith(key);
    const worker = await Worker.create({ connection: await NativeConnection.connect({ address: dev.address, apiKey: key, tls: false }), taskQueue, workflowBundle: await workflowBundle(), activities });
    const running = worker.run();
    try {
      assert.equal(await client.workflow.execute('greeter', { taskQueue, workflowId: `auth-${randomUUID()}`, args: ['key'] }), 'hello key');
    } finally {
      worker.shutdown();
      await running;
    }
  });

  test('no key, 1,000 made-up keys, an expired key and a disabled key are refused with UNAUTHENTICATED', async () => {
    assert.equal(await codeOf((clientWith(undefined)).workflowService.describeNamespace({ namespace: 'default' })), 'UNAUTHENTICATED');
    const frontend = (clientWith(undefined, dev.home.address)).connection;
    const codes = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const made = i % 2 ? `tdm_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}` : randomBytes(1 + (i % 80)).toString('base64');
      codes.add(await codeOf(frontend.withMetadata({ authorization: `Bearer ${made}` }, () => frontend.workflowService.describeNamespace({ namespace: 'default' }))));
    }
    assert.deepEqual([...codes], ['UNAUTHENTICATED']);

    const expired = await keyFor('shortlived', 'developer', 1);
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(await codeOf((clientWith(expired)).workflowService.describeNamespace({ namespace: 'default' })), 'UNAUTHENTICATED');

    const disabled = await keyFor('disabled', 'developer');
    const id = disabled.split('_')[1]!;
    await unary((cb) => identity.setApiKeyDisabled({ id, disabled: true }, bearer(adminKey), cb));
    const c = clientWith(disabled);
    await eventually('the disabled key refused', async () => ((await codeOf(c.workflowService.describeNamespace({ namespace: 'default' }))) === 'UNAUTHENTICATED' ? true : undefined));
  });

  test('a read-only key reads, and cannot start, signal or terminate', async () => {
    const dev_ = clientWith(await keyFor('writer', 'developer'));
    const workflowId = `ro-${randomUUID()}`;
    await dev_.workflow.start('waitForSignals', { taskQueue: `idle-${randomUUID()}`, workflowId });
    const ro = clientWith(await keyFor('reader', 'read-only'));
    assert.equal((await ro.workflow.getHandle(workflowId).describe()).workflowId, workflowId);
    assert.equal(await codeOf(ro.workflow.start('waitForSignals', { taskQueue: 'x', workflowId: `ro-${randomUUID()}` })), 'PERMISSION_DENIED');
    assert.equal(await codeOf(ro.workflow.getHandle(workflowId).signal('add', 1)), 'PERMISSION_DENIED');
    assert.equal(await codeOf(ro.workflow.getHandle(workflowId).terminate('no')), 'PERMISSION_DENIED');
    assert.equal(await codeOf(ro.workflow.getHandle(workflowId).cancel()), 'PERMISSION_DENIED');
    assert.equal(await codeOf(dev_.workflow.getHandle(workflowId).terminate('done')), 'OK');

    // The audit log of region a has the termination and the refused one, with who asked.
    const audit = await unary<{ entries: { identity: string; action: string; target: string; outcome: string }[] }>((cb) => identity.listAuthAudit({ limit: 100 }, bearer(adminKey), cb));
    const mine = audit.entries.filter((e) => e.action === 'TerminateWorkflowExecution' && e.target === `default/${workflowId}`);
    assert.deepEqual(mine.map((e) => [e.identity, e.outcome]).sort(), [['user:reader', 'denied'], ['user:writer', 'ok']]);
  });

  test('a developer key cannot register a namespace, fail one over, or manage keys', async () => {
    const key = await keyFor('developer', 'developer');
    const c = clientWith(key);
    assert.equal(await codeOf(c.workflowService.registerNamespace({ namespace: `ns-${randomUUID()}`, workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86400) } })), 'PERMISSION_DENIED');
    assert.equal(await codeOf(c.workflowService.updateNamespace({ namespace: 'default', replicationConfig: { activeClusterName: 'b' } })), 'PERMISSION_DENIED');
    const failover = new FailoverServiceClient(dev.home.address, grpc.credentials.createInsecure());
    try {
      assert.equal(await codeOf(unary((cb) => failover.failoverNamespace({ namespace: 'default', targetRegion: 'b', force: true, timeoutMs: 0n, identity: 'test' }, bearer(key), cb))), 'PERMISSION_DENIED');
    } finally {
      failover.close();
    }
    assert.equal(await codeOf(unary((cb) => identity.createApiKey({ owner: 'developer', description: '', ttlMs: 0n }, bearer(key), cb))), 'PERMISSION_DENIED');
    assert.equal(await codeOf(unary((cb) => identity.listUsers({}, new grpc.Metadata(), cb))), 'UNAUTHENTICATED');
  });

  test('a failover changes nothing for a key: after a -> b the same key and address run a workflow in b', async () => {
    const key = await keyFor('mover', 'developer');
    const inB = clientWith(key, dev.clusters[1]!.address);
    await eventually('the key known in b', async () => ((await codeOf(inB.workflowService.describeNamespace({ namespace: 'default' }))) === 'OK' ? true : undefined));
    const admin = clientWith(adminKey);
    await admin.workflowService.updateNamespace({ namespace: 'default', replicationConfig: { activeClusterName: 'b' } });
    const worker = await Worker.create({ connection: await NativeConnection.connect({ address: dev.address, apiKey: key, tls: false }), taskQueue, workflowBundle: await workflowBundle(), activities });
    const running = worker.run();
    try {
      assert.equal((await dev.clusters[1]!.namespaces!.requireByName('default')).activeRegion, 'b');
      assert.equal(await clientWith(key).workflow.execute('greeter', { taskQueue, workflowId: `moved-${randomUUID()}`, args: ['b'] }), 'hello b');
    } finally {
      worker.shutdown();
      await running;
      await admin.workflowService.updateNamespace({ namespace: 'default', replicationConfig: { activeClusterName: 'a' } });
    }
  });

  test('a key disabled in region a stops working in a and in b within seconds', async () => {
    const key = await keyFor('revoked', 'developer');
    const [a, b] = [clientWith(key, dev.clusters[0]!.address), clientWith(key, dev.clusters[1]!.address)];
    const describe = (c: Client) => codeOf(c.workflowService.describeNamespace({ namespace: 'default' }));
    // b knows the key once identity replication brought it there.
    await eventually('the key works in b', async () => ((await describe(b)) === 'OK' ? true : undefined));
    assert.equal(await describe(a), 'OK');
    await unary((cb) => identity.setApiKeyDisabled({ id: key.split('_')[1]!, disabled: true }, bearer(adminKey), cb));
    await eventually('the key refused in a and in b', async () => ((await describe(a)) === 'UNAUTHENTICATED' && (await describe(b)) === 'UNAUTHENTICATED' ? true : undefined), 15_000);
  });
});
