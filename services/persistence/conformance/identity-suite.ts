// Identity records (users, API keys) and the auth audit log. Records are written with fresh ids;
// the audit log is shared with other tests, so only what this test wrote is looked for.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IdentityRecord } from '../identity-store.js';
import type { Persistence } from '../store.js';

export function describeIdentity(store: () => Persistence): void {
  describe('identities', () => {
    const record = (over: Partial<IdentityRecord> = {}): IdentityRecord => ({
      kind: 'apikey',
      id: `k-${randomUUID()}`,
      version: 100n,
      body: '{"hash":"x"}',
      updatedAtMs: 1_700_000_000_123,
      ...over,
    });

    test('a record is stored, then replaced only by a higher version', async () => {
      const p = store();
      const r = record();
      assert.equal(await p.identity.putIdentityIfNewer(r), true);
      assert.deepEqual(await p.identity.getIdentity('apikey', r.id), r);
      assert.equal(await p.identity.putIdentityIfNewer({ ...r, version: 99n, body: 'older' }), false);
      assert.equal(await p.identity.putIdentityIfNewer({ ...r, body: 'same version' }), false);
      assert.deepEqual(await p.identity.getIdentity('apikey', r.id), r);
      const newer = { ...r, version: 2n ** 62n, body: '{"disabled":true}', updatedAtMs: r.updatedAtMs + 5 };
      assert.equal(await p.identity.putIdentityIfNewer(newer), true);
      assert.deepEqual(await p.identity.getIdentity('apikey', r.id), newer);
    });

    test('kinds are separate; list returns a kind in id order; unknown ids read null', async () => {
      const p = store();
      const id = `u-${randomUUID()}`;
      const user = record({ kind: 'user', id: `${id}-b` });
      const user2 = record({ kind: 'user', id: `${id}-a` });
      const key = record({ kind: 'apikey', id });
      for (const r of [user, user2, key]) await p.identity.putIdentityIfNewer(r);
      assert.equal(await p.identity.getIdentity('apikey', user.id), null);
      const users = (await p.identity.listIdentities('user')).filter((r) => r.id.startsWith(id));
      assert.deepEqual(users, [user2, user]);
      assert.ok((await p.identity.listIdentities('apikey')).some((r) => r.id === id));
      assert.ok((await p.identity.listIdentities('apikey')).every((r) => r.kind === 'apikey'));
    });

    test('the auth audit log lists newest first, at most limit', async () => {
      const p = store();
      const who = `user:${randomUUID()}`;
      const at = Date.now() + 10_000_000;
      await p.identity.appendAuthAudit({ atMs: at, identity: who, action: 'CreateApiKey', target: 'k1', outcome: 'ok', message: '' });
      await p.identity.appendAuthAudit({ atMs: at + 1, identity: who, action: 'TerminateWorkflowExecution', target: 'default/wf', outcome: 'denied', message: 'read-only' });
      const mine = (await p.identity.listAuthAudit(10_000)).filter((e) => e.identity === who);
      assert.deepEqual(
        mine.map((e) => [e.action, e.outcome, e.atMs]),
        [
          ['TerminateWorkflowExecution', 'denied', at + 1],
          ['CreateApiKey', 'ok', at],
        ],
      );
      assert.equal((await p.identity.listAuthAudit(1)).length, 1);
    });
  });
}
