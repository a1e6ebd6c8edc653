// What test-e2e/web-ui.browser.test.ts runs against: `tandem dev` as make dev runs it (regions a
// and b on SQLite behind the global endpoint) on free ports, the official Temporal UI server
// pointed at the global endpoint, and a seeded namespace (official client and worker):
//
//   ui-parent        uiParent   Running     CustomerId=globex   parent of ui-parent-child
//   ui-parent-child  uiWaiter   Running                         child of ui-parent
//   ui-waiter        uiWaiter   Running     CustomerId=acme
//   ui-done-1        uiDone     Completed   CustomerId=acme
//   ui-done-2        uiDone     Completed   CustomerId=globex
//   ui-failed        uiFails    Failed
//   ui-terminated    uiWaiter   Terminated
//
// `npx tsx test-e2e/web-ui-fixture.ts` starts the same and keeps it up until Ctrl-C (for exploring the UI by hand).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Worker, Runtime } from '@temporalio/worker';
import protoRoot from '@temporalio/proto';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { UiServer } from '../deploy/temporal-ui/ui-server.js';
import { freePort } from '../services/common/free-port.js';
import { workflowBundle } from './workflow-bundle.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const NAMESPACE = 'default';
export const TASK_QUEUE = 'web-ui';
export const CustomerId = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);

export const SEEDED = {
  running: ['ui-parent', 'ui-parent-child', 'ui-waiter'],
  completed: ['ui-done-1', 'ui-done-2'],
  failed: ['ui-failed'],
  terminated: ['ui-terminated'],
  acme: ['ui-waiter', 'ui-done-1'],
} as const;
export const SEEDED_TOTAL = 7;

/** `tandem dev` with two regions on a temp SQLite folder, every port free. */
export class DevProcess {
  private output = '';
  private constructor(
    private readonly child: ChildProcess,
    readonly address: string,
    private readonly dir: string,
  ) {
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
  }

  get logs(): string {
    return this.output;
  }

  static async start(): Promise<DevProcess> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-web-ui-'));
    const port = await freePort();
    const args = [
      path.join(root, 'bin', 'tandem.mjs'), 'dev', '--port', String(port), '--ports', `${await freePort()},${await freePort()}`,
      '--metrics-ports', '0,0', '--ops-page-port', '0', '--db-dir', dir, '--log-level', 'warn', '--namespace', NAMESPACE,
    ];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new DevProcess(child, `127.0.0.1:${port}`, dir);
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`tandem dev exited with ${child.exitCode}:\n${p.logs}`);
      try {
        const c = await Connection.connect({ address: p.address, connectTimeout: 1000 });
        try {
          await c.workflowService.describeNamespace({ namespace: NAMESPACE });
        } finally {
          await c.close();
        }
        return p;
      } catch (err) {
        if (Date.now() > deadline) {
          await p.stop();
          throw new Error(`tandem dev did not answer on ${p.address}: ${String(err)}\n${p.logs}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Seeded {
  client: Client;
  connection: Connection;
  worker: Worker;
  /** Resolves when the worker stopped. */
  workerDone: Promise<void>;
  /** Why adding the search attribute or starting with it failed, if it did (the rest is seeded without it). */
  searchAttributeError?: string;
}

let runtimeInstalled = false;

/** Adds CustomerId through the OperatorService, runs a worker, starts the workflows in the table above. */
export async function seed(address: string): Promise<Seeded> {
  if (!runtimeInstalled) {
    runtimeInstalled = true;
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // Installed already by this process.
    }
  }
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: NAMESPACE });
  let searchAttributeError: string | undefined;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace: NAMESPACE,
      searchAttributes: { CustomerId: protoRoot.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
    });
  } catch (err) {
    searchAttributeError = `OperatorService.AddSearchAttributes: ${(err as Error).message}`;
  }
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address }),
    namespace: NAMESPACE,
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundle(path.join(root, 'test-e2e', 'web-ui-workflows.ts')),
  });
  const workerDone = worker.run();
  const withCustomer = async <T>(customer: string, start: (sa: { typedSearchAttributes?: [{ key: typeof CustomerId; value: string }] }) => Promise<T>): Promise<T> => {
    if (!searchAttributeError) {
      try {
        return await start({ typedSearchAttributes: [{ key: CustomerId, value: customer }] });
      } catch (err) {
        searchAttributeError = `StartWorkflowExecution with CustomerId: ${(err as Error).message}`;
      }
    }
    return start({});
  };
  const opts = { taskQueue: TASK_QUEUE, workflowExecutionTimeout: '1h' };
  await withCustomer('acme', (sa) => client.workflow.execute('uiDone', { ...opts, ...sa, workflowId: 'ui-done-1', args: [1] }));
  await withCustomer('globex', (sa) => client.workflow.execute('uiDone', { ...opts, ...sa, workflowId: 'ui-done-2', args: [2] }));
  await client.workflow.execute('uiFails', { ...opts, workflowId: 'ui-failed' }).then(
    () => {
      throw new Error('ui-failed completed');
    },
    (err) => {
      if (!(err instanceof WorkflowFailedError)) throw err;
    },
  );
  const terminated = await client.workflow.start('uiWaiter', { ...opts, workflowId: 'ui-terminated' });
  await terminated.terminate('the web UI test terminates one');
  await withCustomer('acme', (sa) => client.workflow.start('uiWaiter', { ...opts, ...sa, workflowId: 'ui-waiter' }));
  await withCustomer('globex', (sa) => client.workflow.start('uiParent', { ...opts, ...sa, workflowId: 'ui-parent' }));
  // The child exists once the parent's first workflow task ran.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await client.workflow.getHandle('ui-parent-child').describe();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`ui-parent-child was never started: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { client, connection, worker, workerDone, searchAttributeError };
}

export async function unseed(s: Seeded | undefined): Promise<void> {
  if (!s) return;
  s.worker.shutdown();
  await s.workerDone.catch(() => undefined);
  await s.connection.close();
}

/** Everything: dev, UI server on a free port, seeded. */
export async function startAll(uiPort?: number): Promise<{ dev: DevProcess; ui: UiServer; seeded: Seeded; stop: () => Promise<void> }> {
  const dev = await DevProcess.start();
  let ui: UiServer | undefined;
  let seeded: Seeded | undefined;
  const stop = async () => {
    await unseed(seeded).catch(() => undefined);
    await ui?.stop();
    await dev.stop();
  };
  try {
    ui = await UiServer.start({ temporalAddress: dev.address, port: uiPort ?? (await freePort()), namespace: NAMESPACE });
    seeded = await seed(dev.address);
    return { dev, ui, seeded, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const all = await startAll(Number(process.argv[2]) || undefined);
  console.log(JSON.stringify({ tandem: all.dev.address, ui: `${all.ui.url}/namespaces/${NAMESPACE}/workflows`, searchAttributeError: all.seeded.searchAttributeError ?? null }));
  await new Promise<void>((r) => {
    process.once('SIGINT', () => r());
    process.once('SIGTERM', () => r());
  });
  await all.stop();
}
