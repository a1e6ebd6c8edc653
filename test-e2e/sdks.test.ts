// The other official SDKs — Python (temporalio from PyPI), Go (go.temporal.io/sdk from the Go
// module proxy), Java (io.temporal:temporal-sdk from Maven Central) — run a workflow with an
// activity, a timer, a signal, a query and a validated update against a real tandem process.
// Each program checks its own results and exits non-zero on a mismatch.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { StoreFixture, TandemProcess, testReplay } from './harness.js';

const run = promisify(execFile);
const here = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sdks');
const cache = path.join(process.env.TANDEM_CACHE ?? path.join(os.homedir(), '.cache', 'tandem'), 'sdk-smoke');
const BUILD_TIMEOUT_MS = 600_000;
const RUN_TIMEOUT_MS = 120_000;

async function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout: number }) {
  try {
    return await run(cmd, args, { ...opts, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, ...opts.env } });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`.slice(0, 8000));
  }
}

describe('official SDKs in other languages', () => {
  let store: StoreFixture;
  let server: TandemProcess;

  before(async () => {
    store = await StoreFixture.create('sqlite');
    server = await TandemProcess.start(store);
  });

  after(async () => {
    await server?.stop();
    await store?.dispose();
  });

  test('Python', { timeout: BUILD_TIMEOUT_MS + RUN_TIMEOUT_MS }, async () => {
    const venv = path.join(cache, 'python-venv');
    const python = path.join(venv, 'bin', 'python');
    if (!fs.existsSync(python)) await sh('python3', ['-m', 'venv', venv], { timeout: BUILD_TIMEOUT_MS });
    await sh(python, ['-m', 'pip', 'install', '-q', '-r', path.join(here, 'python', 'requirements.txt')], { timeout: BUILD_TIMEOUT_MS });
    const { stdout } = await sh(python, [path.join(here, 'python', 'smoke.py'), server.address], { timeout: RUN_TIMEOUT_MS });
    assert.match(stdout, /^ok hello py x6$/m);
  });

  test('Go', { timeout: BUILD_TIMEOUT_MS + RUN_TIMEOUT_MS }, async () => {
    const binary = path.join(cache, 'go-smoke');
    await sh('go', ['build', '-o', binary, '.'], { cwd: path.join(here, 'go'), timeout: BUILD_TIMEOUT_MS });
    const { stdout } = await sh(binary, [server.address], { timeout: RUN_TIMEOUT_MS });
    assert.match(stdout, /^ok hello go x5$/m);
  });

  test('Java', { timeout: BUILD_TIMEOUT_MS + RUN_TIMEOUT_MS }, async () => {
    const project = path.join(here, 'java');
    await sh('mvn', ['-q', '-B', 'package', 'dependency:copy-dependencies', '-DoutputDirectory=target/lib'], { cwd: project, timeout: BUILD_TIMEOUT_MS });
    const classpath = [path.join(project, 'target', 'classes'), path.join(project, 'target', 'lib', '*')].join(path.delimiter);
    const { stdout } = await sh('java', ['-cp', classpath, 'smoke.Main', server.address], { timeout: RUN_TIMEOUT_MS });
    assert.match(stdout, /^ok hello java x5$/m);
  });

  testReplay(() => store);
});
