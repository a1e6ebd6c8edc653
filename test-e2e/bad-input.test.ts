// DESIGN invariant 11 end to end: bad input gets a clear gRPC status, and no request can crash the
// process or corrupt a shard. Raw grpc-js (no SDK retries, no client-side validation) against a
// real `tandem dev` process on SQLite: named cases first, then a seeded barrage of 1,000 malformed
// requests, after which a workflow written before it must read back byte for byte.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { root, temporal } from '../services/common/temporal.js';
import { StoreFixture, TandemProcess } from './harness.js';

const ws = temporal.api.workflowservice.v1;
const SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
const NAMESPACE = 'default';
const MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;
const { status } = grpc;

interface Outcome {
  code: grpc.status;
  details: string;
  response?: Buffer;
}

type MessageClass = {
  fromObject(o: Record<string, unknown>): object;
  encode(m: object): { finish(): Uint8Array };
  decode(b: Uint8Array): object;
};

function messageClass(name: string): MessageClass {
  const cls = (ws as unknown as Record<string, MessageClass | undefined>)[name];
  if (!cls) throw new Error(`no message ${name}`);
  return cls;
}

/** Every WorkflowService method, from the same Temporal API the server serves. */
// The reflection root's declarations list only the generated namespaces; its runtime is protobufjs.
const METHODS = (root as unknown as { lookupService(name: string): { methodsArray: { name: string }[] } })
  .lookupService(SERVICE)
  .methodsArray.map((m) => m.name);

class RawClient {
  private readonly client: grpc.Client;

  constructor(address: string) {
    // A connection of its own: a call that breaks its connection cannot stall another client's calls.
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  }

  /** One unary call with the body as given: no encoding, no retries. */
  bytes(method: string, body: Buffer, timeoutMs = 10_000): Promise<Outcome> {
    const identity = (b: Buffer) => b;
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        `/${SERVICE}/${method}`,
        identity,
        identity,
        body,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, response) => {
          if (err) resolve({ code: err.code ?? status.UNKNOWN, details: err.details ?? err.message });
          else resolve({ code: status.OK, details: '', response });
        },
      );
    });
  }

  /** A structurally valid request built from a plain object of `<method>Request`. */
  call(method: string, request: Record<string, unknown>, timeoutMs?: number): Promise<Outcome> {
    const cls = messageClass(`${method}Request`);
    return this.bytes(method, Buffer.from(cls.encode(cls.fromObject(request)).finish()), timeoutMs);
  }

  close(): void {
    this.client.close();
  }
}

/** JSON.stringify replacer that keeps long strings and byte buffers readable in a report. */
function shorten(_key: string, v: unknown): unknown {
  if (typeof v === 'string' && v.length > 80) return `<${v.length} chars>`;
  if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') return `<${(v as { data: unknown[] }).data.length} bytes>`;
  return v;
}

function codeName(code: grpc.status): string {
  return status[code] ?? String(code);
}

function assertStatus(o: Outcome, expected: grpc.status, detailsPattern?: RegExp): void {
  assert.equal(codeName(o.code), codeName(expected), `status (details: ${o.details})`);
  if (detailsPattern) assert.match(o.details, detailsPattern);
}

