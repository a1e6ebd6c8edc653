// The tandem command as a user runs it (`node bin/tandem.mjs ...`): help on every verb, typo
// suggestions, usage errors (exit 2), a failed call (exit 1), and `dev --help` starting nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../services/common/free-port.js';

const TANDEM = fileURLToPath(new URL('../bin/tandem.mjs', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function tandem(...argv: string[]): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [TANDEM, ...argv], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Every verb and sub-verb, and options its --help must mention. */
const verbs: Record<string, string[]> = {
  dev: ['--auth', '--regions', '--host', '--port', '--shards', '--namespace', '--log-level', '--ports', '--metrics-ports', '--db-dir', '--metrics-port', '--db', '--cassandra', '--keyspace', '--datacenter', '--tls'],
  namespace: ['create', 'describe', 'list'],
  'namespace create': ['<name>', '--retention', '--description', '--owner-email', '--address'],
  'namespace describe': ['<name>', '--address'],
  'namespace list': ['--address', '--tls-ca'],
  certs: ['dev'],
  'certs dev': ['--topology', '--new-ca'],
  up: ['--topology', '--region', '--log-level'],
  status: ['--topology', '--region', '--json'],
  failover: ['<namespace>', '--to', '--force', '--address', '--tls-ca'],
  dlq: ['list', 'retry', 'purge'],
  'dlq list': ['--shard', '--task', '--limit', '--address', '--tls-ca'],
  'dlq retry': ['--shard', '--task', '--address'],
  'dlq purge': ['--shard', '--task', '--address'],
  user: ['create', 'update', 'delete', 'list'],
  'user create': ['<name>', '--role', '--namespace', '--service-account', '--address', '--api-key'],
  'user update': ['<name>', '--role', '--namespace', '--api-key'],
  'user delete': ['<name>', '--api-key'],
  'user list': ['--json', '--api-key'],
  apikey: ['create', 'list', 'disable', 'enable', 'delete'],
  'apikey create': ['--owner', '--ttl', '--description', '--api-key'],
  'apikey list': ['--owner', '--json', '--api-key'],
  'apikey disable': ['<id>', '--api-key'],
  'apikey delete': ['<id>', '--api-key'],
  audit: ['--regions', '--topology', '--api-key', '--limit', '--json'],
};

test('--help of every verb exits 0 with a description, its options and examples', async () => {
  // Four at a time: all at once would start two dozen node processes on a small machine, past the timeout.
  const names = Object.keys(verbs);
  const runs: Run[] = [];
  for (let i = 0; i < names.length; i += 4) runs.push(...(await Promise.all(names.slice(i, i + 4).map((v) => tandem(...v.split(' '), '--help')))));
  for (const [i, [verb, flags]] of Object.entries(verbs).entries()) {
    const r = runs[i]!;
    assert.equal(r.code, 0, `${verb} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: tandem ${verb}`), verb);
    assert.match(r.stdout, /Examples:\n {2}(# .*\n {2})?\$ tandem /, `${verb} has examples`);
    for (const f of flags) assert.ok(r.stdout.includes(f), `${verb} --help mentions ${f}:\n${r.stdout}`);
  }
});

test('tandem --help lists every verb and the exit codes; --version prints the package version', async () => {
  const [help, version] = await Promise.all([tandem('--help'), tandem('--version')]);
  assert.equal(help.code, 0);
  for (const v of ['dev', 'namespace', 'up', 'status', 'failover', 'dlq']) assert.match(help.stdout, new RegExp(`^ {2}${v} `, 'm'));
  assert.match(help.stdout, /Exit codes: 0 ok, 1 the operation failed, 2 usage error/);
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.deepEqual([version.code, version.stdout.trim()], [0, pkg.version]);
});

test('a typo suggests the right verb or option and exits 2', async () => {
  const cases: [string[], RegExp][] = [
    [['namepsace'], /unknown command 'namepsace'[\s\S]*Did you mean namespace\?/],
    [['namespace', 'lst'], /Did you mean list\?/],
    [['faliover', 'default', '--to', 'b'], /Did you mean failover\?/],
    [['namespace', 'list', '--adress', '127.0.0.1:7233'], /unknown option '--adress'[\s\S]*Did you mean --address\?/],
  ];
  const runs = await Promise.all(cases.map(([argv]) => tandem(...argv)));
  runs.forEach((r, i) => {
    assert.equal(r.code, 2, cases[i]![0].join(' '));
    assert.match(r.stderr, cases[i]![1]);
  });
});

test('a bad or missing value exits 2 with what was expected, before anything runs', async () => {
  const cases: [string[], RegExp][] = [
    [['dev', '--regions', '3'], /--regions <n>' argument '3' is invalid\. Allowed choices are 2, 1/],
    [['dev', '--shards', '0'], /--shards <n>' argument '0' is invalid\. must be a positive integer/],
    [['dev', '--port', '70000'], /--port <port>' argument '70000' is invalid\. must be a port/],
    [['dev', '--cassandra', '127.0.0.1:9042', '--db-dir', 'x'], /cannot be used with option '--db-dir/],
    [['namespace', 'create', 'orders', '--retention', '3 days'], /must be a duration like 30s, 15m, 72h or 3d/],
    [['namespace', 'list', '--address', 'localhost'], /must be host:port/],
    [['failover', 'default'], /required option '--to <region>' not specified/],
    [['status'], /required option '--topology <file>' not specified/],
    [['up', '--topology', 'no/such/topology.json'], /cannot read topology .*no\/such\/topology\.json/],
    [['dlq', 'list', '--task', '7'], /--task needs --shard/],
    [[], /Usage: tandem /],
  ];
  const runs = await Promise.all(cases.map(([argv]) => tandem(...argv)));
  runs.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i]![0].join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, cases[i]![1]);
    assert.equal(r.stdout, '');
  });
});

async function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

test('dev --help prints help and exits 0 without starting anything', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cli-'));
  try {
    const port = await freePort();
    const r = await tandem('dev', '--regions', '1', '--port', String(port), '--db', path.join(dir, 'dev.db'), '--help');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: tandem dev/);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    assert.deepEqual(fs.readdirSync(dir), [], 'no store was opened');
    assert.equal(r.stderr, '', 'nothing logged');
    // A started cluster would have opened its SQLite file, logged at info, and kept running.
    assert.equal(await listenable(port), true, 'nothing listens on --port');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a call to a port where nothing listens exits 1 at once, naming the address and the gRPC status', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const runs = await Promise.all([
    tandem('namespace', 'list', '--address', address),
    tandem('failover', 'default', '--to', 'b', '--force', '--address', address),
  ]);
  for (const r of runs) {
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^tandem: call to ${address} failed: UNAVAILABLE \\(14\\): .*ECONNREFUSED.*is a tandem frontend listening there\\?`));
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  }
});

test('certs dev writes the certificates a topology names, and again under the same CA', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-certs-'));
  try {
    const topology = path.join(dir, 'topology.json');
    fs.copyFileSync(fileURLToPath(new URL('../deploy/local/two-regions-tls.json', import.meta.url)), topology);
    const first = await tandem('certs', 'dev', '--topology', topology);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /ca-key\.pem/);
    for (const f of ['ca.pem', 'a/frontend.pem', 'a/client-key.pem', 'b/client.pem', 'global/endpoint.pem']) assert.ok(fs.existsSync(path.join(dir, 'certs', f)), f);
    assert.equal(fs.statSync(path.join(dir, 'certs', 'a', 'frontend-key.pem')).mode & 0o777, 0o600);
    const ca = fs.readFileSync(path.join(dir, 'certs', 'ca.pem'), 'utf8');
    const again = await tandem('certs', 'dev', '--topology', topology);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /ca\.pem/);
    assert.equal(fs.readFileSync(path.join(dir, 'certs', 'ca.pem'), 'utf8'), ca);
    const none = await tandem('certs', 'dev', '--topology', fileURLToPath(new URL('../deploy/local/two-regions.json', import.meta.url)));
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no tls sections/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
