// The tandem command: every verb on one commander program, with help on every verb, typo
// suggestions and errors thrown (exitOverride) so that tandem.ts alone decides the exit code.
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { apikeyCommand } from './apikey.js';
import { auditCommand } from './audit.js';
import { certsCommand } from './certs.js';
import { chaosCommand } from './chaos.js';
import { devCommand } from './dev.js';
import { dlqCommand } from './dlq.js';
import { drillCommand } from './drill.js';
import { failoverCommand } from './failover.js';
import { namespaceCommand } from './namespace.js';
import { routesCommand } from './routes.js';
import { statusCommand, UNHEALTHY } from './status.js';
import { upCommand } from './up.js';
import { userCommand } from './user.js';

export const EXIT_OK = 0;
/** The operation failed (a server said no, or nothing answered). */
export const EXIT_FAILED = 1;
/** The command line is wrong: unknown verb or option, missing or bad value. */
export const EXIT_USAGE = 2;

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export function tandemProgram(): Command {
  const program = new Command('tandem')
    .description('Tandem: a multi-region durable-execution cluster speaking the Temporal gRPC API')
    .version(version, '-V, --version', 'print the version')
    .showSuggestionAfterError()
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `\nExit codes: ${EXIT_OK} ok, ${EXIT_FAILED} the operation failed, ${EXIT_USAGE} usage error` +
        ` (tandem status: ${UNHEALTHY} when a region is unhealthy).\nRun tandem <command> --help for a command's options and examples.`,
    );
  // Verbs added with program.command() inherit exitOverride, the suggestions and the help hint.
  devCommand(program);
  namespaceCommand(program);
  upCommand(program);
  statusCommand(program);
  failoverCommand(program);
  drillCommand(program);
  dlqCommand(program);
  routesCommand(program);
  chaosCommand(program);
  userCommand(program);
  apikeyCommand(program);
  auditCommand(program);
  certsCommand(program);
  return program;
}
