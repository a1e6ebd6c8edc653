import { pino, type Logger } from 'pino';

export type { Logger };

/** The process root logger; services take child loggers with their bindings (service, region, shard). */
export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: opts.name ?? 'tandem',
    level: opts.level ?? process.env.TANDEM_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** A logger that writes nothing, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
