// The frontend's gate (services/auth/gate.ts) on a real frontend: with auth on, a call without a
// key or with a key that may not make it is refused before its handler runs; rate limits answer
// RESOURCE_EXHAUSTED with Temporal's ResourceExhaustedFailure (cause RPS_LIMIT) and a retry hint.
// Rates are set so low that no token comes back while a test runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enums, errordetails, google } from '../common/temporal.js';
import { IdentityDirectory } from '../auth/directory.js';
import { grpcError, startFrontend } from './test-helpers.js';
import * as grpc from '@grpc/grpc-js';

function resourceExhausted(err: grpc.ServiceError): errordetails.ResourceExhaustedFailure {
  assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
  const st = google.rpc.Status.decode(err.metadata.get('grpc-status-details-bin')[0] as Buffer);
  const detail = st.details.find((d) => d.type_url === 'type.googleapis.com/temporal.api.errordetails.v1.ResourceExhaustedFailure');
  assert.ok(detail, 'ResourceExhaustedFailure detail');
  return errordetails.ResourceExhaustedFailure.decode(detail.value!);
}

test('a namespace over its rate limit gets RESOURCE_EXHAUSTED with RPS_LIMIT and when to retry', async () => {
  const f = await startFrontend({ auth: { namespaceRps: 0.01, burstSeconds: 200 } });
  try {
    await f.namespaces.register({ name: 'default' });
    await f.service.describeNamespace({ namespace: 'default' });
    await f.service.describeNamespace({ namespace: 'default' });
    const err = await grpcError(f.service.describeNamespace({ namespace: 'default' }));
    const failure = resourceExhausted(err);
    assert.equal(failure.cause, enums.ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT);
    assert.equal(failure.scope, enums.ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
    assert.match(err.details, /namespace default exceeds its rate limit of 0.01 requests\/s; retry after \d+ ms/);
    // Another namespace has a bucket of its own: it is refused as unknown, not as limited.
    assert.equal((await grpcError(f.service.describeNamespace({ namespace: 'other' }))).code, grpc.status.NOT_FOUND);
  } finally {
    await f.close();
  }
});

test('with auth on: no key UNAUTHENTICATED, a read-only key cannot terminate, a key over its own limit RESOURCE_EXHAUSTED', async () => {
  const f = await startFrontend({ auth: { authEnabled: true, keyRps: 0.01, burstSeconds: 200 } });
  try {
    await f.namespaces.register({ name: 'default' });
    assert.equal((await grpcError(f.service.describeNamespace({ namespace: 'default' }))).code, grpc.status.UNAUTHENTICATED);
    const dir = new IdentityDirectory(f.persistence.identity, 1n);
    await dir.createUser('reader', 'read-only', {}, false);
    const { token } = await dir.createApiKey('reader', '', 0);
    const as = <T>(fn: () => Promise<T>) => f.connection.withMetadata({ authorization: `Bearer ${token}` }, fn);
    await as(() => f.service.describeNamespace({ namespace: 'default' }));
    const denied = await grpcError(as(() => f.service.terminateWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: 'wf' } })));
    assert.equal(denied.code, grpc.status.PERMISSION_DENIED);
    assert.match(denied.details, /user:reader \(role read-only\) may not call TerminateWorkflowExecution: it needs write permission on namespace "default"/);
    assert.equal(f.calls.length, 0, 'nothing reached history');
    // The refused termination took no token (refusals come before the limits); the second describe takes the last.
    await as(() => f.service.describeNamespace({ namespace: 'default' }));
    const limited = await grpcError(as(() => f.service.describeNamespace({ namespace: 'default' })));
    assert.match(limited.details, /API key [0-9a-f]{16} exceeds its rate limit/);
    resourceExhausted(limited);
  } finally {
    await f.close();
  }
});
