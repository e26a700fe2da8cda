import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrateInChildProcess } from '../../src/db/migrate-in-child-process.js';
import { MigrationError, migrationsDir } from '../../src/db/migrations.js';
import { emptyDatabasePerTest } from '../support/databases.js';

// The server migrates in a child process (so that the WASM schema engine's memory goes with it):
// what reaches the caller must be what migrate() itself would give.

const emptyDatabase = emptyDatabasePerTest();

async function appliedNames(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations ORDER BY 1')).rows.map((row) => row.migration_name);
  } finally {
    await client.end();
  }
}

describe('migrations in a child process', () => {
  it('applies the migrations, passing on their log lines, and then has nothing to do', async () => {
    const { url } = await emptyDatabase();
    const lines: string[] = [];
    const applied = await migrateInChildProcess(url, { log: (line) => lines.push(line) });
    expect(applied.length).toBeGreaterThan(0);
    expect(await appliedNames(url)).toEqual(applied);
    expect(lines.filter((line) => line.startsWith('applied'))).toEqual(applied.map((name) => `applied migration ${name}`));
    expect(lines.filter((line) => line.startsWith('backfill'))).toEqual([
      expect.stringMatching(/^backfill of \d+_lists done: 1 batches in \d+ s$/),
      expect.stringMatching(/^backfill of \d+_reminders done: 1 batches in \d+ s$/),
      expect.stringMatching(/^backfill of \d+_change_feed done: 1 batches in \d+ s$/),
    ]);
    expect(await migrateInChildProcess(url)).toEqual([]);
  });

  it('rejects with the MigrationError and its message', async () => {
    const { url } = await emptyDatabase();
    const dir = join(await mkdtemp(join(tmpdir(), 'migrations-')), 'migrations');
    await cp(migrationsDir, dir, { recursive: true });
    const [first] = await migrateInChildProcess(url, { dir });
    const file = join(dir, first!, 'migration.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited\n`);

    const error = await migrateInChildProcess(url, { dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain(first!);
    expect((error as Error).message).toMatch(/edited after it was applied/);
  });

  it('rejects with the error of an unreachable database', async () => {
    const error = await migrateInChildProcess('postgresql://postgres@127.0.0.1:1/none').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect((error as { code?: string }).code).toBe('ECONNREFUSED');
  });
});
