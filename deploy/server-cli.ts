// The one shape of the launchers' command lines (Cassandra, OpenSearch, Redis): a verb that
// readies the machine (fetch the jars, install the package), then start, stop and status of a
// named instance; JSON on stdout for scripts, progress on stderr, exit 3 when not answering.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { runCli } from './daemon.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>['values'];

export interface ServerCli<O extends Options> {
  usage: string;
  /** The server's own start options; --name (default "dev") is added. */
  options: O;
  /** The verb that readies the machine ("fetch", "install") and what it prints. */
  prepare: { verb: string; run(log: (msg: string) => void): Promise<object> };
  start(name: string, values: Values<O>, log: (msg: string) => void): Promise<object>;
  stop(name: string): Promise<boolean>;
  status(name: string): Promise<{ answering: boolean }>;
}

/** A positive integer option, or undefined when absent (the launcher's default applies). */
export function intOption(v: string | boolean | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${what} must be a positive integer, got ${String(v)}`);
  return n;
}

export function runServerCli<O extends Options>(cli: ServerCli<O>): void {
  runCli(async () => {
    const { values, positionals } = parseArgs({
      allowPositionals: true,
      options: { ...cli.options, name: { type: 'string', default: 'dev' } },
    });
    const log = (msg: string) => process.stderr.write(`${msg}\n`);
    const name = (values as Record<string, unknown>).name as string;
    const print = (o: object) => console.log(JSON.stringify(o));
    switch (positionals[0]) {
      case cli.prepare.verb:
        print(await cli.prepare.run(log));
        return 0;
      case 'start': {
        const t0 = Date.now();
        print({ name, ...(await cli.start(name, values as Values<O>, log)), startMs: Date.now() - t0 });
        return 0;
      }
      case 'stop':
        print({ name, stopped: await cli.stop(name) });
        return 0;
      case 'status': {
        const s = await cli.status(name);
        print(s);
        return s.answering ? 0 : 3;
      }
      default:
        process.stderr.write(`${cli.usage}\n`);
        return 2;
    }
  });
}
