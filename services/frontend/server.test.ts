import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import Long from 'long';
import { createRequire } from 'node:module';
import { google, temporal, type workflowservice } from '../common/temporal.js';
import { startFrontend, type Fixture } from './test-helpers.js';
import { WORKFLOW_SERVICE } from './server.js';

const require = createRequire(import.meta.url);

type GrpcError = grpc.ServiceError;

async function grpcError(p: Promise<unknown>): Promise<GrpcError> {
  try {
    await p;
  } catch (err) {
    return err as GrpcError;
  }
  assert.fail('expected the call to fail');
}

function statusDetails(err: GrpcError): { typeName: string; value: Uint8Array }[] {
  const bin = err.metadata.get('grpc-status-details-bin')[0];
  assert.ok(bin instanceof Buffer, 'grpc-status-details-bin is set');
  const st = google.rpc.Status.decode(bin);
  assert.equal(st.code, err.code);
  return st.details.map((d) => ({ typeName: d.type_url!.replace('type.googleapis.com/', ''), value: d.value! }));
}

let f: Fixture;
before(async () => {
  f = await startFrontend();
});
after(async () => {
  await f.close();
});

describe('system', () => {
  test('GetSystemInfo advertises the capabilities the SDKs check', async () => {
    const info = await f.service.getSystemInfo({});
    assert.ok(info.serverVersion);
    assert.equal(info.capabilities?.signalAndQueryHeader, true);
    assert.equal(info.capabilities?.internalErrorDifferentiation, true);
    assert.equal(info.capabilities?.countGroupByExecutionStatus, true);
    assert.equal(info.capabilities?.sdkMetadata, true);
    assert.equal(info.capabilities?.eagerWorkflowStart, true);
    assert.equal(info.capabilities?.supportsSchedules, true);
  });

  test('GetClusterInfo names the region and its failover versions', async () => {
    const info = await f.service.getClusterInfo({});
    assert.equal(info.clusterName, 'a');
    assert.equal(Number(info.initialFailoverVersion), 1);
    assert.equal(Number(info.failoverVersionIncrement), 10);
    assert.equal(info.persistenceStore, 'sqlite');
  });

  test('health: SERVING for the server and for the WorkflowService; unknown service NOT_FOUND', async () => {
    for (const service of ['', WORKFLOW_SERVICE]) {
      const res = await f.connection.healthService.check({ service });
      assert.equal(res.status, 1, `status of ${JSON.stringify(service)}`);
    }
    const err = await grpcError(f.connection.healthService.check({ service: 'nope' }));
    assert.equal(err.code, grpc.status.NOT_FOUND);
  });

  test('reflection lists the WorkflowService', async () => {
    const pkg = protoLoader.loadSync(require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'));
    const proto = grpc.loadPackageDefinition(pkg) as any;
    const client = new proto.grpc.reflection.v1.ServerReflection(`127.0.0.1:${f.frontend.port}`, grpc.credentials.createInsecure());
    const services = await new Promise<string[]>((resolve, reject) => {
      const stream = client.ServerReflectionInfo();
      stream.on('data', (msg: any) => {
        resolve(msg.listServicesResponse.service.map((s: any) => s.name));
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ listServices: '*' });
    });
    client.close();
    assert.ok(services.includes(WORKFLOW_SERVICE), services.join());
    assert.ok(services.includes('grpc.health.v1.Health'));
  });

  test('RPCs without a handler answer UNIMPLEMENTED naming the method', async () => {
    const err = await grpcError(f.service.listBatchOperations({ namespace: 'default' }));
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
    assert.match(err.details, /ListBatchOperations is not implemented/);
  });

  test('GetSearchAttributes returns the system attributes', async () => {
    const res = await f.service.getSearchAttributes({});
    assert.equal(res.keys?.WorkflowId, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    assert.equal(res.keys?.StartTime, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME);
  });

  test('per-method metrics count calls by status code', async () => {
    await f.service.getSystemInfo({});
    const text = await f.registry.metrics();
    assert.match(text, /tandem_frontend_requests_total\{method="GetSystemInfo",code="OK"\} \d+/);
    assert.match(text, /tandem_frontend_requests_total\{method="ListBatchOperations",code="UNIMPLEMENTED"\} 1/);
    assert.match(text, /tandem_frontend_request_duration_seconds_count\{method="GetSystemInfo"\}/);
  });
});

describe('namespaces', () => {
  test('register, describe by name and id, list, update', async () => {
    await f.service.registerNamespace({
      namespace: 'orders',
      description: 'the orders',
      ownerEmail: 'team@example.com',
      workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86_400) },
      data: { team: 'payments' },
    });
    const d = await f.service.describeNamespace({ namespace: 'orders' });
    assert.equal(d.namespaceInfo?.name, 'orders');
    assert.equal(d.namespaceInfo?.state, temporal.api.enums.v1.NamespaceState.NAMESPACE_STATE_REGISTERED);
    assert.equal(d.namespaceInfo?.ownerEmail, 'team@example.com');
    assert.deepEqual({ ...d.namespaceInfo?.data }, { team: 'payments' });
    assert.equal(d.namespaceInfo?.capabilities?.syncUpdate, true);
    assert.equal(d.namespaceInfo?.capabilities?.asyncUpdate, true);
    assert.equal(Number(d.config?.workflowExecutionRetentionTtl?.seconds), 86_400);
    assert.equal(d.replicationConfig?.activeClusterName, 'a');
    assert.equal(Number(d.failoverVersion), 1);
    assert.equal(d.isGlobalNamespace, false);

    const byId = await f.service.describeNamespace({ id: d.namespaceInfo!.id! });
    assert.equal(byId.namespaceInfo?.name, 'orders');

    const dup = await grpcError(f.service.registerNamespace({ namespace: 'orders' }));
    assert.equal(dup.code, grpc.status.ALREADY_EXISTS);

    const updated: workflowservice.IUpdateNamespaceResponse = await f.service.updateNamespace({
      namespace: 'orders',
      updateInfo: { description: 'new', data: { tier: '1' } },
      config: { workflowExecutionRetentionTtl: { seconds: Long.fromNumber(7200) } },
    });
    assert.equal(updated.namespaceInfo?.description, 'new');
    assert.deepEqual({ ...updated.namespaceInfo?.data }, { team: 'payments', tier: '1' });
    const again = await f.service.describeNamespace({ namespace: 'orders' });
    assert.equal(Number(again.config?.workflowExecutionRetentionTtl?.seconds), 7200);
    assert.equal(again.namespaceInfo?.ownerEmail, 'team@example.com');
  });

  test('ListNamespaces pages', async () => {
    for (const n of ['p1', 'p2', 'p3']) await f.service.registerNamespace({ namespace: n });
    const names: string[] = [];
    let token: Uint8Array | undefined;
    let pages = 0;
    do {
      const page = await f.service.listNamespaces({ pageSize: 2, nextPageToken: token });
      names.push(...page.namespaces!.map((n) => n.namespaceInfo!.name!));
      token = page.nextPageToken?.length ? page.nextPageToken : undefined;
      pages++;
    } while (token);
    assert.ok(pages >= 2);
    for (const n of ['p1', 'p2', 'p3']) assert.ok(names.includes(n));
    assert.equal(new Set(names).size, names.length);
  });

  test('unknown namespace: NOT_FOUND with NamespaceNotFoundFailure', async () => {
    const err = await grpcError(f.service.describeNamespace({ namespace: 'missing' }));
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, 'Namespace missing is not found.');
    const [detail] = statusDetails(err);
    assert.equal(detail!.typeName, 'temporal.api.errordetails.v1.NamespaceNotFoundFailure');
    assert.equal(temporal.api.errordetails.v1.NamespaceNotFoundFailure.decode(detail!.value).namespace, 'missing');
  });

  test('the SDK client turns the detail into NamespaceNotFoundError', async () => {
    const err = await grpcError(
      f.client.workflow.start('wf', { workflowId: 'x', taskQueue: 'q', args: [] }) as Promise<unknown>,
    );
    assert.equal((err as Error).name, 'NamespaceNotFoundError');
  });

  test('missing namespace name and a negative retention are INVALID_ARGUMENT', async () => {
    let err = await grpcError(f.service.registerNamespace({ namespace: '' }));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(err.details, 'Namespace is not set on request.');
    err = await grpcError(f.service.registerNamespace({ namespace: 'neg', workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(-5) } }));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /workflowExecutionRetentionPeriod must not be negative/);
  });
});
