// `tandem dev --auth` and the identity verbs as a user runs them: the bootstrap key printed on a
// line of its own, users and keys made with it, a call without a key refused (exit 1,
// UNAUTHENTICATED), a disabled key refused, and `tandem audit` listing who did what.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../services/common/free-port.js';

const TANDEM = fileURLToPath(new URL('../bin/tandem.mjs', import.meta.url));

function tandem(...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return tandemWith({}, ...argv);
}

function tandemWith(env: Record<string, string>, ...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TANDEM, ...argv], { timeout: 30_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let server: ChildProcess;
let address: string;
let adminKey: string;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-auth-cli-'));
  const port = await freePort();
  address = `127.0.0.1:${port}`;
  server = spawn(process.execPath, [TANDEM, 'dev', '--auth', '--regions', '1', '--port', String(port), '--metrics-port', '0', '--db', path.join(dir, 'dev.db'), '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  adminKey = await new Promise<string>((resolve, reject) => {
    server.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^admin api key: (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    server.once('exit', (code) => reject(new Error(`tandem dev exited with ${code}: ${out}`)));
  });
});

after(async () => {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('users, keys and the audit log through the tandem verbs, with the bootstrap admin key', async () => {
  const as = ['--address', address, '--api-key', adminKey];
  const denied = await tandem('user', 'list', '--address', address);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /UNAUTHENTICATED/);

  const created = await tandem('user', 'create', 'ann', '--role', 'read-only', '--namespace', 'default=write', ...as);
  assert.equal(created.code, 0, created.stderr);
  assert.deepEqual(JSON.parse(created.stdout).namespaces, { default: 'write' });

  const key = await tandem('apikey', 'create', '--owner', 'ann', '--ttl', '1d', '--description', 'laptop', ...as);
  assert.equal(key.code, 0, key.stderr);
  const secret = /^api key: (\S+)$/m.exec(key.stdout)?.[1];
  const id = JSON.parse(key.stdout.split('\n')[0]!).id as string;
  assert.ok(secret?.includes(id));

  // Ann's key is not an admin's: it cannot list users.
  const asAnn = await tandem('user', 'list', '--address', address, '--api-key', secret!);
  assert.equal(asAnn.code, 1);
  assert.match(asAnn.stderr, /PERMISSION_DENIED/);

  const listed = await tandem('apikey', 'list', '--owner', 'ann', '--json', ...as);
  assert.deepEqual(JSON.parse(listed.stdout).map((k: { id: string; disabled: boolean }) => [k.id, k.disabled]), [[id, false]]);
  assert.equal(listed.stdout.includes(secret!), false, 'the secret is never listed');
  assert.equal((await tandem('apikey', 'disable', id, ...as)).code, 0);

  const audit = await tandem('audit', '--regions', `a=${address}`, '--json', '--api-key', adminKey);
  assert.equal(audit.code, 0, audit.stderr);
  const actions = (JSON.parse(audit.stdout) as { identity: string; action: string; outcome: string }[]).map((e) => `${e.identity} ${e.action} ${e.outcome}`);
  for (const a of ['user:admin CreateUser ok', 'user:admin CreateApiKey ok', 'user:admin SetApiKeyDisabled ok']) assert.ok(actions.includes(a), `${a} in ${actions.join('; ')}`);
});

test('the other verbs send $TANDEM_API_KEY', async () => {
  const refused = await tandem('namespace', 'describe', 'default', '--address', address);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /UNAUTHENTICATED/);
  const described = await tandemWith({ TANDEM_API_KEY: adminKey }, 'namespace', 'describe', 'default', '--address', address);
  assert.equal(described.code, 0, described.stderr);
  assert.match(described.stdout, /default/);
});
