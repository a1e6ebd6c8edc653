// What one key check costs the frontend, in-process and without gRPC: CallGate.admit for a
// StartWorkflowExecution with a cached key (the steady state of a client that keeps calling),
// against admit with auth off (only the rate limits), over N calls. `npx tsx bench/auth-check.ts [N]`.
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { CallGate } from '../services/auth/gate.js';
import { IdentityDirectory } from '../services/auth/directory.js';
import { authorizerDefaults } from '../services/auth/authorizer.js';
import { rateLimitDefaults } from '../services/auth/rate-limiter.js';
import { silentLogger } from '../services/common/logger.js';
import { createRegistry } from '../services/common/metrics.js';
import { openSqlitePersistence } from '../services/persistence/sqlite/index.js';

const PATH = '/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200_000);
  const store = await openSqlitePersistence({ path: ':memory:' });
  try {
    const dir = new IdentityDirectory(store.identity, 1n);
    await dir.createUser('bench', 'developer', {}, true);
    const { token } = await dir.createApiKey('bench', '', 0);
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    // Rates off: the loop would otherwise be refused by its own limits after the first burst.
    const config = { ...authorizerDefaults, ...rateLimitDefaults, namespaceRps: 0, keyRps: 0 };
    const request = { namespace: 'default', workflowId: 'wf' };
    for (const authEnabled of [false, true]) {
      const gate = new CallGate({ ...config, authEnabled }, dir, silentLogger(), createRegistry());
      for (let i = 0; i < 1000; i++) await gate.admit(PATH, metadata, request); // warm-up, and the key cached
      const started = performance.now();
      for (let i = 0; i < n; i++) await gate.admit(PATH, metadata, request);
      const us = ((performance.now() - started) * 1000) / n;
      console.log(`auth ${authEnabled ? 'on ' : 'off'}: ${us.toFixed(2)} µs per admitted call (${n} calls)`);
    }
  } finally {
    await store.close();
  }
}

await main();
