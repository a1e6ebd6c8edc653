// No request can crash the frontend (DESIGN invariant 11), and stop() is graceful.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { temporal } from '../common/temporal.js';
import { healthDefinition } from '../common/health.js';
import { reflectionRoot } from '../common/grpc-codec.js';
import { WORKFLOW_SERVICE } from './server.js';
import { startFrontend } from './test-helpers.js';

/** mulberry32: a seeded generator, so a failing run can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('1,000 malformed request bodies leave the server up', async () => {
  const f = await startFrontend({ longPollMarginMs: 1000 });
  await f.namespaces.register({ name: 'default' });
  const seed = Number(process.env.FUZZ_SEED ?? 20240611);
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const methods = reflectionRoot.lookupService(WORKFLOW_SERVICE).methodsArray.map((m) => `/${WORKFLOW_SERVICE}/${m.name}`);
  methods.push('/grpc.health.v1.Health/Check');
  const valid = Buffer.from(
    temporal.api.workflowservice.v1.StartWorkflowExecutionRequest.encode({
      namespace: 'default',
      workflowId: 'w',
      workflowType: { name: 't' },
      taskQueue: { name: 'q' },
      input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{}') }] },
    }).finish(),
  );

  const body = (): Buffer => {
    switch (int(4)) {
      case 0: // random bytes
        return Buffer.from(Array.from({ length: int(300) }, () => int(256)));
      case 1: {
        // a valid message with flipped bytes
        const b = Buffer.from(valid);
        for (let i = 0, n = 1 + int(5); i < n; i++) b[int(b.length)] = int(256);
        return b;
      }
      case 2: // truncated valid message
        return valid.subarray(0, int(valid.length));
      default: {
        // a length-delimited field claiming more bytes than follow, or deep nesting
        const depth = int(200);
        return Buffer.concat([...Array.from({ length: depth }, () => Buffer.from([0x0a, 0xff, 0xff, 0x03])), Buffer.from([int(256)])]);
      }
    }
  };

  const client = new grpc.Client(`127.0.0.1:${f.frontend.port}`, grpc.credentials.createInsecure());
  const codes = new Map<string, number>();
  const send = (path: string, payload: Buffer) =>
    new Promise<void>((resolve) => {
      client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        payload,
        { deadline: Date.now() + 1200 },
        (err) => {
          const code = grpc.status[err?.code ?? grpc.status.OK]!;
          codes.set(code, (codes.get(code) ?? 0) + 1);
          resolve();
        },
      );
    });

  const jobs = Array.from({ length: 1000 }, () => [methods[int(methods.length)]!, body()] as const);
  for (let i = 0; i < jobs.length; i += 50) await Promise.all(jobs.slice(i, i + 50).map(([m, b]) => send(m, b)));
  client.close();

  const info = await f.service.getSystemInfo({});
  assert.ok(info.serverVersion);
  const sum = [...codes.values()].reduce((a, b) => a + b, 0);
  assert.equal(sum, 1000);
  // Garbage is the client's fault: never a server bug (INTERNAL/UNKNOWN), never a hung call.
  assert.equal(codes.get('INTERNAL'), undefined, `seed ${seed}: ${JSON.stringify([...codes])}`);
  assert.equal(codes.get('UNKNOWN'), undefined, `seed ${seed}: ${JSON.stringify([...codes])}`);
  assert.equal(codes.get('DEADLINE_EXCEEDED'), undefined, `seed ${seed}: ${JSON.stringify([...codes])}`);
  await f.close();
});

test('stop(): health turns NOT_SERVING, long polls return, the server closes', async () => {
  const f = await startFrontend();
  await f.namespaces.register({ name: 'default' });
  const Health = grpc.makeGenericClientConstructor(healthDefinition, 'Health');
  const health = new Health(`127.0.0.1:${f.frontend.port}`, grpc.credentials.createInsecure());
  const statuses: number[] = [];
  const sawNotServing = new Promise<void>((resolve) => {
    const stream = health.Watch({ service: WORKFLOW_SERVICE });
    stream.on('data', (m: { status: number }) => {
      statuses.push(m.status);
      if (m.status === 2) resolve();
    });
    stream.on('error', () => resolve());
  });
  while (statuses.length === 0) await new Promise((r) => setTimeout(r, 10));
  assert.equal(statuses[0], 1);

  // A poll with no deadline would be held for pollMaxMs; stop() must release it.
  const poll = f.service.pollActivityTaskQueue({ namespace: 'default', taskQueue: { name: 'q' } });
  while (!f.calls.some((c) => c.method === 'pollActivityTaskQueue')) await new Promise((r) => setTimeout(r, 10));

  const stopped = f.frontend.stop();
  await sawNotServing;
  assert.deepEqual(statuses, [1, 2]);
  const res = await poll;
  assert.equal(res.taskToken?.length ?? 0, 0);
  await stopped;
  health.close();
  await f.connection.close();
  await f.namespaces.stop();
  await f.persistence.close();
});
