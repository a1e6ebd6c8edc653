import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { TcpProxy } from './tcp-proxy.js';

let echo: net.Server;
let proxy: TcpProxy;

before(async () => {
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  proxy = await TcpProxy.start((echo.address() as net.AddressInfo).port);
});
after(async () => {
  await proxy.cut();
  await new Promise((resolve) => echo.close(resolve));
});

async function connect(): Promise<net.Socket> {
  const s = net.connect(proxy.port, '127.0.0.1');
  await once(s, 'connect');
  return s;
}

async function roundTrip(s: net.Socket, text: string): Promise<string> {
  s.write(text);
  const [data] = (await once(s, 'data')) as [Buffer];
  return data.toString();
}

test('forwards both ways, cut drops open connections and refuses new ones, heal accepts again on the same port', async () => {
  const s = await connect();
  assert.equal(await roundTrip(s, 'ping'), 'ping');
  assert.equal(proxy.connections, 1);
  assert.equal(proxy.isCut, false);

  const closed = once(s, 'close');
  await proxy.cut();
  await closed;
  assert.equal(proxy.isCut, true);
  const refused = net.connect(proxy.port, '127.0.0.1');
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');

  await proxy.heal();
  await proxy.heal(); // healing a healed link changes nothing
  const again = await connect();
  assert.equal(await roundTrip(again, 'pong'), 'pong');
  assert.equal(proxy.accepted, 2);
  again.destroy();
});
