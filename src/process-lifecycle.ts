import { ConfigError } from './config.js';
import { MigrationError } from './db/migration-error.js';
import type { Logger } from './logger.js';

// What the API process and the standalone worker share about living as a process: one graceful
// shutdown on SIGTERM or SIGINT, and start-up failures told as one line instead of a stack trace.

/** Runs `shutdown` once on the first SIGTERM/SIGINT, then exits 0 (1 if shutting down failed). */
export function onShutdownSignal(logger: Logger, shutdown: (signal: string) => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      shutdown(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

/** Reports why the process could not start, in one line, and exits 1. */
export function exitOnStartupFailure(what: string) {
  return (error: unknown): never => {
    if (error instanceof ConfigError || error instanceof MigrationError) {
      console.error(error.message);
    } else {
      console.error(`${what} could not start: ${(error as Error).message}`);
    }
    process.exit(1);
  };
}
