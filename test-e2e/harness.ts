// Runs tandem as a real OS process (`bin/tandem.mjs dev`) so tests can kill and restart it, on
// SQLite or on the test Cassandra.
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { ensureTestCassandra, dropTestKeyspace, type TestCassandra } from '../deploy/cassandra/test-instance.js';
import { cpuProfileFlags } from '../deploy/processes/cpu-profile.js';
import { devRegionStore } from '../deploy/processes/dev-regions.js';
import { openStore, type StoreConfig } from '../deploy/processes/embedded.js';
import { freePort } from '../services/common/free-port.js';
import { createLogger } from '../services/common/logger.js';
import { checkReplay } from '../services/history/replay-check.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export { workflowBundle, workflowsPath } from './workflow-bundle.js';

export type StoreKind = 'sqlite' | 'cassandra';

export { freePort };

/** Where a test's server keeps its data: a temp SQLite file or a fresh Cassandra keyspace. */
export class StoreFixture {
  private constructor(
    readonly kind: StoreKind,
    readonly args: string[],
    /** One store per region the server runs. */
    private readonly configs: StoreConfig[],
    private readonly cleanup: () => Promise<void>,
    /** host:port of the Cassandra holding the keyspace (Cassandra fixtures only). */
    readonly contactPoint?: string,
  ) {}

  static async create(kind: StoreKind): Promise<StoreFixture> {
    if (kind === 'sqlite') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-'));
      const cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
      if (regionsUnderTest() === 2) {
        const configs = ['a', 'b'].map((r) => devRegionStore({ kind: 'sqlite', dir }, r));
        return new StoreFixture(kind, ['--db-dir', dir], configs, cleanup);
      }
      const db = path.join(dir, 'tandem.db');
      return new StoreFixture(kind, ['--db', db], [{ kind: 'sqlite', path: db }], cleanup);
    }
    if (regionsUnderTest() === 2) throw new Error('TANDEM_E2E_REGIONS=2 runs on SQLite only');
    const c: TestCassandra = await ensureTestCassandra();
    const config: StoreConfig = { kind: 'cassandra', contactPoints: [c.contactPoint], localDataCenter: 'datacenter1', keyspace: c.keyspace };
    return new StoreFixture(kind, ['--cassandra', c.contactPoint, '--keyspace', c.keyspace], [config], () => dropTestKeyspace(c), c.contactPoint);
  }

  /**
   * Rebuilds every run the server stored from its history events and lists where the rebuilt
   * state differs from the stored one (DESIGN invariant 4a); the server may keep running.
   */
  async replayMismatches(numShards = 16): Promise<{ runsChecked: number; mismatches: string[] }> {
    const total = { runsChecked: 0, mismatches: [] as string[] };
    for (const config of this.configs) {
      const store = await openStore(config, createLogger({ level: 'warn' }));
      try {
        const report = await checkReplay(store, numShards);
        total.runsChecked += report.runsChecked;
        total.mismatches.push(...report.mismatches);
      } finally {
        await store.close();
      }
    }
    return total;
  }

  dispose(): Promise<void> {
    return this.cleanup();
  }
}

export class TandemProcess {
  private child?: ChildProcess;
  private output = '';
  readonly address: string;

  constructor(
    readonly store: StoreFixture,
    readonly port: number,
    private readonly extraArgs: string[],
    /** /metrics of the server (of region a with two), unless extraArgs name other metrics ports. */
    readonly metricsUrl: string,
    /** The official client's tls option, when the server runs with `--tls`. */
    readonly tls?: { serverRootCACertificate: Buffer },
  ) {
    this.address = `127.0.0.1:${port}`;
  }

