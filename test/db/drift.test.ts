import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffSchemas, migrate, prismaDir, readSchema } from '../../src/db/migrations.js';
import { createEmptyDatabase, type TestDatabase } from '../support/databases.js';

// The migrations and schema.prisma must describe the same database. Prisma's engine cannot introspect
// a live database here, so we compare PostgreSQL's own catalog: one database built by the migrations,
// one built from schema.prisma alone. CHECK constraints and triggers exist only in the migrations
// (Prisma's language has no words for them) and are covered by test/db/integrity.test.ts. So do
// indexes on expressions, named here; test/api/query-plans.test.ts shows the reads that use them.
const EXPRESSION_INDEXES = ['tasks_due_order_idx'];

const CATALOG = {
  columns: `SELECT table_name, column_name, data_type, udt_name, character_maximum_length, datetime_precision, is_nullable, column_default
              FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY 1, 2`,
  indexes: `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1, 2`,
  constraints: `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition
                  FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u', 'f')
                   AND conrelid::regclass::text <> '_prisma_migrations' ORDER BY 1, 2`,
  enums: `SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text AS labels
            FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY 1 ORDER BY 1`,
  extensions: `SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`,
};

async function catalog(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result: Record<string, unknown[]> = {};
    for (const [key, sql] of Object.entries(CATALOG)) result[key] = (await client.query(sql)).rows;
    return result;
  } finally {
    await client.end();
  }
}

describe('schema drift', () => {
  let fromMigrations: TestDatabase;
  let fromSchema: TestDatabase;

  beforeAll(async () => {
    [fromMigrations, fromSchema] = await Promise.all([createEmptyDatabase(), createEmptyDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([fromMigrations?.drop(), fromSchema?.drop()]);
  });

  it('schema.prisma has no change that is not yet in a migration', async () => {
    const lastMigrated = await readFile(join(prismaDir, 'last-migrated.prisma'), 'utf8');
    expect(await diffSchemas(fromSchema.url, lastMigrated, (await readSchema()).content)).toBe('');
  });

  it('applying every migration to an empty database yields exactly the database schema.prisma describes', async () => {
    await migrate(fromMigrations.url);
    const sql = await diffSchemas(fromSchema.url, null, (await readSchema()).content);
    const client = new pg.Client({ connectionString: fromSchema.url });
    await client.connect();
    await client.query(sql).finally(() => client.end());

    const [migrated, described] = await Promise.all([catalog(fromMigrations.url), catalog(fromSchema.url)]);
    const expressionIndexes = (migrated.indexes as { indexname: string }[]).filter((index) => EXPRESSION_INDEXES.includes(index.indexname));
    expect(expressionIndexes).toHaveLength(EXPRESSION_INDEXES.length);
    migrated.indexes = (migrated.indexes as { indexname: string }[]).filter((index) => !EXPRESSION_INDEXES.includes(index.indexname));
    expect(migrated.columns!.length).toBeGreaterThan(20);
    expect(migrated).toEqual(described);
  });
});
