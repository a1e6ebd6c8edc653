// npx tsx deploy/cassandra/cli.ts start|stop|status|fetch --name NAME [--port N] [--storage-port N]
//   [--listen 127.0.0.1] [--data-dir DIR] [--heap-mb 512] [--unsafe-system: the shared test instance only]
import { CASSANDRA_VERSION, fetchCassandra } from './fetch.js';
import { cassandraStatus, startCassandra, stopCassandra } from './launcher.js';
import { intOption, runServerCli } from '../server-cli.js';

runServerCli({
  usage: 'usage: cli.ts start|stop|status|fetch --name NAME [--port N] [--storage-port N] [--listen ADDR] [--data-dir DIR] [--heap-mb N] [--unsafe-system]',
  options: {
    port: { type: 'string' },
    'storage-port': { type: 'string' },
    listen: { type: 'string' },
    'data-dir': { type: 'string' },
    'heap-mb': { type: 'string' },
    'unsafe-system': { type: 'boolean', default: false },
  },
  prepare: { verb: 'fetch', run: async (log) => ({ version: CASSANDRA_VERSION, lib: await fetchCassandra(CASSANDRA_VERSION, log) }) },
  start: async (name, values, log) => {
    const h = await startCassandra({
      name,
      cqlPort: intOption(values.port, 'port'),
      storagePort: intOption(values['storage-port'], 'storage-port'),
      listenAddress: values.listen,
      dataDir: values['data-dir'],
      heapMb: intOption(values['heap-mb'], 'heap-mb'),
      unsafeSystem: values['unsafe-system'],
      log,
    });
    return { contactPoint: h.contactPoint, pid: h.pid, reused: h.reused };
  },
  stop: stopCassandra,
  status: cassandraStatus,
});
