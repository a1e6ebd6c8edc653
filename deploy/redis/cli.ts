// npx tsx deploy/redis/cli.ts start|stop|status|install [--name NAME] [--port N] [--host 127.0.0.1] [--data-dir DIR]
import { parseArgs } from 'node:util';
import { ensureRedisServer, redisStatus, startRedis, stopRedis } from './launcher.js';
import { runCli } from '../daemon.js';

const USAGE = 'usage: cli.ts start|stop|status|install [--name NAME] [--port N] [--host ADDR] [--data-dir DIR]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string', default: 'dev' },
      port: { type: 'string', default: '6379' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const name = values.name!;
  switch (positionals[0]) {
    case 'install':
      console.log(JSON.stringify({ redisServer: await ensureRedisServer(log) }));
      return 0;
    case 'start': {
      const port = Number(values.port);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`--port must be a TCP port, got ${values.port}`);
      const t0 = Date.now();
      const h = await startRedis({ name, port, host: values.host, dataDir: values['data-dir'], log });
      console.log(JSON.stringify({ ...h, startMs: Date.now() - t0 }));
      return 0;
    }
    case 'stop':
      console.log(JSON.stringify({ name, stopped: await stopRedis(name) }));
      return 0;
    case 'status': {
      const s = await redisStatus(name);
      console.log(JSON.stringify(s));
      return s.answering ? 0 : 3;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

runCli(main);
