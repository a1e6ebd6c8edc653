// The official worker bench/ runs in its own process: the bundled workflows of workflows.ts, the
// activities given (activities.ts unless a bench counts its calls), shut down within a bound.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { workflowBundle } from '../test-e2e/workflow-bundle.js';
import * as defaultActivities from './activities.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));

/** How long a worker may take to drain; its shutdown is never measured. */
const WORKER_SHUTDOWN_MS = 30_000;

export interface BenchWorker {
  stop(): Promise<void>;
}

/** A worker polling `taskQueue` of `namespace` at `address`, running until stop(). */
export async function startWorker(address: string, namespace: string, taskQueue: string, activities: object = defaultActivities): Promise<BenchWorker> {
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({ connection, namespace, taskQueue, workflowBundle: await workflowBundle(path.join(benchDir, 'workflows.ts')), activities });
    const running = worker.run();
    return {
      async stop() {
        try {
          worker.shutdown();
          await boundedWait(running, WORKER_SHUTDOWN_MS, 'worker shutdown');
        } finally {
          await connection.close();
        }
      },
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

export async function boundedWait(p: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      console.error(`bench: ${what} still pending after ${ms} ms; moving on`);
      resolve();
    }, ms);
  });
  try {
    await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
