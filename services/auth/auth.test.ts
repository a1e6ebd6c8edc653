import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { reflectionRoot } from '../common/grpc-codec.js';
import { isTandemError } from '../common/errors.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import { Authorizer } from './authorizer.js';
import { IdentityDirectory } from './directory.js';
import { importAdminKey } from './region-services.js';
import { accessOf } from './methods.js';
import { allows, levelOn, type Access } from './model.js';
import { TokenBuckets } from './rate-limiter.js';
import { bearerToken, mintKey, parseToken } from './secrets.js';
import { nextVersion, regionTag } from './versions.js';

const WF = '/temporal.api.workflowservice.v1.WorkflowService';
const OP = '/temporal.api.operatorservice.v1.OperatorService';

async function directory(now: () => number = Date.now) {
  const p = await openSqlitePersistence({ path: ':memory:' });
  return { p, dir: new IdentityDirectory(p.identity, regionTag(1n), undefined, now) };
}

async function refusal(p: Promise<unknown>, code: string): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isTandemError(err, code as never), `expected ${code}, got ${String(err)}`);
    return (err as Error).message;
  }
  return assert.fail(`expected ${code}`);
}

describe('roles and methods', () => {
  const user = (role: 'admin' | 'developer' | 'read-only', namespaces = {}) => ({ role, namespaces });
  const may = (u: ReturnType<typeof user>, path: string, ns = 'default') => {
    const access = accessOf(path);
    assert.notEqual(access, 'internal');
    return allows(u, access as Access, ns);
  };

  test('a read-only user reads, and cannot start, signal, update, cancel, terminate or run a worker', () => {
    const ro = user('read-only');
    for (const m of ['DescribeWorkflowExecution', 'ListWorkflowExecutions', 'CountWorkflowExecutions', 'GetWorkflowExecutionHistory', 'QueryWorkflow', 'DescribeNamespace', 'GetSystemInfo']) {
      assert.equal(may(ro, `${WF}/${m}`), true, m);
    }
    for (const m of ['StartWorkflowExecution', 'SignalWorkflowExecution', 'SignalWithStartWorkflowExecution', 'UpdateWorkflowExecution', 'RequestCancelWorkflowExecution', 'TerminateWorkflowExecution', 'PollWorkflowTaskQueue', 'RespondWorkflowTaskCompleted', 'PollActivityTaskQueue', 'CreateSchedule']) {
      assert.equal(may(ro, `${WF}/${m}`), false, m);
    }
  });

  test('a developer writes, and cannot register namespaces, fail over, or manage users and keys', () => {
    const dev = user('developer');
    assert.equal(may(dev, `${WF}/StartWorkflowExecution`), true);
    assert.equal(may(dev, `${WF}/TerminateWorkflowExecution`), true);
    for (const path of [`${WF}/RegisterNamespace`, `${WF}/UpdateNamespace`, '/tandem.admin.v1.FailoverService/FailoverNamespace', '/tandem.admin.v1.IdentityService/CreateApiKey', `${OP}/AddSearchAttributes`]) {
      assert.equal(may(dev, path), false, path);
    }
  });

  test('a namespace grant raises a role on that namespace only; an admin may do anything', () => {
    const ro = user('read-only', { orders: 'write' });
    assert.equal(levelOn(ro, 'orders'), 'write');
    assert.equal(levelOn(ro, 'default'), 'read');
    assert.equal(may(ro, `${WF}/StartWorkflowExecution`, 'orders'), true);
    assert.equal(may(user('developer', { orders: 'admin' }), `${WF}/UpdateNamespace`, 'orders'), true);
    assert.equal(may(user('developer', { orders: 'read' }), `${WF}/StartWorkflowExecution`, 'orders'), true, 'a grant never lowers the role');
    const admin = user('admin');
    for (const path of [`${WF}/RegisterNamespace`, '/tandem.admin.v1.IdentityService/DeleteUser', `${OP}/AddOrUpdateRemoteCluster`]) assert.equal(may(admin, path), true);
  });

  test('region-to-region services carry no key; an unknown service needs the account admin', () => {
    assert.equal(accessOf('/tandem.admin.v1.NamespaceReplicationService/ReadNamespaceReplication'), 'internal');
    assert.equal(accessOf('/tandem.admin.v1.IdentityReplicationService/ReadIdentities'), 'internal');
    assert.deepEqual(accessOf('/tandem.future.v1.Something/Do'), { kind: 'account-admin' });
  });

  test('every WorkflowService and OperatorService method is classified', () => {
    for (const [service, prefix] of [
      ['temporal.api.workflowservice.v1.WorkflowService', WF],
      ['temporal.api.operatorservice.v1.OperatorService', OP],
    ] as const) {
      for (const m of reflectionRoot.lookupService(service).methodsArray) assert.notEqual(accessOf(`${prefix}/${m.name}`), 'internal', m.name);
    }
  });
});