/** A small seeded PRNG, so a failing barrage can be replayed with BAD_INPUT_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function startRequest(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    namespace: NAMESPACE,
    workflowId: `bad-input-${randomUUID()}`,
    workflowType: { name: 'badInputWorkflow' },
    taskQueue: { name: 'bad-input-nobody-polls' },
    requestId: randomUUID(),
    identity: 'bad-input-test',
    ...over,
  };
}

describe('bad input (sqlite)', () => {
  let store: StoreFixture | undefined;
  let server: TandemProcess | undefined;
  let rpc: RawClient;

  before(async () => {
    store = await StoreFixture.create('sqlite');
    server = await TandemProcess.start(store);
    rpc = new RawClient(server.address);
  });

  after(async () => {
    rpc?.close();
    await server?.stop();
    await store?.dispose();
  });

  test('an unknown namespace is NOT_FOUND', async () => {
    assertStatus(await rpc.call('StartWorkflowExecution', startRequest({ namespace: 'no-such-namespace' })), status.NOT_FOUND, /no-such-namespace/);
    assertStatus(await rpc.call('DescribeNamespace', { namespace: 'no-such-namespace' }), status.NOT_FOUND, /no-such-namespace/);
    assertStatus(
      await rpc.call('SignalWorkflowExecution', { namespace: 'no-such-namespace', workflowExecution: { workflowId: 'x' }, signalName: 's' }),
      status.NOT_FOUND,
      /no-such-namespace/,
    );
  });

  test('a start without workflow id, workflow type or task queue is INVALID_ARGUMENT naming the field', async () => {
    assertStatus(await rpc.call('StartWorkflowExecution', startRequest({ workflowId: '' })), status.INVALID_ARGUMENT, /WorkflowId/);
    assertStatus(await rpc.call('StartWorkflowExecution', startRequest({ workflowType: null })), status.INVALID_ARGUMENT, /WorkflowType/);
    assertStatus(await rpc.call('StartWorkflowExecution', startRequest({ taskQueue: null })), status.INVALID_ARGUMENT, /TaskQueue/);
    assertStatus(await rpc.call('StartWorkflowExecution', startRequest({ taskQueue: { name: '' } })), status.INVALID_ARGUMENT, /TaskQueue/);
  });

  // DESIGN invariant 11 says RESOURCE_EXHAUSTED; commit ba3495f chose INVALID_ARGUMENT, as Temporal
  // answers, because every SDK retries RESOURCE_EXHAUSTED as "busy" and an oversize call would hang.
  test('a payload over the limit is INVALID_ARGUMENT naming the limit', async () => {
    const big = { payloads: [{ metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 7) }] };
    const started = await rpc.call('StartWorkflowExecution', startRequest({ input: big }));
    assertStatus(started, status.INVALID_ARGUMENT, new RegExp(`${MAX_PAYLOAD_BYTES}`));
    assert.match(started.details, /input/, 'the message names the field');

    // The same limit on a signal to a running workflow, which stays untouched.
    const ok = startRequest();
    assertStatus(await rpc.call('StartWorkflowExecution', ok), status.OK);
    const signal = await rpc.call('SignalWorkflowExecution', {
      namespace: NAMESPACE,
      workflowExecution: { workflowId: ok.workflowId },
      signalName: 'big',
      input: big,
    });
    assertStatus(signal, status.INVALID_ARGUMENT, new RegExp(`${MAX_PAYLOAD_BYTES}`));
    const history = await rpc.call('GetWorkflowExecutionHistory', { namespace: NAMESPACE, execution: { workflowId: ok.workflowId } });
    assertStatus(history, status.OK);
    const events = (ws.GetWorkflowExecutionHistoryResponse.decode(history.response!).history?.events ?? []).map((e) => e.eventType);
    assert.ok(!events.includes(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), 'the oversize signal left no event');

    // Just under the limit is accepted.
    const fits = { payloads: [{ data: Buffer.alloc(MAX_PAYLOAD_BYTES - 1024, 7) }] };
    assertStatus(await rpc.call('StartWorkflowExecution', startRequest({ input: fits })), status.OK);
  });

  test('an over-long visibility query is INVALID_ARGUMENT and leaves the connection usable', async () => {
    const own = new RawClient(server!.address);
    try {
      for (const method of ['ListWorkflowExecutions', 'CountWorkflowExecutions']) {
        assertStatus(await own.call(method, { namespace: NAMESPACE, query: 'x'.repeat(150_000) }, 5_000), status.INVALID_ARGUMENT);
        assertStatus(await own.call('GetSystemInfo', {}, 5_000), status.OK);
      }
    } finally {
      own.close();
    }
  });

  test('1,000 malformed requests: the server stays up and the data is intact', async () => {
    const seed = Number(process.env.BAD_INPUT_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const rand = prng(seed);
    const int = (n: number) => Math.floor(rand() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
    const junk = (max: number) => Buffer.from(Array.from({ length: int(max) }, () => int(256)));

    // A workflow acknowledged before the barrage; the barrage aims at it too (wrong run ids, bad tokens).
    const victim = startRequest();
    const victimStart = await rpc.call('StartWorkflowExecution', victim);
    assertStatus(victimStart, status.OK);
    const victimRunId = ws.StartWorkflowExecutionResponse.decode(victimStart.response!).runId;
    assertStatus(
      await rpc.call('SignalWorkflowExecution', { namespace: NAMESPACE, workflowExecution: { workflowId: victim.workflowId }, signalName: 'before', requestId: randomUUID() }),
      status.OK,
    );
    const readVictim = async () => {
      const d = await rpc.call('DescribeWorkflowExecution', { namespace: NAMESPACE, execution: { workflowId: victim.workflowId, runId: victimRunId } });
      const h = await rpc.call('GetWorkflowExecutionHistory', { namespace: NAMESPACE, execution: { workflowId: victim.workflowId, runId: victimRunId } });
      assertStatus(d, status.OK);
      assertStatus(h, status.OK);
      return { describe: d.response!.toString('hex'), history: h.response!.toString('hex') };
    };
    const before = await readVictim();

    const victimId = String(victim.workflowId);
    const hugeId = 'x'.repeat(100_000 + int(100_000));
    const negative = () => ({ seconds: -1 - int(1_000_000), nanos: 0 });
    const badNanos = () => ({ seconds: int(10), nanos: 1_000_000_000 + int(1_000_000) });
    const badToken = () => pick([junk(300), Buffer.alloc(0), Buffer.from('{"namespaceId":1}'), Buffer.from('null'), Buffer.from('{}'), randomBytes(64)]);
    const badPageToken = () =>
      pick([
        junk(200),
        Buffer.from('{"runId":5,"nextEventId":"x"}'),
        Buffer.from(JSON.stringify({ runId: victimRunId, nextEventId: -5 })),
        Buffer.from(JSON.stringify({ runId: victimRunId, nextEventId: 1e300 })),
        Buffer.from(JSON.stringify({ runId: randomUUID(), nextEventId: 2 })),
        Buffer.from('not json'),
      ]);
    const otherId = () => pick([`missing-${randomUUID()}`, hugeId, '\u0000\uffff', ' ', victimId]);
    const wrongRun = () => pick([randomUUID(), 'not-a-uuid', hugeId]);

    // Structurally valid, semantically garbage: which statuses each may answer.
    const bad = [status.INVALID_ARGUMENT];
    const badOrMissing = [status.INVALID_ARGUMENT, status.NOT_FOUND];
    const cases: (() => { method: string; request: Record<string, unknown>; allowed: grpc.status[] })[] = [
      () => ({ method: 'StartWorkflowExecution', request: startRequest({ workflowId: hugeId }), allowed: bad }),
      () => ({ method: 'StartWorkflowExecution', request: startRequest({ workflowRunTimeout: negative() }), allowed: bad }),
      () => ({ method: 'StartWorkflowExecution', request: startRequest({ workflowExecutionTimeout: negative() }), allowed: bad }),
      () => ({ method: 'StartWorkflowExecution', request: startRequest({ workflowTaskTimeout: badNanos() }), allowed: bad }),
      () => ({ method: 'StartWorkflowExecution', request: startRequest({ workflowStartDelay: negative() }), allowed: bad }),
      () => ({ method: 'StartWorkflowExecution', request: startRequest({ taskQueue: { name: hugeId } }), allowed: bad }),
      () => ({ method: 'StartWorkflowExecution', request: startRequest({ workflowType: { name: hugeId } }), allowed: bad }),
      () => ({ method: 'StartWorkflowExecution', request: startRequest({ requestId: hugeId }), allowed: bad }),
      () => ({ method: 'StartWorkflowExecution', request: startRequest({ cronSchedule: pick(['every day', '* * *', '99 99 99 99 99', '@every -5s']) }), allowed: bad }),
      () => ({
        method: 'StartWorkflowExecution',
        request: startRequest({ retryPolicy: { initialInterval: negative(), backoffCoefficient: -2, maximumAttempts: -3 } }),
        allowed: bad,
      }),
      // The victim is running: a start with its id and no special policy must not touch it.
      () => ({ method: 'StartWorkflowExecution', request: startRequest({ workflowId: victimId }), allowed: [status.ALREADY_EXISTS] }),
      () => ({
        method: 'SignalWithStartWorkflowExecution',
        request: { ...startRequest({ workflowRunTimeout: negative() }), signalName: 's' },
        allowed: bad,
      }),
      () => ({ method: 'SignalWithStartWorkflowExecution', request: { ...startRequest(), signalName: '' }, allowed: bad }),
      () => ({
        method: 'SignalWorkflowExecution',
        request: { namespace: NAMESPACE, workflowExecution: { workflowId: otherId(), runId: wrongRun() }, signalName: pick(['s', hugeId]) },
        allowed: badOrMissing,
      }),
      () => ({
        method: 'SignalWorkflowExecution',
        request: { namespace: NAMESPACE, workflowExecution: { workflowId: victimId }, signalName: '' },
        allowed: bad,
      }),
      () => ({
        method: 'TerminateWorkflowExecution',
        request: { namespace: NAMESPACE, workflowExecution: { workflowId: pick([victimId, hugeId]), runId: wrongRun() }, reason: 'garbage' },
        allowed: badOrMissing,
      }),
      () => ({
        method: 'RequestCancelWorkflowExecution',
        request: { namespace: NAMESPACE, workflowExecution: { workflowId: pick([victimId, hugeId]), runId: wrongRun() } },
        allowed: badOrMissing,
      }),
      () => ({ method: 'DescribeWorkflowExecution', request: { namespace: NAMESPACE, execution: pick([null, { workflowId: '' }, { workflowId: otherId(), runId: wrongRun() }]) }, allowed: badOrMissing }),
      () => ({
        method: 'GetWorkflowExecutionHistory',
        request: { namespace: NAMESPACE, execution: { workflowId: victimId }, nextPageToken: badPageToken(), maximumPageSize: pick([-1, 0, 2 ** 31 - 1]) },
        allowed: [status.OK, ...badOrMissing],
      }),
      () => ({ method: 'ListWorkflowExecutions', request: { namespace: NAMESPACE, nextPageToken: junk(100), pageSize: pick([5, 0]) }, allowed: [status.OK, ...bad] }),
      () => ({ method: 'ListWorkflowExecutions', request: { namespace: NAMESPACE, pageSize: -1 - int(100) }, allowed: bad }),
      () => ({
        method: pick(['ListWorkflowExecutions', 'CountWorkflowExecutions']),
        request: { namespace: NAMESPACE, query: pick(["WorkflowId = ", "' OR 1=1 --", 'ExecutionStatus = "Nope"', 'a b c d', '((((', 'x'.repeat(5000), 'WorkflowId = 5']) },
        allowed: bad,
      }),
      () => ({ method: 'ListNamespaces', request: { pageSize: -1 - int(10), nextPageToken: junk(50) }, allowed: [status.OK, ...bad] }),
      () => ({ method: 'DescribeNamespace', request: pick([{}, { namespace: hugeId }, { id: 'not-a-uuid' }]), allowed: badOrMissing }),
      () => ({
        method: 'RegisterNamespace',
        request: { namespace: pick(['bad name!', '', hugeId, '../..']), workflowExecutionRetentionPeriod: pick([negative(), null]) },
        allowed: bad,
      }),
      () => ({
        method: pick(['RespondWorkflowTaskCompleted', 'RespondWorkflowTaskFailed', 'RespondActivityTaskCompleted', 'RespondActivityTaskFailed', 'RespondActivityTaskCanceled', 'RecordActivityTaskHeartbeat', 'RespondQueryTaskCompleted']),
        request: { namespace: NAMESPACE, taskToken: badToken(), identity: 'garbage' },
        allowed: badOrMissing,
      }),
      () => ({
        method: pick(['PollWorkflowTaskQueue', 'PollActivityTaskQueue']),
        request: { namespace: NAMESPACE, taskQueue: pick([null, { name: '' }, { name: hugeId }]) },
        allowed: bad,
      }),
      () => ({
        method: 'QueryWorkflow',
        request: { namespace: NAMESPACE, execution: { workflowId: otherId(), runId: wrongRun() }, query: { queryType: 'q' } },
        allowed: badOrMissing,
      }),
      () => ({
        method: 'ResetStickyTaskQueue',
        request: { namespace: NAMESPACE, execution: { workflowId: otherId(), runId: wrongRun() } },
        allowed: badOrMissing,
      }),
      () => ({
        method: 'DescribeTaskQueue',
        request: { namespace: NAMESPACE, taskQueue: pick([null, { name: '' }, { name: hugeId }]), taskQueueType: 99 },
        allowed: bad,
      }),
    ];

    // Random bytes on random methods (and a few that do not exist): never a crash, never INTERNAL.
    const neverAllowed = new Set([status.INTERNAL, status.UNKNOWN, status.UNAVAILABLE, status.DATA_LOSS]);
    const calls: ((client: RawClient) => Promise<{ kind: string; example: string } | null>)[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 5 < 3) {
        const method = int(20) === 0 ? `NoSuchMethod${int(100)}` : pick(METHODS);
        const body = junk(int(4) === 0 ? 5000 : 300);
        calls.push(async (client) => {
          const o = await client.bytes(method, body, 5_000);
          if (!neverAllowed.has(o.code) && o.code !== status.DEADLINE_EXCEEDED) return null;
          return { kind: `${method}(random bytes) -> ${codeName(o.code)}: ${o.details.slice(0, 200)}`, example: `${body.length} bytes: ${body.toString('base64')}` };
        });
      } else {
        const c = pick(cases)();
        calls.push(async (client) => {
          const o = await client.call(c.method, c.request, 5_000);
          if (c.allowed.includes(o.code)) return null;
          return {
            kind: `${c.method} -> ${codeName(o.code)}: ${o.details.slice(0, 200)} (allowed: ${c.allowed.map(codeName).join('|')})`,
            example: JSON.stringify(c.request, shorten).slice(0, 400),
          };
        });
      }
    }
    const findings = new Map<string, { count: number; example: string }>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        const own = new RawClient(server!.address);
        try {
          while (next < calls.length) {
            const finding = await calls[next++](own);
            if (finding) {
              const seen = findings.get(finding.kind);
              findings.set(finding.kind, { count: (seen?.count ?? 0) + 1, example: seen?.example ?? finding.example });
            }
          }
        } finally {
          own.close();
        }
      }),
    );

    // Still up, the victim unchanged, and a new workflow still starts and describes.
    assertStatus(await rpc.call('GetSystemInfo', {}), status.OK);
    assert.deepEqual(await readVictim(), before, 'the victim reads back byte for byte');
    const fresh = startRequest();
    assertStatus(await rpc.call('StartWorkflowExecution', fresh), status.OK);
    const d = await rpc.call('DescribeWorkflowExecution', { namespace: NAMESPACE, execution: { workflowId: fresh.workflowId } });
    assertStatus(d, status.OK);
    const info = ws.DescribeWorkflowExecutionResponse.decode(d.response!).workflowExecutionInfo;
    assert.equal(info?.status, temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    assert.equal(info?.type?.name, 'badInputWorkflow');

    const report = [...findings].map(([kind, f]) => `${kind} [${f.count}x, e.g. ${f.example}]`);
    assert.deepEqual(report, [], `seed ${seed}: unexpected answers (BAD_INPUT_SEED=${seed} replays them)`);
  });
});
