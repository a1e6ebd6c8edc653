// The page server's HTTP contract against a recording backend (the browser test runs real
// regions): the static page, the snapshot with its lag history, actions with who asked, and
// clear JSON errors for bad input (400/405/415), the backend's refusals (400) and failures (500).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../common/logger.js';
import { OpsBadRequest, type FailoverOutcome, type OpsBackend, type OpsSnapshot } from './backend.js';
import { LagHistory } from './lag-history.js';
import { OpsPageServer } from './server.js';

class RecordingBackend implements OpsBackend {
  readonly calls: unknown[][] = [];

  async snapshot(): Promise<OpsSnapshot> {
    return { generatedAtMs: Date.now(), regions: [], namespaces: [], lag: [{ source: 'a', target: 'b', tasks: 3, seconds: 0.5 }], routes: [], audit: [] };
  }

  async failover(namespace: string, toRegion: string, force: boolean, identity: string): Promise<FailoverOutcome> {
    this.calls.push(['failover', namespace, toRegion, force, identity]);
    if (namespace === 'missing') throw new OpsBadRequest('unknown namespace missing');
    if (namespace === 'broken') throw new Error('store closed');
    return { namespace, fromRegion: 'a', toRegion, mode: force ? 'forced' : 'graceful', durationMs: 5, ok: true, message: '' };
  }

  async drill(region: string, andBack: boolean, identity: string): Promise<FailoverOutcome[]> {
    this.calls.push(['drill', region, andBack, identity]);
    return [];
  }
}

describe('OpsPageServer', () => {
  const backend = new RecordingBackend();
  const server = new OpsPageServer({ port: 0, sampleEveryMs: 60_000 }, { backend, logger: silentLogger() });
  before(() => server.start());
  after(() => server.stop());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(new URL(path, server.url), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  test('serves the page, its script and style, with a policy that loads nothing from elsewhere', async () => {
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await page.text(), /<title>Tandem operations<\/title>/);
    for (const [path, type] of [['/ops.js', /javascript/], ['/ops.css', /css/]] as const) {
      const res = await fetch(new URL(path, server.url));
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', type);
    }
    assert.equal((await fetch(new URL('/nope', server.url))).status, 404);
  });

  test('the snapshot carries the lag history of every region pair', async () => {
    const snap = (await (await fetch(new URL('/api/snapshot', server.url))).json()) as { lag: unknown[]; lagHistory: { source: string; target: string; points: { seconds: number }[] }[]; lagHistoryMs: number };
    assert.equal(snap.lag.length, 1);
    assert.equal(snap.lagHistoryMs, 10 * 60_000);
    assert.deepEqual(snap.lagHistory.map((s) => [s.source, s.target]), [['a', 'b']]);
    assert.deepEqual(snap.lagHistory[0]!.points.map((p) => p.seconds), [0.5]);
  });

  test('actions reach the backend with who asked: the remote address, or the operator header', async () => {
    let res = await post('/api/failover', { namespace: 'default', toRegion: 'b', force: true });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { outcome: FailoverOutcome }).outcome.mode, 'forced');
    assert.deepEqual(backend.calls.at(-1), ['failover', 'default', 'b', true, 'ops page (127.0.0.1)']);
    res = await post('/api/drill', { region: 'a', andBack: true }, { 'x-tandem-operator': 'alice' });
    assert.deepEqual((await res.json()) as unknown, { outcomes: [] });
    assert.deepEqual(backend.calls.at(-1), ['drill', 'a', true, 'alice (ops page, 127.0.0.1)']);
    await post('/api/failover', { namespace: 'default', toRegion: 'b' });
    assert.equal(backend.calls.at(-1)![3], false, 'force defaults to graceful');
  });

  test('bad input is a 400 with a message, before the backend is asked', async () => {
    const before = backend.calls.length;
    for (const [body, message] of [
      [{ toRegion: 'b' }, /namespace is required/],
      [{ namespace: 'default', toRegion: '' }, /toRegion is required/],
      [{ namespace: 'default', toRegion: 'b', force: 'yes' }, /force must be true or false/],
      ['{not json', /not JSON/],
      [[1, 2], /JSON object/],
    ] as const) {
      const res = await post('/api/failover', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(((await res.json()) as { error: string }).error, message);
    }
    assert.equal(backend.calls.length, before);
    const form = await fetch(new URL('/api/drill', server.url), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"region":"a"}' });
    assert.equal(form.status, 415);
    assert.equal((await fetch(new URL('/api/failover', server.url))).status, 405);
  });

  test("the backend's refusal is a 400 and its failure a 500, each with its message", async () => {
    let res = await post('/api/failover', { namespace: 'missing', toRegion: 'b' });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: 'unknown namespace missing' });
    res = await post('/api/failover', { namespace: 'broken', toRegion: 'b' });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: 'store closed' });
  });
});

describe('LagHistory', () => {
  test('keeps the window per pair, one reading per spacing, and forgets pairs gone for the whole window', () => {
    const h = new LagHistory(10_000, 500);
    h.record(0, [{ source: 'a', target: 'b', tasks: 1, seconds: 0.1 }]);
    h.record(200, [{ source: 'a', target: 'b', tasks: 9, seconds: 9 }]);
    h.record(1000, [{ source: 'b', target: 'a', tasks: 0, seconds: 0 }, { source: 'a', target: 'b', tasks: 2, seconds: 0.2 }]);
    assert.deepEqual(h.list(1000).map((s) => [s.source, s.target, s.points.map((p) => p.seconds)]), [
      ['a', 'b', [0.1, 0.2]],
      ['b', 'a', [0]],
    ]);
    assert.deepEqual(h.list(10_500).map((s) => [s.source, s.points.length]), [['a', 1], ['b', 1]]);
    assert.deepEqual(h.list(20_000), []);
  });
});
