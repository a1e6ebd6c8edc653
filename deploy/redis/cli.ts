// npx tsx deploy/redis/cli.ts start|stop|status|install [--name NAME] [--port N] [--host 127.0.0.1] [--data-dir DIR]
import { ensureRedisServer, redisStatus, startRedis, stopRedis } from './launcher.js';
import { runServerCli } from '../server-cli.js';

runServerCli({
  usage: 'usage: cli.ts start|stop|status|install [--name NAME] [--port N] [--host ADDR] [--data-dir DIR]',
  options: {
    port: { type: 'string', default: '6379' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
  },
  prepare: { verb: 'install', run: async (log) => ({ redisServer: await ensureRedisServer(log) }) },
  start: async (name, values, log) => {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`--port must be a TCP port, got ${values.port}`);
    return startRedis({ name, port, host: values.host, dataDir: values['data-dir'], log });
  },
  stop: stopRedis,
  status: redisStatus,
});
