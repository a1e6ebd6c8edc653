// npx tsx deploy/cassandra/cli.ts start|stop|status|fetch --name NAME [--port N] [--storage-port N]
//   [--listen 127.0.0.1] [--data-dir DIR] [--heap-mb 512] [--unsafe-system: the shared test instance only]
import { parseArgs } from 'node:util';
import { CASSANDRA_VERSION, fetchCassandra } from './fetch.js';
import { cassandraStatus, startCassandra, stopCassandra } from './launcher.js';
import { runCli } from '../daemon.js';

const USAGE = 'usage: cli.ts start|stop|status|fetch --name NAME [--port N] [--storage-port N] [--listen ADDR] [--data-dir DIR] [--heap-mb N] [--unsafe-system]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string', default: 'dev' },
      port: { type: 'string' },
      'storage-port': { type: 'string' },
      listen: { type: 'string' },
      'data-dir': { type: 'string' },
      'heap-mb': { type: 'string' },
      'unsafe-system': { type: 'boolean', default: false },
    },
  });
  const int = (v: string | undefined, what: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${what} must be a positive integer, got ${v}`);
    return n;
  };
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const name = values.name!;
  switch (positionals[0]) {
    case 'fetch':
      console.log(JSON.stringify({ version: CASSANDRA_VERSION, lib: await fetchCassandra(CASSANDRA_VERSION, log) }));
      return 0;
    case 'start': {
      const t0 = Date.now();
      const h = await startCassandra({
        name,
        cqlPort: int(values.port, 'port'),
        storagePort: int(values['storage-port'], 'storage-port'),
        listenAddress: values.listen,
        dataDir: values['data-dir'],
        heapMb: int(values['heap-mb'], 'heap-mb'),
        unsafeSystem: values['unsafe-system'],
        log,
      });
      console.log(JSON.stringify({ name, contactPoint: h.contactPoint, pid: h.pid, reused: h.reused, startMs: Date.now() - t0 }));
      return 0;
    }
    case 'stop':
      console.log(JSON.stringify({ name, stopped: await stopCassandra(name) }));
      return 0;
    case 'status': {
      const s = await cassandraStatus(name);
      console.log(JSON.stringify(s));
      return s.answering ? 0 : 3;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

runCli(main);
