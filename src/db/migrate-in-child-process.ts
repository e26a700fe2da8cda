import { fork, type ForkOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MigrationError } from './migration-error.js';
import type { MigrateOptions } from './migrations.js';

// The server migrates once, at start-up. The WASM schema engine that does it stays resident for the
// life of the process once loaded (its module, compiled code and memory; a worker thread gives back
// most but not all of it), so it runs in a short-lived child process instead.

export interface MigrationJob {
  connectionString: string;
  dir: string | undefined;
}

export type MigrationMessage =
  | { type: 'log'; line: string }
  | { type: 'done'; applied: string[] }
  | { type: 'failed'; name: string; message: string; stack: string | undefined; code: unknown };

/** migrate() (./migrations.ts) in a child process: same result, log lines and errors (a MigrationError stays one). */
export function migrateInChildProcess(connectionString: string, options: MigrateOptions = {}): Promise<string[]> {
  const log = options.log ?? (() => {});
  const child = startChild();
  return new Promise((resolve, reject) => {
    let outcome: { applied: string[] } | { error: Error } | undefined;
    child.on('message', (message: MigrationMessage) => {
      if (message.type === 'log') log(message.line);
      else if (message.type === 'done') outcome = { applied: message.applied };
      else outcome = { error: rebuildError(message) };
    });
    child.once('error', (error) => {
      outcome ??= { error: new Error(`could not run the migrations in a child process: ${error.message}`) };
    });
    // After the child has exited and its messages are all in.
    child.once('close', (code, signal) => {
      if (!outcome) reject(new Error(`the migration process ended (${signal ?? `exit code ${code}`}) without a result`));
      else if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.applied);
    });
    const job: MigrationJob = { connectionString, dir: options.dir };
    child.send(job);
  });
}

function startChild() {
  const options: ForkOptions = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
  // Compiled (dist/): the .js beside this file, without our own node flags (a --cpu-prof or a
  // preload meant for the server). From source (tsx, vitest): the .ts, loaded through tsx.
  if (!import.meta.url.endsWith('.ts')) return fork(new URL('./migration-process.js', import.meta.url), [], { ...options, execArgv: [] });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return fork(new URL('./migration-process.ts', import.meta.url), [], { ...options, execArgv: ['--import', tsx] });
}

function rebuildError(failure: Extract<MigrationMessage, { type: 'failed' }>): Error {
  const error = failure.name === 'MigrationError' ? new MigrationError(failure.message) : new Error(failure.message);
  error.name = failure.name;
  if (failure.stack) error.stack = failure.stack;
  if (failure.code !== undefined) Object.assign(error, { code: failure.code });
  return error;
}
