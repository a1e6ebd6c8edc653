// tandem: run the embedded cluster, manage namespaces, run and inspect topologies, fail over, and
// work a region's replication DLQ (`tandem --help`). Exit codes: 0 ok, 1 the operation failed
// (the gRPC status is printed), 2 usage error (commander has printed what was wrong).
import { CommanderError } from 'commander';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, tandemProgram } from './program.js';

tandemProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) {
      // Help and --version come here too, as exit code 0; everything else commander rejects is usage.
      process.exit(err.exitCode === EXIT_OK ? EXIT_OK : EXIT_USAGE);
    }
    console.error(`tandem: ${(err as Error)?.message ?? String(err)}`);
    process.exit(EXIT_FAILED);
  });
