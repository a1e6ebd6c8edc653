// npx tsx deploy/opensearch/cli.ts fetch|start|stop|status --name NAME [--port 9200]
//   [--transport-port 9300] [--host 127.0.0.1] [--heap-mb 512]
import { parseArgs } from 'node:util';
import { OPENSEARCH_VERSION, fetchOpenSearch } from './fetch.js';
import { openSearchStatus, startOpenSearch, stopOpenSearch } from './launcher.js';
import { runCli } from '../daemon.js';

const USAGE = 'usage: cli.ts fetch|start|stop|status --name NAME [--port N] [--transport-port N] [--host ADDR] [--heap-mb N]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string', default: 'dev' },
      port: { type: 'string' },
      'transport-port': { type: 'string' },
      host: { type: 'string' },
      'heap-mb': { type: 'string' },
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
      console.log(JSON.stringify({ version: OPENSEARCH_VERSION, home: await fetchOpenSearch(OPENSEARCH_VERSION, log) }));
      return 0;
    case 'start': {
      const t0 = Date.now();
      const h = await startOpenSearch({
        name,
        host: values.host,
        httpPort: int(values.port, 'port'),
        transportPort: int(values['transport-port'], 'transport-port'),
        heapMb: int(values['heap-mb'], 'heap-mb'),
        log,
      });
      console.log(JSON.stringify({ name, url: h.url, pid: h.pid, reused: h.reused, startMs: Date.now() - t0 }));
      return 0;
    }
    case 'stop':
      console.log(JSON.stringify({ name, stopped: await stopOpenSearch(name) }));
      return 0;
    case 'status': {
      const s = await openSearchStatus(name);
      console.log(JSON.stringify(s));
      return s.answering ? 0 : 3;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

runCli(main);
