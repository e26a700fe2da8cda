// The child process of migrateInChildProcess() (./migrate-in-child-process.ts): receives what to
// migrate over IPC (not argv, which `ps` shows), applies the migrations, reports each log line and
// the outcome, then exits, taking the WASM schema engine's memory with it.
import type { MigrationJob, MigrationMessage } from './migrate-in-child-process.js';
import { migrate } from './migrations.js';

const send = (message: MigrationMessage) =>
  new Promise<void>((resolve) => {
    if (!process.connected) return resolve();
    // A parent gone meanwhile is no reason to crash: the migration itself is done or refused.
    process.send!(message, undefined, {}, () => resolve());
  });

process.once('message', async ({ connectionString, dir }: MigrationJob) => {
  try {
    const applied = await migrate(connectionString, { dir, log: (line) => void send({ type: 'log', line }) });
    await send({ type: 'done', applied });
  } catch (caught) {
    const error = caught instanceof Error ? caught : new Error(String(caught));
    await send({ type: 'failed', name: error.name, message: error.message, stack: error.stack, code: (error as { code?: unknown }).code });
  }
  if (process.connected) process.disconnect();
  // The engine and its connections are closed, but after applying migrations the engine leaves a
  // 10 s timer behind (its lock timeout); it would hold the process, and the server's start, that long.
  setTimeout(() => process.exit(0), 200).unref();
});
