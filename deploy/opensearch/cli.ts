// npx tsx deploy/opensearch/cli.ts fetch|start|stop|status --name NAME [--port 9200]
//   [--transport-port 9300] [--host 127.0.0.1] [--heap-mb 512]
import { OPENSEARCH_VERSION, fetchOpenSearch } from './fetch.js';
import { openSearchStatus, startOpenSearch, stopOpenSearch } from './launcher.js';
import { intOption, runServerCli } from '../server-cli.js';

runServerCli({
  usage: 'usage: cli.ts fetch|start|stop|status --name NAME [--port N] [--transport-port N] [--host ADDR] [--heap-mb N]',
  options: {
    port: { type: 'string' },
    'transport-port': { type: 'string' },
    host: { type: 'string' },
    'heap-mb': { type: 'string' },
  },
  prepare: { verb: 'fetch', run: async (log) => ({ version: OPENSEARCH_VERSION, home: await fetchOpenSearch(OPENSEARCH_VERSION, log) }) },
  start: async (name, values, log) => {
    const h = await startOpenSearch({
      name,
      host: values.host,
      httpPort: intOption(values.port, 'port'),
      transportPort: intOption(values['transport-port'], 'transport-port'),
      heapMb: intOption(values['heap-mb'], 'heap-mb'),
      log,
    });
    return { url: h.url, pid: h.pid, reused: h.reused };
  },
  stop: stopOpenSearch,
  status: openSearchStatus,
});
