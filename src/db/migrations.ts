import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import { MigrationError } from './migration-error.js';
import { openSchemaEngine, type SchemaFile } from './schema-engine.js';

export { MigrationError };

export const prismaDir = resolve(import.meta.dirname, '../../prisma');
export const migrationsDir = join(prismaDir, 'migrations');
export const schemaPath = join(prismaDir, 'schema.prisma');

const noFilters = { externalTables: [], externalEnums: [] };
// Any constant will do: it serialises concurrent starts of several instances on one database.
const MIGRATION_LOCK_KEY = 72_707_370;

export async function readSchema(path = schemaPath): Promise<SchemaFile> {
  return { path: 'schema.prisma', content: await readFile(path, 'utf8') };
}

/** The migrations folder in the shape Prisma's schema engine reads it (checksums come from these bytes). */
export async function readMigrationList(dir = migrationsDir): Promise<MigrationList> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  const lockfile = await readFile(join(dir, 'migration_lock.toml'), 'utf8').catch(() => null);
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: lockfile },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      names.map(async (name) => {
        const content = await readFile(join(dir, name, 'migration.sql'), 'utf8')
          .then((sql) => ({ tag: 'ok' as const, value: sql }))
          .catch((error: Error) => ({ tag: 'error' as const, value: error.message }));
        return { path: name, migrationFile: { path: 'migration.sql', content } };
      }),
    ),
  };
}

export interface MigrateOptions {
  log?: (message: string) => void;
  dir?: string;
}

/**
 * Applies the pending migrations in order, recording them in `_prisma_migrations` exactly as
 * `prisma migrate deploy` does. Refuses edited or failed migrations. Each is first run in a
 * transaction that is rolled back, so one that fails leaves the database as the ones before it left
 * it. A migration folder may hold a backfill.sql besides migration.sql: a data change too large for
 * one transaction, run after its migration in short batches (see runBackfill) before the next
 * migration, which may rely on it. `prisma migrate deploy` knows nothing of backfills: use this.
 */
export async function migrate(connectionString: string, options: MigrateOptions = {}): Promise<string[]> {
  const log = options.log ?? (() => {});
  const migrationsList = await readMigrationList(options.dir);
  const lock = new pg.Client({ connectionString });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const engine = await openSchemaEngine(connectionString, [await readSchema()]);
    try {
      const history = await engine.diagnoseMigrationHistory({
        migrationsList,
        optInToShadowDatabase: false,
        filters: noFilters,
      });
      if (history.failedMigrationNames.length > 0) {
        throw new MigrationError(
          `Migration ${history.failedMigrationNames.join(', ')} failed earlier and is recorded as failed in _prisma_migrations; ` +
            'fix the database by hand, then mark it rolled back before migrating again.',
        );
      }
      if (history.editedMigrationNames.length > 0) {
        throw new MigrationError(
          `Migration ${history.editedMigrationNames.join(', ')} was edited after it was applied to this database. ` +
            'Restore the original file and write the change as a new migration (npm run db:migration -- <name>).',
        );
      }
      const diagnostic = history.history;
      if (diagnostic && diagnostic.diagnostic !== 'databaseIsBehind') {
        log(`warning: this database has migrations this code does not know: ${diagnostic.unpersistedMigrationNames.join(', ')}`);
      }
      const pending = diagnostic && 'unappliedMigrationNames' in diagnostic ? diagnostic.unappliedMigrationNames : [];
      if (pending.length === 0) return [];

      const applied: string[] = [];
      for (const name of pending) {
        await dryRun(lock, migrationsList, [name]);
        const upTo = { ...migrationsList, migrationDirectories: migrationsList.migrationDirectories.filter((entry) => entry.path <= name) };
        const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList: upTo, filters: noFilters });
        for (const appliedName of appliedMigrationNames) log(`applied migration ${appliedName}`);
        applied.push(...appliedMigrationNames);
        await runBackfill(lock, join(options.dir ?? migrationsDir, name), name, log);
      }
      return applied;
    } finally {
      engine.free();
    }
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    await lock.end();
  }
}

const FIRST_KEY = '00000000-0000-0000-0000-000000000000';

