// What most suites stand on: a `tandem dev` server on a fresh store and an official worker polling
// one task queue with the test workflows, set up before the suite's tests and torn down after.
import { after, before } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { clientConnection, StoreFixture, TandemProcess, tearDown, workerConnection, workflowBundle, type RunningWorker, type StoreKind } from './harness.js';

export interface WorkerSuite {
  readonly server: TandemProcess;
  /** The official client, on a connection of its own. */
  readonly client: Client;
}

/** Call inside a describe(): its before() starts the server and the worker, its after() stops them. */
export function workerSuite(kind: StoreKind, opts: { namespace: string; taskQueue: string; activities?: object }): WorkerSuite {
  let store: StoreFixture | undefined;
  let server: TandemProcess | undefined;
  let connection: Connection | undefined;
  let native: NativeConnection | undefined;
  let worker: RunningWorker | undefined;
  let client: Client | undefined;

  before(async () => {
    store = await StoreFixture.create(kind);
    server = await TandemProcess.start(store);
    connection = await clientConnection(server.address);
    client = new Client({ connection, namespace: opts.namespace });
    native = await workerConnection(server.address);
    const w = await Worker.create({
      connection: native,
      namespace: opts.namespace,
      taskQueue: opts.taskQueue,
      activities: opts.activities,
      workflowBundle: await workflowBundle(),
      shutdownGraceTime: '1s',
    });
    worker = { worker: w, running: w.run() };
  });

  after(async () => {
    await tearDown({ workers: worker ? [worker] : [], native, connection, server, store });
  });

  return {
    get server() {
      return server!;
    },
    get client() {
      return client!;
    },
  };
}
