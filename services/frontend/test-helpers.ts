// Fixtures for the frontend tests: a running FrontendService on 127.0.0.1 over the real SQLite
// store, with recording doubles of history and matching (the real ones are tested end to end elsewhere).
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { Connection, Client } from '@temporalio/client';
import { silentLogger } from '../common/logger.js';
import { createRegistry } from '../common/metrics.js';
import type { HistoryApi } from '../history/api.js';
import type { MatchingApi } from '../matching/api.js';
import { NamespaceRegistry } from '../namespaces/registry.js';
import { openSqlitePersistence } from '../persistence/sqlite/index.js';
import type { FrontendConfigInput } from './config.js';
import { FrontendService } from './server.js';

export interface RecordedCall {
  method: string;
  args: unknown[];
}

/**
 * A HistoryApi/MatchingApi double: records every call and answers with `answers[method]` (a
 * function of the arguments) or an empty response; long-poll methods wait for their signal.
 */
export function recordingDouble<T extends object>(
  calls: RecordedCall[],
  answers: Record<string, (...args: never[]) => unknown>,
  longPolls: string[] = [],
): T {
  return new Proxy({} as T, {
    get: (_t, prop) => {
      const method = String(prop);
      if (method === 'then') return undefined;
      return (...args: unknown[]) => {
        calls.push({ method, args });
        const answer = answers[method];
        if (answer) return (answer as (...a: unknown[]) => unknown)(...args);
        if (longPolls.includes(method)) {
          const signal = args[args.length - 1] as AbortSignal;
          return new Promise((resolve) => signal.addEventListener('abort', () => resolve({}), { once: true }));
        }
        return Promise.resolve({});
      };
    },
  });
}

export const regionA = { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n };
export const regionB = { name: 'b', initialFailoverVersion: 2n, failoverVersionIncrement: 10n };

export async function startFrontend(config: Omit<FrontendConfigInput, 'region'> = {}, answers: Record<string, (...args: never[]) => unknown> = {}) {
  const persistence = await openSqlitePersistence({ path: ':memory:' });
  const logger = silentLogger();
  const namespaces = new NamespaceRegistry(persistence.namespaces, { region: regionA, regions: [regionA, regionB] }, logger);
  await namespaces.start();
  const calls: RecordedCall[] = [];
  const history = recordingDouble<HistoryApi>(calls, answers, [
    'getWorkflowExecutionHistory',
    'updateWorkflowExecution',
    'pollWorkflowExecutionUpdate',
    'queryWorkflow',
  ]);
  const matching = recordingDouble<MatchingApi>(calls, answers, ['pollWorkflowTaskQueue', 'pollActivityTaskQueue']);
  const registry = createRegistry();
  const frontend = new FrontendService(
    { host: '127.0.0.1', port: 0, region: 'a', shutdownGraceMs: 1000, ...config },
    { persistence, namespaces, history, matching, logger, registry },
  );
  await frontend.start();
  // No retry interceptor: the tests check the first status of each call, and the SDK would retry
  // UNAVAILABLE and RESOURCE_EXHAUSTED for up to a minute.
  // With auth on, lazy: connect() would call GetSystemInfo without a key.
  const options = { address: `127.0.0.1:${frontend.port}`, interceptors: [] };
  const connection = config.auth?.authEnabled ? Connection.lazy(options) : await Connection.connect(options);
  const client = new Client({ connection, namespace: 'default' });
  return {
    frontend,
    persistence,
    namespaces,
    calls,
    registry,
    connection,
    client,
    service: connection.workflowService,
    async close() {
      await connection.close();
      await frontend.stop();
      await namespaces.stop();
      await persistence.close();
    },
  };
}

export type Fixture = Awaited<ReturnType<typeof startFrontend>>;


/** The error a call fails with; the test fails if it succeeds. */
export async function grpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  assert.fail('expected the call to fail');
}