/**
 * A migration's backfill.sql: one statement taking the last key it handled ($1, text) and answering
 * the next (a column `next`, null when done), run batch after batch, each in its own short
 * transaction, so that no lock is held for the length of the whole change. Run again after an
 * interruption, it walks the table again and changes what is left.
 */
async function runBackfill(client: pg.Client, folder: string, name: string, log: (message: string) => void): Promise<void> {
  const statement = await readFile(join(folder, 'backfill.sql'), 'utf8').catch(() => null);
  if (statement === null) return;
  const started = Date.now();
  let key: string | null = FIRST_KEY;
  let batches = 0;
  while (key !== null) {
    try {
      const { rows }: { rows: { next: string | null }[] } = await client.query(statement, [key]);
      key = rows[0]?.next ?? null;
    } catch (error) {
      throw new MigrationError(`The backfill of migration ${name} failed after ${batches} batches (run again to go on): ${(error as Error).message}`);
    }
    batches += 1;
    if (batches % 100 === 0) log(`backfill of ${name}: ${batches} batches, ${Math.round((Date.now() - started) / 1000)} s`);
  }
  log(`backfill of ${name} done: ${batches} batches in ${Math.round((Date.now() - started) / 1000)} s`);
}

// A migration that is one CREATE INDEX CONCURRENTLY IF NOT EXISTS: PostgreSQL builds it outside any
// transaction, so it cannot be tried in one and rolled back.
const CONCURRENT_INDEX = /^(?:\s*--[^\n]*\n)*\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+"([^"]+)"[^;]*;?\s*$/i;

/**
 * Builds a concurrent index ahead of the engine (whose run of the same file then finds it and does
 * nothing). A build that fails or was interrupted leaves an INVALID index behind: it is dropped, so
 * the database is as before and the migration can run again.
 */
async function buildIndexConcurrently(client: pg.Client, name: string, statement: string, index: string): Promise<void> {
  const dropInvalid = () =>
    client.query(
      `SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I', c.relname) AS drop FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = $1 AND NOT i.indisvalid`,
      [index],
    ).then(async ({ rows }) => {
      for (const row of rows as { drop: string }[]) await client.query(row.drop);
    });
  await dropInvalid();
  try {
    await client.query(statement);
  } catch (error) {
    await dropInvalid().catch(() => {});
    throw new MigrationError(`Migration ${name} fails and was not applied (the database is unchanged): ${(error as Error).message}`);
  }
}

async function dryRun(client: pg.Client, list: MigrationList, pending: string[]): Promise<void> {
  const only = pending.length === 1 ? list.migrationDirectories.find((entry) => entry.path === pending[0])?.migrationFile.content : undefined;
  const concurrent = only?.tag === 'ok' ? CONCURRENT_INDEX.exec(only.value) : null;
  if (concurrent) return buildIndexConcurrently(client, pending[0]!, concurrent[0], concurrent[1]!);
  await client.query('BEGIN');
  try {
    for (const name of pending) {
      const file = list.migrationDirectories.find((entry) => entry.path === name)?.migrationFile.content;
      if (!file || file.tag === 'error') throw new MigrationError(`Migration ${name} cannot be read: ${file?.value ?? 'missing'}`);
      try {
        await client.query(file.value);
      } catch (error) {
        throw new MigrationError(`Migration ${name} fails and was not applied (the database is unchanged): ${(error as Error).message}`);
      }
    }
  } finally {
    await client.query('ROLLBACK');
  }
}

/**
 * The SQL that takes a database from the `from` schema (null: an empty database) to the `to` schema.
 * Reads neither the database nor its migrations; the engine only needs a server to start.
 */
export async function diffSchemas(connectionString: string, from: string | null, to: string): Promise<string> {
  const target = { tag: 'schemaDatamodel' as const, files: [{ path: 'schema.prisma', content: to }] };
  const engine = await openSchemaEngine(connectionString, target.files);
  try {
    const { stdout } = await engine.diff({
      from: from === null ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: from }] },
      to: target,
      script: true,
      exitCode: null,
      filters: noFilters,
    });
    return stdout && !stdout.includes('This is an empty migration') ? stdout : '';
  } finally {
    engine.free();
  }
}
