// Option values the tandem verbs share: commander argParsers that turn a flag's text into a value
// or reject it with a message naming what was expected (commander reports it as a usage error),
// the options more than one verb takes (--address, --log-level), and the usage error a verb raises
// when its options do not go together.
import { InvalidArgumentError, Option, type Command } from 'commander';

export const DEFAULT_ADDRESS = '127.0.0.1:7233';

/** Durations as the Temporal CLI writes them: 30s, 15m, 72h, 3d. Returns milliseconds. */
export function durationMs(value: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new InvalidArgumentError('must be a duration like 30s, 15m, 72h or 3d.');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}

function integerAtLeast(min: number, what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`must be ${what}.`);
    return n;
  };
}

export const count = integerAtLeast(0, 'a non-negative integer');
export const positive = integerAtLeast(1, 'a positive integer');

export function port(value: string): number {
  const n = count(value);
  if (n > 65535) throw new InvalidArgumentError('must be a port (0-65535).');
  return n;
}

/** `n` ports separated by commas (one per region). */
export function portList(n: number): (value: string) => number[] {
  return (value) => {
    const parts = value.split(',');
    if (parts.length !== n) throw new InvalidArgumentError(`must be ${n} ports separated by commas.`);
    return parts.map(port);
  };
}

export function hostPort(value: string): string {
  const m = /^(.+):(\d+)$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError('must be host:port, e.g. 127.0.0.1:7233.');
  return value;
}

export function addressOption(what = 'the frontend (or the global endpoint) to talk to'): Option {
  return new Option('--address <host:port>', what).default(DEFAULT_ADDRESS).argParser(hostPort);
}

/** --tls-ca: the address serves TLS; its certificate must chain to this CA. */
export function tlsCaOption(): Option {
  return new Option('--tls-ca <file>', 'the address serves TLS: check its certificate against this CA (PEM), e.g. deploy/local/certs/ca.pem');
}

export function logLevelOption(): Option {
  return new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
}

/** Options that do not go together: commander prints the message and the help hint; exit code 2. */
export function usageError(command: Command, message: string): never {
  return command.error(`error: ${message}`, { exitCode: 2, code: 'tandem.usage' });
}
