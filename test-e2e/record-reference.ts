// Records what the reference server writes and answers for the parity scenarios, kept as the
// fixture test-e2e/fixtures/reference-parity.json. Run once against `temporal server start-dev`:
//   temporal server start-dev --headless --port 17433 --ui-port 0 \
//     --dynamic-config-value system.enableActivityEagerExecution=true
// (eager activity dispatch is off by default in 1.29.1, on in Tandem; the other scenarios write
// the same either way)
//   npx tsx test-e2e/record-reference.ts 127.0.0.1:17433 [scenario ...]
// Naming scenarios records only those and keeps the fixture's others.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { workflowBundle } from './harness.js';
import * as activities from './parity-activities.js';
import { scenarios, type ScenarioName, type ScenarioResult } from './parity-scenarios.js';

export const referenceFixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'reference-parity.json');

async function main(address: string, only: string[]): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const taskQueue = `parity-${randomUUID()}`;
  const native = await NativeConnection.connect({ address });
  const worker = await Worker.create({ connection: native, taskQueue, workflowBundle: await workflowBundle(), activities });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const kept = only.length > 0 && fs.existsSync(referenceFixture) ? JSON.parse(fs.readFileSync(referenceFixture, 'utf8')).scenarios : {};
  const recorded: Partial<Record<ScenarioName, ScenarioResult>> = { ...kept };
  try {
    for (const [name, run] of Object.entries(scenarios)) {
      if (only.length > 0 && !only.includes(name)) continue;
      const { history, calls } = await run({ client, workerClient: new Client({ connection: native }), taskQueue });
      recorded[name as ScenarioName] = { history, calls };
    }
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await native.close();
  }
  const info = await Connection.connect({ address }).then(async (c) => {
    const r = await c.workflowService.getSystemInfo({});
    await c.close();
    return r.serverVersion;
  });
  fs.mkdirSync(path.dirname(referenceFixture), { recursive: true });
  fs.writeFileSync(referenceFixture, JSON.stringify({ serverVersion: info, scenarios: recorded }, null, 2) + '\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const address = process.argv[2];
  if (!address) {
    console.error('usage: npx tsx test-e2e/record-reference.ts HOST:PORT [scenario ...]');
    process.exit(2);
  }
  main(address, process.argv.slice(3)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
