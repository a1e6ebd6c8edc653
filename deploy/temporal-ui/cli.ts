// npx tsx deploy/temporal-ui/cli.ts install | run [--address 127.0.0.1:7233] [--port 8233] [--host 127.0.0.1] [--namespace default]
// `make ui-install` and `make ui`: the official Temporal Web UI server against Tandem.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { runCli } from '../daemon.js';
import { installUiServer, UI_SERVER_VERSION, UiServer } from './ui-server.js';

const USAGE = 'usage: cli.ts install | run [--address HOST:PORT] [--port N] [--host ADDR] [--namespace NS] [--dir DIR]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      address: { type: 'string', default: '127.0.0.1:7233' },
      port: { type: 'string', default: '8233' },
      host: { type: 'string', default: '127.0.0.1' },
      namespace: { type: 'string', default: 'default' },
      dir: { type: 'string', default: path.join('.tandem', 'ui') },
    },
  });
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  switch (positionals[0]) {
    case 'install':
      console.log(JSON.stringify({ uiServer: await installUiServer(UI_SERVER_VERSION, log), version: UI_SERVER_VERSION }));
      return 0;
    case 'run': {
      const port = Number(values.port);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`--port must be a TCP port, got ${values.port}`);
      const ui = await UiServer.start({ temporalAddress: values.address!, port, host: values.host, namespace: values.namespace, dir: path.resolve(values.dir!), log });
      log(`Temporal UI ${UI_SERVER_VERSION} on ${ui.url}/namespaces/${values.namespace}/workflows against ${values.address} (Ctrl-C stops it)`);
      const stopped = new Promise<void>((resolve) => {
        for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
      });
      const exited = ui.exited.then((code) => {
        throw new Error(`the UI server exited (${code}):\n${ui.logs}`);
      });
      await Promise.race([stopped, exited]);
      await ui.stop();
      return 0;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

runCli(main);
