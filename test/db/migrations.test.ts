import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MigrationError, migrate, migrationsDir } from '../../src/db/migrations.js';
import { emptyDatabasePerTest } from '../support/databases.js';

const emptyDatabase = emptyDatabasePerTest();

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function copyOfMigrations(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'migrations-')), 'migrations');
  await cp(migrationsDir, dir, { recursive: true });
  return dir;
}

const tables = (url: string) =>
  query<{ table_name: string }>(url, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`).then((rows) =>
    rows.map((row) => row.table_name),
  );

describe('migrations', () => {
  it('creates every table and records each migration as prisma migrate deploy does', async () => {
    const { url } = await emptyDatabase();
    const applied = await migrate(url);
    expect(applied.length).toBeGreaterThan(0);
    expect(await tables(url)).toEqual(['_prisma_migrations', 'calendar_feeds', 'changes', 'lists', 'reminders', 'sync_counters', 'tags', 'task_tags', 'tasks', 'users', 'webhook_deliveries', 'webhooks']);

    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      url,
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((row) => row.migration_name)).toEqual(applied);
    for (const row of rows) {
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      // Prisma's checksum is the SHA-256 of the file: the same bookkeeping as its native engine.
      const sql = await readFile(join(migrationsDir, row.migration_name, 'migration.sql'));
      const { createHash } = await import('node:crypto');
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
    }
  });

  it('is a no-op the second time', async () => {
    const { url } = await emptyDatabase();
    await migrate(url);
    const before = await query(url, 'SELECT migration_name, finished_at FROM _prisma_migrations');
    expect(await migrate(url)).toEqual([]);
    expect(await query(url, 'SELECT migration_name, finished_at FROM _prisma_migrations')).toEqual(before);
  });

  it('refuses a migration edited after it was applied, naming it', async () => {
    const { url } = await emptyDatabase();
    const dir = await copyOfMigrations();
    await migrate(url, { dir });
    const [first] = (await query<{ migration_name: string }>(url, 'SELECT migration_name FROM _prisma_migrations ORDER BY 1'));
    const file = join(dir, first!.migration_name, 'migration.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited\n`);

    const error = await migrate(url, { dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain(first!.migration_name);
    expect((error as Error).message).toMatch(/edited/);
  });

  it('stops on a failing migration with a clear message and leaves the database as it was', async () => {
    const { url } = await emptyDatabase();
    const dir = await copyOfMigrations();
    await migrate(url, { dir });
    const before = await tables(url);
    const history = await query(url, 'SELECT migration_name FROM _prisma_migrations ORDER BY 1');

    await mkdir(join(dir, '29990101000000_broken'));
    await writeFile(
      join(dir, '29990101000000_broken', 'migration.sql'),
      'CREATE TABLE "half_done" (id int);\nALTER TABLE "tasks" ADD COLUMN "oops" no_such_type;\n',
    );
    const error = await migrate(url, { dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/29990101000000_broken fails.*no_such_type/);
    expect(await tables(url)).toEqual(before);
    expect(await query(url, 'SELECT migration_name FROM _prisma_migrations ORDER BY 1')).toEqual(history);
  });

  it('builds an index CONCURRENTLY outside a transaction, and a failed build leaves no invalid index behind', async () => {
    const { url } = await emptyDatabase();
    const dir = await copyOfMigrations();
    await migrate(url, { dir });
    await query(url, `INSERT INTO users (email) VALUES ('twice@example.com');
      INSERT INTO tasks (user_id, title) SELECT id, 'same title' FROM users, generate_series(1, 2)`);
    const history = await query(url, 'SELECT migration_name FROM _prisma_migrations ORDER BY 1');
    await mkdir(join(dir, '29990101000000_unique_titles'));
    await writeFile(
      join(dir, '29990101000000_unique_titles', 'migration.sql'),
      '-- one statement, built while writes go on\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "tasks_title_once" ON "tasks" ("title");\n',
    );
    const indexes = () => query(url, `SELECT c.relname, i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = 'tasks_title_once'`);

    const error = await migrate(url, { dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/29990101000000_unique_titles fails.*could not create unique index/);
    expect(await indexes()).toEqual([]);
    expect(await query(url, 'SELECT migration_name FROM _prisma_migrations ORDER BY 1')).toEqual(history);

    await query(url, `UPDATE tasks SET title = 'other title' WHERE id = (SELECT min(id::text)::uuid FROM tasks)`);
    expect(await migrate(url, { dir })).toEqual(['29990101000000_unique_titles']);
    expect(await indexes()).toEqual([{ relname: 'tasks_title_once', indisvalid: true }]);
  });

  it('runs a backfill in batches after its migration and before the next one, which may rely on it', async () => {
    const { url } = await emptyDatabase();
    const dir = await copyOfMigrations();
    await migrate(url, { dir });
    await query(url, `INSERT INTO users (email, name) SELECT 'user' || n || '@example.com', 'user ' || n FROM generate_series(1, 1200) AS n`);
    // A column for every user, filled in batches of 100 users, then made required.
    await mkdir(join(dir, '29990101000000_add_nickname'));
    await writeFile(join(dir, '29990101000000_add_nickname', 'migration.sql'), 'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\n');
    await writeFile(
      join(dir, '29990101000000_add_nickname', 'backfill.sql'),
      `WITH batch AS (SELECT id FROM users WHERE id > $1::uuid ORDER BY id LIMIT 100),
       filled AS (UPDATE users SET nickname = 'nick ' || name FROM batch WHERE users.id = batch.id AND nickname IS NULL)
       SELECT max(id::text) AS next FROM batch`,
    );
    await mkdir(join(dir, '29990101000001_nickname_required'));
    await writeFile(join(dir, '29990101000001_nickname_required', 'migration.sql'), 'ALTER TABLE "users" ALTER COLUMN "nickname" SET NOT NULL;\n');

    const lines: string[] = [];
    expect(await migrate(url, { dir, log: (line) => lines.push(line) })).toEqual(['29990101000000_add_nickname', '29990101000001_nickname_required']);
    expect(await query(url, `SELECT count(*)::int AS n FROM users WHERE nickname <> 'nick ' || name`)).toEqual([{ n: 0 }]);
    // 1,200 users in batches of 100, and the empty batch that ends it.
    expect(lines).toContainEqual(expect.stringMatching(/^backfill of 29990101000000_add_nickname done: 13 batches/));
    expect(lines.indexOf(lines.find((line) => line.startsWith('backfill'))!)).toBeLessThan(lines.indexOf('applied migration 29990101000001_nickname_required'));
  });
});
