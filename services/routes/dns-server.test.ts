// The route DNS server, queried by node's own resolver (c-ares) on loopback, and by raw packets.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../common/logger.js';
import { RouteDnsServer, routeDnsConfig } from './dns-server.js';
import { RCODE } from './dns-wire.js';
import { InMemoryRouteRegistry } from './in-memory.js';

describe('RouteDnsServer', () => {
  const routes = new InMemoryRouteRegistry();
  const server = new RouteDnsServer({ port: 0, domain: 'routes.test' }, { routes, logger: silentLogger() });

  const resolver = () => {
    const r = new Resolver({ timeout: 1000, tries: 1 });
    r.setServers([`127.0.0.1:${server.port}`]);
    return r;
  };

  /** Sends raw bytes; resolves with the answer, or undefined when none comes within 300 ms. */
  const raw = (packet: Buffer) =>
    new Promise<Buffer | undefined>((resolve) => {
      const s = dgram.createSocket('udp4');
      const timer = setTimeout(() => {
        s.close();
        resolve(undefined);
      }, 300);
      s.on('message', (m) => {
        clearTimeout(timer);
        s.close();
        resolve(m);
      });
      s.send(packet, server.port, '127.0.0.1');
    });

  before(async () => {
    await routes.put({ namespace: 'orders', region: 'a', endpoint: '127.0.0.1:7301', epoch: 3, ttlMs: 30_000 });
    await server.start();
  });
  after(() => server.stop());

  test('config: defaults, a trailing dot and case are normalised, bad values refused', () => {
    assert.deepEqual(routeDnsConfig(), { host: '127.0.0.1', port: 8053, domain: 'routes.tandem' });
    assert.equal(routeDnsConfig({ domain: 'Routes.Example.' }).domain, 'routes.example');
    assert.throws(() => routeDnsConfig({ domain: 'a b' }), /domain/);
    assert.throws(() => routeDnsConfig({ port: 70000 }), /port/);
  });

  test('A, SRV and TXT for <namespace>.<domain>, each with the record TTL', async () => {
    const r = resolver();
    assert.deepEqual(await r.resolve4('orders.routes.test', { ttl: true }), [{ address: '127.0.0.1', ttl: 30 }]);
    assert.deepEqual(await r.resolveSrv('orders.routes.test'), [{ name: 'orders.routes.test', port: 7301, priority: 0, weight: 0 }]);
    const txt = (await r.resolveTxt('orders.routes.test')).map((chunks) => chunks.join('')).sort();
    assert.deepEqual(txt, ['endpoint=127.0.0.1:7301', 'epoch=3', 'region=a']);
    assert.deepEqual(await r.resolve4('ORDERS.Routes.TEST'), ['127.0.0.1'], 'the zone is case-insensitive');
  });

  test('NXDOMAIN for an unknown namespace, REFUSED outside the zone', async () => {
    const r = resolver();
    await assert.rejects(r.resolve4('nobody.routes.test'), { code: 'ENOTFOUND' });
    await assert.rejects(r.resolve4('a.b.routes.test'), { code: 'ENOTFOUND' });
    await assert.rejects(r.resolve4('orders.example.com'), { code: 'EREFUSED' });
  });

  test('a put with a higher epoch is what the next resolution sees', async () => {
    await routes.put({ namespace: 'billing', region: 'a', endpoint: '127.0.0.1:7301', epoch: 1, ttlMs: 1000 });
    const r = resolver();
    assert.deepEqual(await r.resolveSrv('billing.routes.test').then((s) => s.map((x) => x.port)), [7301]);
    await routes.put({ namespace: 'billing', region: 'b', endpoint: '127.0.0.2:7302', epoch: 2, ttlMs: 1000, switching: true });
    // The same resolver: whatever it cached expires after the record's TTL (1 s).
    const deadline = Date.now() + 5000;
    let ports: number[] = [];
    while (Date.now() < deadline) {
      ports = (await r.resolveSrv('billing.routes.test')).map((x) => x.port);
      if (ports[0] === 7302) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.deepEqual(ports, [7302]);
    assert.deepEqual(await r.resolve4('billing.routes.test'), ['127.0.0.2']);
    const txt = (await r.resolveTxt('billing.routes.test')).map((c) => c.join('')).sort();
    assert.deepEqual(txt, ['endpoint=127.0.0.2:7302', 'epoch=2', 'region=b', 'switching=true']);
  });

  test('malformed packets: FORMERR when there is a header to answer, silence otherwise; the server keeps serving', async () => {
    assert.equal(await raw(Buffer.from([1, 2, 3])), undefined, 'too short to answer');
    const header = (qdcount: number) => Buffer.from([0xab, 0xcd, 0x01, 0x00, 0, qdcount, 0, 0, 0, 0, 0, 0]);
    const cases = [
      header(0),
      header(2),
      Buffer.concat([header(1), Buffer.from([6, 0x6f, 0x72])]), // a label past the end
      Buffer.concat([header(1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]), // a pointer to itself
      Buffer.concat([header(1), Buffer.from([0x40, 0, 0, 1, 0, 1])]), // an unknown label type
      Buffer.concat([header(1), Buffer.from([0])]), // the question cut short
    ];
    for (const packet of cases) {
      const answer = await raw(packet);
      assert.ok(answer, `an answer to ${packet.toString('hex')}`);
      assert.equal(answer.readUInt16BE(0), 0xabcd);
      assert.equal(answer.readUInt16BE(2) & 0xf, RCODE.FORMERR);
    }
    const response = Buffer.from(header(1));
    response[2] = 0x81;
    assert.equal(await raw(response), undefined, 'a response is never answered (no loops between servers)');
    assert.deepEqual(await resolver().resolve4('orders.routes.test'), ['127.0.0.1']);
  });
});
