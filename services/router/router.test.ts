// The router in front of two stub regions: forwarding by namespace, bytes, metadata and status
// passed through, reroutes on UNAVAILABLE and NamespaceNotActive, holds through a switch, long polls.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { encodeMessage, reflectionRoot } from '../common/grpc-codec.js';
import { sleep } from '../common/lifecycle.js';
import { silentLogger } from '../common/logger.js';
import { createRegistry } from '../common/metrics.js';
import { InMemoryRouteRegistry } from '../routes/in-memory.js';
import { DEFAULT_ROUTE, type RouteRecord } from '../routes/route.js';
import { routerConfig } from './config.js';
import { WORKFLOW_SERVICE } from './proxied-methods.js';
import { RouterService } from './server.js';
import { StubRegion, decodeResponse, encodeRequest, encodeResponse } from './stub-region.js';
import { Upstreams } from './upstreams.js';

const statusType = reflectionRoot.lookupType('google.rpc.Status');
const notActiveType = reflectionRoot.lookupType('temporal.api.errordetails.v1.NamespaceNotActiveFailure');

function notActive(namespace: string): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  const details = [{ type_url: `type.googleapis.com/${notActiveType.fullName.slice(1)}`, value: encodeMessage(notActiveType, { namespace, currentCluster: 'a', activeCluster: 'b' }) }];
  metadata.set('grpc-status-details-bin', encodeMessage(statusType, { code: grpc.status.FAILED_PRECONDITION, message: 'not active', details }));
  return { code: grpc.status.FAILED_PRECONDITION, details: `Namespace: ${namespace} is active in cluster: b`, metadata };
}

/** Holds the call until just before its deadline (or its cancellation), then answers an empty poll. */
async function holdUntilDeadline(call: grpc.ServerUnaryCall<Buffer, Buffer>): Promise<{ response: Buffer }> {
  const d = call.getDeadline();
  const ms = (d instanceof Date ? d.getTime() : d) - Date.now() - 100;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, Math.max(0, ms));
    call.once('cancelled', () => {
      clearTimeout(t);
      resolve();
    });
  });
  return { response: Buffer.alloc(0) };
}