describe('secrets and versions', () => {
  test('a minted token parses to its id; 1,000 random strings do not parse or do not match', () => {
    const k = mintKey();
    assert.deepEqual(parseToken(k.token)?.id, k.id);
    assert.equal(bearerToken(`Bearer ${k.token}`), k.token);
    assert.equal(bearerToken(`bearer   ${k.token} `), k.token);
    assert.equal(bearerToken(k.token), undefined, 'the scheme is required');
    for (let i = 0; i < 1000; i++) assert.equal(parseToken(randomBytes(1 + (i % 64)).toString(i % 2 ? 'base64url' : 'hex')), undefined);
  });

  test('versions grow past the previous one even when the clock is behind, and differ between regions', () => {
    const a = nextVersion(undefined, 1000, regionTag(1n));
    const b = nextVersion(undefined, 1000, regionTag(2n));
    assert.notEqual(a, b);
    assert.ok(nextVersion(a, 10, regionTag(1n)) > a);
    assert.ok(nextVersion(b, 1000, regionTag(1n)) > b);
  });
});

describe('directory and authorizer', () => {
  test('users and keys: created, listed without hashes, disabled, deleted; the secret is not stored', async () => {
    const { p, dir } = await directory();
    try {
      await dir.createUser('ann', 'developer', { default: 'admin' }, false);
      await refusal(dir.createUser('ann', 'admin', {}, false), 'ALREADY_EXISTS');
      await refusal(dir.createUser('bad name', 'admin', {}, false), 'INVALID_ARGUMENT');
      await refusal(dir.createUser('bob', 'owner', {}, false), 'INVALID_ARGUMENT');
      await refusal(dir.createApiKey('nobody', '', 0), 'NOT_FOUND');
      const { key, token } = await dir.createApiKey('ann', 'laptop', 60_000);
      assert.equal(key.owner, 'ann');
      const [listed] = await dir.listApiKeys('ann');
      assert.deepEqual(listed, key);
      assert.equal('hash' in listed!, false);
      const stored = await p.identity.getIdentity('apikey', key.id);
      assert.ok(stored && !stored.body.includes(parseToken(token)!.secret));
      assert.equal((await dir.setApiKeyDisabled(key.id, true)).disabled, true);
      await dir.deleteApiKey(key.id);
      assert.deepEqual(await dir.listApiKeys(), []);
      assert.equal((await p.identity.getIdentity('apikey', key.id))?.body.includes('"deleted":true'), true, 'a tombstone replicates the deletion');
      const updated = await dir.updateUser('ann', 'read-only', { default: 'none', orders: 'write' });
      assert.deepEqual([updated.role, updated.namespaces], ['read-only', { orders: 'write' }]);
      await dir.deleteUser('ann');
      assert.deepEqual(await dir.listUsers(), []);
    } finally {
      await p.close();
    }
  });

  test('the authorizer refuses missing, malformed, unknown, wrong-secret, expired, disabled and orphaned keys', async () => {
    let now = 1_000_000;
    const { p, dir } = await directory(() => now);
    try {
      const auth = new Authorizer(dir, { cacheTtlMs: 1_000, cacheMaxEntries: 100 }, () => now);
      await dir.createUser('svc', 'developer', {}, true);
      const { key, token } = await dir.createApiKey('svc', '', 10_000);
      const who = await auth.authenticate(`Bearer ${token}`);
      assert.equal(who.identity, 'service:svc');
      assert.equal(who.keyId, key.id);
      await refusal(auth.authenticate(undefined), 'UNAUTHENTICATED');
      await refusal(auth.authenticate('Bearer nonsense'), 'UNAUTHENTICATED');
      await refusal(auth.authenticate(`Bearer ${mintKey().token}`), 'UNAUTHENTICATED');
      const wrongSecret = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      assert.equal(await refusal(auth.authenticate(`Bearer ${wrongSecret}`), 'UNAUTHENTICATED'), 'invalid API key.');
      for (let i = 0; i < 1000; i++) await refusal(auth.authenticate(`Bearer ${randomBytes(8 + (i % 60)).toString('base64url')}`), 'UNAUTHENTICATED');

      // Disabled: refused once the cached record is older than the cache time.
      await dir.setApiKeyDisabled(key.id, true);
      await auth.authenticate(`Bearer ${token}`);
      now += 1_000;
      assert.match(await refusal(auth.authenticate(`Bearer ${token}`), 'UNAUTHENTICATED'), /disabled/);
      await dir.setApiKeyDisabled(key.id, false);
      now += 1_000;
      await auth.authenticate(`Bearer ${token}`);
      now += 10_000;
      assert.match(await refusal(auth.authenticate(`Bearer ${token}`), 'UNAUTHENTICATED'), /expired/);

      const fresh = await dir.createApiKey('svc', '', 0);
      await dir.deleteUser('svc');
      assert.match(await refusal(auth.authenticate(`Bearer ${fresh.token}`), 'UNAUTHENTICATED'), /no longer exists/);
    } finally {
      await p.close();
    }
  });

  test("a topology's admin key: stored once for the account admin, never revived after a deletion", async () => {
    const { p, dir } = await directory();
    try {
      const auth = new Authorizer(dir, { cacheTtlMs: 0, cacheMaxEntries: 100 });
      const { token, id } = mintKey();
      assert.equal(await importAdminKey(dir, token, 60_000), true);
      assert.equal(await importAdminKey(dir, token, 60_000), false, 'a second frontend finds it stored');
      const who = await auth.authenticate(`Bearer ${token}`);
      assert.deepEqual([who.identity, who.user.role], ['user:admin', 'admin']);
      await dir.setApiKeyDisabled(id, true);
      assert.equal(await importAdminKey(dir, token, 60_000), false, 'a restart does not re-enable it');
      await dir.deleteApiKey(id);
      assert.equal(await importAdminKey(dir, token, 60_000), false, 'nor revive it');
      await refusal(auth.authenticate(`Bearer ${token}`), 'UNAUTHENTICATED');
      await refusal(importAdminKey(dir, 'not-a-key', 60_000), 'INVALID_ARGUMENT');
    } finally {
      await p.close();
    }
  });

  test('authorize answers PERMISSION_DENIED naming what the call needs', async () => {
    const { p, dir } = await directory();
    try {
      const auth = new Authorizer(dir);
      await dir.createUser('reader', 'read-only', {}, false);
      const { token } = await dir.createApiKey('reader', '', 0);
      const who = await auth.authenticate(`Bearer ${token}`);
      auth.authorize(who, { kind: 'namespace', level: 'read' }, 'default', 'DescribeNamespace');
      assert.throws(
        () => auth.authorize(who, { kind: 'namespace', level: 'write' }, 'default', 'TerminateWorkflowExecution'),
        (err: unknown) => isTandemError(err, 'PERMISSION_DENIED') && /write permission on namespace "default"/.test((err as Error).message),
      );
    } finally {
      await p.close();
    }
  });
});

describe('rate limits', () => {
  test('a bucket lets its burst through, then refuses with the time until the next token', () => {
    let now = 0;
    const b = new TokenBuckets(10, 2, () => now);
    assert.equal(b.take('ns'), 0);
    assert.equal(b.take('ns'), 0);
    assert.equal(b.take('ns'), 100);
    assert.equal(b.take('other'), 0, 'buckets are per name');
    now += 100;
    assert.equal(b.take('ns'), 0);
    assert.equal(new TokenBuckets(0, 1, () => now).take('ns'), 0, 'rate 0: unlimited');
  });
});