  static async start(store: StoreFixture, extraArgs: string[] = [], tls?: { serverRootCACertificate: Buffer }): Promise<TandemProcess> {
    // Two regions: the address is the global endpoint; the regions' own ports stay fixed across restarts.
    const metricsPort = await freePort();
    const regionArgs =
      regionsUnderTest() === 2
        ? ['--regions', '2', '--ports', `${await freePort()},${await freePort()}`, '--metrics-ports', `${metricsPort},${await freePort()}`, '--ops-page-port', '0']
        : ['--regions', '1', '--metrics-port', String(metricsPort)];
    const p = new TandemProcess(store, await freePort(), [...regionArgs, ...extraArgs], `http://127.0.0.1:${metricsPort}/metrics`, tls);
    await p.start();
    return p;
  }

  get logs(): string {
    return this.output;
  }

  /** The running server's pid (bench/ reads its CPU time from /proc). */
  get pid(): number | undefined {
    const child = this.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  async start(): Promise<void> {
    const args = [...cpuProfileFlags('tandem-dev'), path.join(root, 'bin', 'tandem.mjs'), 'dev', '--port', String(this.port), '--log-level', 'warn', ...this.store.args, ...this.extraArgs];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`tandem exited with ${child.exitCode}:\n${this.output}`);
      try {
        const c = await Connection.connect({ address: this.address, connectTimeout: 1000, tls: this.tls });
        await c.workflowService.getSystemInfo({});
        await c.close();
        return;
      } catch (err) {
        // A server started with --auth answers a call without a key: it is up.
        if (isUnauthenticated(err)) return;
        if (Date.now() > deadline) {
          // A server that never answered must not outlive the failed fixture and hold the suite open.
          child.kill('SIGKILL');
          throw new Error(`tandem did not answer on ${this.address}: ${String(err)}\n${this.output}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** The key `tandem dev --auth` printed (`admin api key: <key>`), once it has. */
  async adminApiKey(): Promise<string> {
    return eventually('tandem dev printed its admin api key', async () => /^admin api key: (\S+)$/m.exec(this.output)?.[1], 30_000);
  }

  /** Graceful stop (SIGTERM) or a crash (SIGKILL); resolves when the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }
}

export async function clientConnection(address: string): Promise<Connection> {
  return Connection.connect({ address });
}

export async function workerConnection(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}

/** A worker and its run loop, which ends once the worker shut down. */
export type RunningWorker = { worker: Worker; running: Promise<void> };

/** A suite's end: its workers shut down and drained, then its connections, server and store. */
export async function tearDown(s: { workers?: RunningWorker[]; native?: NativeConnection; connection?: Connection; server?: TandemProcess; store?: StoreFixture }): Promise<void> {
  for (const w of s.workers ?? []) w.worker.shutdown();
  await Promise.all((s.workers ?? []).map((w) => w.running));
  await s.native?.close();
  await s.connection?.close();
  await s.server?.stop();
  await s.store?.dispose();
}

/** The last test of a suite: every run it created rebuilds from its history, field by field. */
export function testReplay(store: () => StoreFixture): void {
  test('every stored run rebuilds from its history events (the non-event part aside)', async () => {
    const report = await store().replayMismatches();
    assert.ok(report.runsChecked > 0, 'the suite stored runs');
    assert.deepEqual(report.mismatches, []);
  });
}

/**
 * How many regions `tandem dev` runs for the suites: 1, or 2 with TANDEM_E2E_REGIONS=2 (SQLite
 * only; every call then goes through the global endpoint to the active region, as `make dev` serves).
 */
export function regionsUnderTest(): 1 | 2 {
  return process.env.TANDEM_E2E_REGIONS === '2' ? 2 : 1;
}

/** The stores every end-to-end suite runs on; TANDEM_E2E_STORES=sqlite narrows it. */
export function storesUnderTest(): StoreKind[] {
  const env = process.env.TANDEM_E2E_STORES;
  return env ? (env.split(',') as StoreKind[]) : ['sqlite', 'cassandra'];
}

/** Polls check until it returns a value (errors count as "not yet"); fails after timeoutMs with the last error. */
function isUnauthenticated(err: unknown): boolean {
  const e = err as { code?: number; cause?: { code?: number } } | undefined;
  return (e?.code ?? e?.cause?.code) === grpc.status.UNAUTHENTICATED;
}

export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
