import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { mintCa, type Pem } from './certificates.js';
import { bindServer } from './grpc-server.js';
import { HealthState, healthDefinition } from './health.js';
import type { Logger } from './logger.js';
import { channelCredentials, peersOnly, serverCredentials, TlsFileError, type ClientTlsFiles, type TlsFiles } from './tls.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-tls-'));
const ca = mintCa('test CA');
const otherCa = mintCa('another CA');
const REFRESH_MS = 100;

/** Writes a file the way a rotation should: whole, by rename, so a reader never sees half of it. */
function put(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
  return file;
}

function identity(name: string, pem: Pem, caPem: string): TlsFiles {
  return { certFile: put(`${name}.pem`, pem.cert), keyFile: put(`${name}-key.pem`, pem.key), caFile: put(`${name}-ca.pem`, caPem), refreshMs: REFRESH_MS };
}

const serverPem = (cn: string) => ca.issue({ commonName: cn, hosts: ['127.0.0.1', 'localhost'], usage: ['server'] });
const serverFiles = identity('server', serverPem('server-1'), ca.cert);
const caFile = put('ca.pem', ca.cert);
const otherCaFile = put('other-ca.pem', otherCa.cert);
const peer: ClientTlsFiles = identity('peer', ca.issue({ commonName: 'region b', usage: ['client'] }), ca.cert);
const stranger: ClientTlsFiles = { ...identity('stranger', otherCa.issue({ commonName: 'region x', usage: ['client'] }), ca.cert) };

/** What the server's certificate provider logged, as [level, message]. */
const logged: [string, string][] = [];
const log = { warn: (_: object, msg: string) => logged.push(['warn', msg]), info: (_: object, msg: string) => logged.push(['info', msg]) } as unknown as Logger;

let server: grpc.Server;
let address: string;
const Health = grpc.makeGenericClientConstructor(healthDefinition, 'Health');
const clients: grpc.Client[] = [];

/** Health/Check on the open service ('open') or the one for peers only ('peers'); resolves with the status code. */
function check(creds: grpc.ChannelCredentials, which: 'open' | 'peers'): Promise<grpc.status> {
  // A channel of its own each time: a new connection, so a handshake with the files as they are now.
  const client = new Health(address, creds, { 'grpc.use_local_subchannel_pool': 1 }) as grpc.Client & Record<string, Function>;
  clients.push(client);
  const method = which === 'open' ? '/grpc.health.v1.Health/Check' : '/peers.Health/Check';
  return new Promise((resolve) =>
    client.makeUnaryRequest(method, (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), { deadline: Date.now() + 5_000 }, (err) => resolve(err ? err.code : grpc.status.OK)),
  );
}

/** The common name of the certificate the server presents to a new connection. */
function servedCommonName(): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port: Number(port), ca: ca.cert, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      resolve(String(socket.getPeerCertificate().subject.CN));
      socket.end();
    });
    socket.on('error', reject);
  });
}

before(async () => {
  const health = new HealthState(['']);
  health.setServing(true);
  server = new grpc.Server();
  server.addService(healthDefinition, health.implementation());
  const peersDefinition = Object.fromEntries(Object.entries(healthDefinition).map(([k, d]) => [k, { ...d, path: d.path.replace('grpc.health.v1', 'peers') }]));
  server.addService(peersDefinition, peersOnly(health.implementation()));
  address = `127.0.0.1:${await bindServer(server, '127.0.0.1', 0, serverCredentials(serverFiles, log))}`;
});

after(() => {
  for (const c of clients) c.close();
  server.forceShutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('TLS credentials', () => {
  test('a client that trusts the CA is served; the peers-only service wants its client certificate', async () => {
    assert.equal(await check(channelCredentials({ caFile }), 'open'), grpc.status.OK);
    assert.equal(await check(channelCredentials({ caFile }), 'peers'), grpc.status.UNAUTHENTICATED);
    assert.equal(await check(channelCredentials(peer), 'peers'), grpc.status.OK);
  });

  test('a peer presenting a certificate from another CA is refused, on streams too', async () => {
    assert.equal(await check(channelCredentials(stranger), 'peers'), grpc.status.UNAUTHENTICATED);
    const client = new Health(address, channelCredentials(stranger)) as grpc.Client;
    clients.push(client);
    const stream = client.makeServerStreamRequest('/peers.Health/Watch', (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0));
    const code = await new Promise<grpc.status>((resolve) => stream.on('status', (s: grpc.StatusObject) => resolve(s.code)).on('error', () => {}));
    assert.equal(code, grpc.status.UNAUTHENTICATED);
  });

  test('a client that does not trust the server certificate does not connect', async () => {
    assert.equal(await check(channelCredentials({ caFile: otherCaFile }), 'open'), grpc.status.UNAVAILABLE);
  });

  test('plaintext to a TLS server does not connect', async () => {
    assert.equal(await check(channelCredentials(undefined), 'open'), grpc.status.UNAVAILABLE);
  });

  test('a missing file is named at once', () => {
    const missing = path.join(dir, 'nope.pem');
    assert.throws(() => serverCredentials({ ...serverFiles, keyFile: missing }), (err: unknown) => err instanceof TlsFileError && err.message.includes(missing) && /private key/.test(err.message));
    assert.throws(() => channelCredentials({ caFile: missing }), (err: unknown) => err instanceof TlsFileError && err.message.includes(missing));
  });

  test('a rotated server certificate is served to new connections without a restart', async () => {
    assert.equal(await servedCommonName(), 'server-1');
    const rotated = serverPem('server-2');
    // Key first: until the certificate follows, the pair does not match and the last good one stays in use.
    put('server-key.pem', rotated.key);
    put('server.pem', rotated.cert);
    const deadline = Date.now() + 10_000;
    while ((await servedCommonName()) !== 'server-2') {
      assert.ok(Date.now() < deadline, 'the rotated certificate was not picked up');
      await new Promise((r) => setTimeout(r, REFRESH_MS));
    }
    assert.equal(await check(channelCredentials(peer), 'peers'), grpc.status.OK);
  });

  test('a rotation that never becomes whole is logged once and the last good certificate stays in use', async () => {
    const served = await servedCommonName();
    put('server.pem', 'not a certificate');
    const deadline = Date.now() + 10_000;
    while (!logged.some(([level]) => level === 'warn')) {
      assert.ok(Date.now() < deadline, 'the bad file was not noticed');
      await new Promise((r) => setTimeout(r, REFRESH_MS));
    }
    assert.equal(await servedCommonName(), served);
    assert.equal(await check(channelCredentials(peer), 'peers'), grpc.status.OK);
    await new Promise((r) => setTimeout(r, REFRESH_MS * 3));
    assert.equal(logged.filter(([level]) => level === 'warn').length, 1);
  });

  test('a rotated client certificate is presented on new connections of the same credentials', async () => {
    const files = identity('rotating', ca.issue({ commonName: 'region c', usage: ['client'] }), ca.cert);
    const credentials = channelCredentials(files);
    assert.equal(await check(credentials, 'peers'), grpc.status.OK);
    const foreign = otherCa.issue({ commonName: 'region c', usage: ['client'] });
    put('rotating-key.pem', foreign.key);
    put('rotating.pem', foreign.cert);
    const deadline = Date.now() + 10_000;
    while ((await check(credentials, 'peers')) !== grpc.status.UNAUTHENTICATED) {
      assert.ok(Date.now() < deadline, 'the rotated client certificate was not presented');
      await new Promise((r) => setTimeout(r, REFRESH_MS));
    }
  });
});
