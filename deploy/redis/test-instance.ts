// The Redis that tests run against: TANDEM_TEST_REDIS (host:port) when set, else the launcher
// instance named 'test' on 127.0.0.1:16379, started on first use and left running for the next
// test file (`npx tsx deploy/redis/cli.ts stop --name test` stops it). Tests share it, so each
// test keeps to its own key prefix (e.g. a fresh membership region name).
import { createServer } from 'node:net';
import { startRedis } from './launcher.js';

export const TEST_INSTANCE = { name: 'test', host: '127.0.0.1', port: 16379 } as const;

/** host:port of the test Redis. */
export async function ensureTestRedis(): Promise<string> {
  const external = process.env.TANDEM_TEST_REDIS;
  if (external) return external;
  return (await startRedis({ ...TEST_INSTANCE })).address;
}

/** A TCP port free on 127.0.0.1 right now, for a test's private instance. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