describe('RouterService in front of two stub regions', () => {
  const a = new StubRegion('a');
  const b = new StubRegion('b');
  const routes = new InMemoryRouteRegistry();
  const metrics = createRegistry();
  const router = new RouterService({ port: 0, holdMs: 1500, retryBackoffMs: 20, longPollMarginMs: 300, shutdownGraceMs: 1000 }, { routes, registry: metrics, logger: silentLogger() });
  const client = new Upstreams();
  let epoch = 0;

  const route = (namespace: string, region: StubRegion, extra: Partial<RouteRecord> = {}) =>
    routes.put({ namespace, region: region.name, endpoint: region.endpoint, epoch: ++epoch, ttlMs: 60_000, ...extra });

  const call = (method: string, request: object | Buffer, opts: { timeoutMs?: number; metadata?: grpc.Metadata } = {}) =>
    client.call(
      router.address,
      `/${WORKFLOW_SERVICE}/${method}`,
      Buffer.isBuffer(request) ? request : encodeRequest(method, request),
      opts.metadata ?? new grpc.Metadata(),
      Date.now() + (opts.timeoutMs ?? 5000),
      new AbortController().signal,
    );

  const metric = async (name: string) => (await metrics.getSingleMetric(name)!.get()).values;

  before(async () => {
    await Promise.all([a.start(), b.start()]);
    await route(DEFAULT_ROUTE, b);
    await route('orders', a);
    await route('billing', b);
    await router.start();
  });
  afterEach(() => {
    a.calls.length = 0;
    b.calls.length = 0;
    a.handlers.clear();
    b.handlers.clear();
  });
  after(async () => {
    client.close();
    await router.stop();
    a.kill();
    b.kill();
  });

  test('config: defaults in one place, bad values refused', () => {
    const c = routerConfig();
    assert.deepEqual([c.host, c.port, c.holdMs, c.longPollMarginMs], ['127.0.0.1', 7233, 10_000, 500]);
    assert.throws(() => routerConfig({ holdMs: 0 }), /holdMs/);
    assert.throws(() => routerConfig({ retryBackoffMs: 5000 }), /retryBackoffMs/);
  });

  test('forwards by namespace: request bytes, metadata and deadline go through; response bytes and trailers come back', async () => {
    const request = encodeRequest('StartWorkflowExecution', { namespace: 'orders', workflowId: 'w1', requestId: 'r1', input: { payloads: [{ data: Buffer.from('x') }] } });
    const response = encodeResponse('StartWorkflowExecution', { runId: 'run-1', started: true });
    a.handlers.set('StartWorkflowExecution', async () => {
      const trailers = new grpc.Metadata();
      trailers.set('x-region', 'a');
      return { response, trailers };
    });
    const md = new grpc.Metadata();
    md.set('x-caller', 'test');
    md.set('authorization', 'Bearer t');
    const started = Date.now();
    const res = await call('StartWorkflowExecution', request, { metadata: md, timeoutMs: 4000 });
    assert.equal(res.status.code, grpc.status.OK);
    assert.ok(res.response?.equals(response), 'response bytes untouched');
    assert.deepEqual(res.status.metadata.get('x-region'), ['a'], 'trailers relayed');
    const [got] = a.callsOf('StartWorkflowExecution');
    assert.ok(got, 'region a got the call');
    assert.ok(got.request.equals(request), 'request bytes untouched');
    assert.deepEqual(got.metadata.get('x-caller'), ['test']);
    assert.deepEqual(got.metadata.get('authorization'), ['Bearer t']);
    assert.ok(Math.abs(got.deadline - (started + 4000)) < 500, `deadline kept (off by ${got.deadline - started - 4000} ms)`);
    assert.equal(b.calls.length, 0);

    const other = await call('DescribeNamespace', { namespace: 'billing' });
    assert.equal(other.status.code, grpc.status.OK);
    assert.equal(b.callsOf('DescribeNamespace').length, 1);
  });

  test('errors come back untouched: code, message and status details', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('grpc-status-details-bin', encodeMessage(statusType, { code: grpc.status.NOT_FOUND, message: 'nope' }));
    a.handlers.set('DescribeWorkflowExecution', async () => ({ error: { code: grpc.status.NOT_FOUND, details: 'workflow execution not found', metadata } }));
    const res = await call('DescribeWorkflowExecution', { namespace: 'orders', execution: { workflowId: 'missing' } });
    assert.equal(res.status.code, grpc.status.NOT_FOUND);
    assert.equal(res.status.details, 'workflow execution not found');
    assert.ok((res.status.metadata.get('grpc-status-details-bin')[0] as Buffer).equals(metadata.get('grpc-status-details-bin')[0] as Buffer));
    assert.equal(a.calls.length, 1, 'not retried');
  });

  test('calls without a namespace (and namespaces without a route) go to the default route', async () => {
    assert.equal((await call('GetSystemInfo', {})).status.code, grpc.status.OK);
    assert.equal((await call('ListNamespaces', {})).status.code, grpc.status.OK);
    assert.equal((await call('RegisterNamespace', { namespace: 'brand-new' })).status.code, grpc.status.OK);
    assert.deepEqual([a.calls.length, b.calls.length], [0, 3]);
  });

  test('bytes that are not a request go to the default region, which answers them', async () => {
    b.handlers.set('DescribeNamespace', async () => ({ error: { code: grpc.status.INVALID_ARGUMENT, details: 'malformed' } }));
    for (const junk of [Buffer.from([0x0a, 0xff]), Buffer.from([0xff, 0xff, 0xff]), Buffer.from([0x0b])]) {
      const res = await call('DescribeNamespace', junk);
      assert.equal(res.status.code, grpc.status.INVALID_ARGUMENT);
    }
    assert.equal(b.callsOf('DescribeNamespace').length, 3);
    assert.equal(a.calls.length, 0);
  });

  test('UNAVAILABLE: re-resolves at once, waits for the new route and completes there', async () => {
    await route('unavail', a);
    a.handlers.set('SignalWorkflowExecution', async () => ({ error: { code: grpc.status.UNAVAILABLE, details: 'region a is going down' } }));
    setTimeout(() => void route('unavail', b), 300);
    const before = (await metric('tandem_router_reroutes_total')).reduce((n, v) => n + v.value, 0);
    const res = await call('SignalWorkflowExecution', { namespace: 'unavail', signalName: 's' });
    assert.equal(res.status.code, grpc.status.OK);
    assert.ok(a.callsOf('SignalWorkflowExecution').length >= 1);
    assert.equal(b.callsOf('SignalWorkflowExecution').length, 1);
    const afterCount = (await metric('tandem_router_reroutes_total')).reduce((n, v) => n + v.value, 0);
    assert.ok(afterCount > before, 'reroutes counted');
  });

  test('UNAVAILABLE with no new route: the last answer after holdMs', async () => {
    await route('stuck', a);
    a.handlers.set('SignalWorkflowExecution', async () => ({ error: { code: grpc.status.UNAVAILABLE, details: 'handover' } }));
    const t0 = Date.now();
    const res = await call('SignalWorkflowExecution', { namespace: 'stuck', signalName: 's' });
    const took = Date.now() - t0;
    assert.equal(res.status.code, grpc.status.UNAVAILABLE);
    assert.equal(res.status.details, 'handover');
    assert.ok(took >= 1400 && took < 3500, `held about holdMs (${took} ms)`);
    assert.ok(a.calls.length > 2, 'tried again while holding');
  });

  test('NamespaceNotActive: the cached route is bypassed at once; FAILED_PRECONDITION without the detail is not', async () => {
    await route('moved', a);
    assert.equal((await call('DescribeNamespace', { namespace: 'moved' })).status.code, grpc.status.OK, 'the route to a is now cached for 60 s');
    // The registry moves the namespace, but this router hears nothing (as if pub/sub were lost).
    const hush = await silenced(async () => route('moved', b));
    a.handlers.set('QueryWorkflow', async () => ({ error: notActive('moved') }));
    const res = await call('QueryWorkflow', { namespace: 'moved' });
    hush();
    assert.equal(res.status.code, grpc.status.OK);
    assert.equal(b.callsOf('QueryWorkflow').length, 1);

    a.handlers.set('ResetWorkflowExecution', async () => ({ error: { code: grpc.status.FAILED_PRECONDITION, details: 'plain precondition' } }));
    await route('plain', a);
    const plain = await call('ResetWorkflowExecution', { namespace: 'plain' });
    assert.equal(plain.status.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(a.callsOf('ResetWorkflowExecution').length, 1);
  });

  test('a region that dies: the call in flight is retried in the region the route moves to', async () => {
    const c = new StubRegion('c');
    await c.start();
    try {
      await route('dying', c);
      c.handlers.set('TerminateWorkflowExecution', async () => new Promise(() => {}));
      const pending = call('TerminateWorkflowExecution', { namespace: 'dying' });
      await waitUntil(() => c.calls.length === 1);
      c.kill();
      await sleep(200);
      await route('dying', b);
      const res = await pending;
      assert.equal(res.status.code, grpc.status.OK);
      assert.equal(b.callsOf('TerminateWorkflowExecution').length, 1);
    } finally {
      c.kill();
    }
  });

  test('a route marked switching: the call is held, then completes where the route lands', async () => {
    await route('switching', a, { switching: true });
    setTimeout(() => void route('switching', b), 400);
    const t0 = Date.now();
    const res = await call('StartWorkflowExecution', { namespace: 'switching', workflowId: 'w' });
    assert.equal(res.status.code, grpc.status.OK);
    assert.ok(Date.now() - t0 >= 350, 'held');
    assert.deepEqual([a.calls.length, b.callsOf('StartWorkflowExecution').length], [0, 1]);
  });

  test('a long poll keeps the caller deadline (less the margin) and gets the region answer', async () => {
    a.handlers.set('PollWorkflowTaskQueue', holdUntilDeadline);
    const t0 = Date.now();
    const res = await call('PollWorkflowTaskQueue', { namespace: 'orders', taskQueue: { name: 'q' } }, { timeoutMs: 2000 });
    assert.equal(res.status.code, grpc.status.OK);
    assert.equal(res.response?.length, 0);
    const [got] = a.callsOf('PollWorkflowTaskQueue');
    assert.ok(Math.abs(got!.deadline - (t0 + 2000 - 300)) < 300, `deadline seen by the region: ${got!.deadline - t0} ms`);
  });

  test('a long poll follows a route change while it waits, and answers empty when the regions give nothing', async () => {
    await route('polls', a);
    a.handlers.set('PollActivityTaskQueue', holdUntilDeadline);
    const task = encodeResponse('PollActivityTaskQueue', { taskToken: Buffer.from('tok'), activityId: 'act-1' });
    b.handlers.set('PollActivityTaskQueue', async () => ({ response: task }));
    const pending = call('PollActivityTaskQueue', { namespace: 'polls', taskQueue: { name: 'q' } }, { timeoutMs: 4000 });
    await waitUntil(() => a.calls.length === 1);
    await route('polls', b);
    const res = await pending;
    assert.equal(res.status.code, grpc.status.OK);
    assert.equal(decodeResponse('PollActivityTaskQueue', res.response!).activityId, 'act-1');

    // Cut by a dying region with no new route: the empty poll answer, before the caller's deadline.
    const c = new StubRegion('c');
    await c.start();
    await route('polls', c);
    c.handlers.set('PollWorkflowTaskQueue', async () => new Promise(() => {}));
    const t0 = Date.now();
    const cut = call('PollWorkflowTaskQueue', { namespace: 'polls', taskQueue: { name: 'q' } }, { timeoutMs: 1500 });
    await waitUntil(() => c.calls.length === 1);
    c.kill();
    const empty = await cut;
    assert.equal(empty.status.code, grpc.status.OK);
    assert.equal(empty.response?.length, 0);
    assert.ok(Date.now() - t0 < 1500, 'answered before the deadline');
  });

  test('a history long poll cut short gets an empty page carrying its page token', async () => {
    const c = new StubRegion('c');
    await c.start();
    await route('history', c);
    c.handlers.set('GetWorkflowExecutionHistory', async () => new Promise(() => {}));
    const pending = call('GetWorkflowExecutionHistory', { namespace: 'history', waitNewEvent: true, nextPageToken: Buffer.from('page-7') }, { timeoutMs: 1200 });
    await waitUntil(() => c.calls.length === 1);
    c.kill();
    const res = await pending;
    assert.equal(res.status.code, grpc.status.OK);
    assert.deepEqual(Buffer.from(decodeResponse('GetWorkflowExecutionHistory', res.response!).nextPageToken as Uint8Array).toString(), 'page-7');
  });

  test('metrics: requests by method, region and code; durations', async () => {
    const requests = await metric('tandem_router_requests_total');
    assert.ok(requests.some((v) => v.labels.method === 'StartWorkflowExecution' && v.labels.region === 'a' && v.labels.code === 'OK'));
    assert.ok(requests.some((v) => v.labels.code === 'UNAVAILABLE'));
    assert.ok((await metric('tandem_router_request_duration_seconds')).length > 0);
  });

  /** Runs fn while the router hears no registry notifications. */
  async function silenced(fn: () => Promise<unknown>): Promise<() => void> {
    const listeners = (routes as unknown as { listeners: Set<unknown> }).listeners;
    const saved = [...listeners];
    listeners.clear();
    await fn();
    await sleep(10);
    return () => saved.forEach((l) => listeners.add(l));
  }
});

async function waitUntil(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await sleep(10);
  }
}
