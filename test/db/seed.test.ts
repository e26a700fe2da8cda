import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const run = promisify(execFile);
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

const seed = () =>
  run(process.execPath, ['--import', 'tsx', 'prisma/seed.ts'], { env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' } });

describe('npm run db:seed', () => {
  it('creates the demo user with tags and varied tasks, and a second run duplicates nothing', async () => {
    const first = await seed();
    expect(first.stdout).toMatch(/seeded demo@example.com/);
    const second = await seed();
    expect(second.stdout).toMatch(/nothing to do/);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT count(*)::int AS tasks, count(DISTINCT priority)::int AS priorities, count(*) FILTER (WHERE completed)::int AS completed,
                count(*) FILTER (WHERE recurrence IS NOT NULL)::int AS recurring, count(*) FILTER (WHERE due_at IS NULL)::int AS undated,
                (SELECT count(*)::int FROM tags) AS tags, (SELECT count(*)::int FROM users) AS users
           FROM tasks`,
      );
      expect(rows[0]).toMatchObject({ tasks: 36, priorities: 5, tags: 5, users: 1 });
      expect(rows[0].completed).toBeGreaterThan(0);
      expect(rows[0].recurring).toBeGreaterThan(0);
      expect(rows[0].undated).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });
});
