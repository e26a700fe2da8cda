import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreSeededData } from '../../bench/restore.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// The benchmark writes (S3, S4, S6) and then restores before its next run; what it restores must be
// exactly what bench/seed.ts made, or runs would not measure the same data.

const run = promisify(execFile);
let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  await run(process.execPath, ['--import', 'tsx', 'bench/seed.ts', '--users', '4', '--tasks-per-user', '30'], {
    env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
  });
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await database?.drop();
});

const fingerprint = async () =>
  (
    await client.query<{ tasks: string; links: string; count: number }>(
      `SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM tasks t) AS tasks,
              (SELECT md5(string_agg(l::text, ',' ORDER BY l.task_id, l.tag_id)) FROM task_tags l) AS links,
              (SELECT count(*)::int FROM tasks) AS count`,
    )
  ).rows[0]!;

describe('bench restore', () => {
  it("undoes a run's created tasks and completions, leaving the seeded rows as they were", async () => {
    const seeded = await fingerprint();
    expect(seeded.count).toBe(120);

    // What S3 does: a new task (with a tag); what S4 does: complete a recurring task and add its next occurrence.
    const { rows: [owner] } = await client.query<{ user_id: string; tag_id: string }>('SELECT user_id, tag_id FROM task_tags LIMIT 1');
    const { rows: [created] } = await client.query<{ id: string }>("INSERT INTO tasks (user_id, title) VALUES ($1, 'Bench task new') RETURNING id", [owner!.user_id]);
    await client.query('INSERT INTO task_tags (task_id, tag_id, user_id) VALUES ($1, $2, $3)', [created!.id, owner!.tag_id, owner!.user_id]);
    const { rows: [recurring] } = await client.query<{ id: string; user_id: string }>(
      `UPDATE tasks SET completed = true, completed_at = now(), version = version + 1, updated_at = now()
       WHERE id = (SELECT id FROM tasks WHERE recurrence IS NOT NULL AND NOT completed ORDER BY id LIMIT 1) RETURNING id, user_id`,
    );
    await client.query(
      "INSERT INTO tasks (user_id, title, due_at, recurrence, generated_from_id) VALUES ($1, 'next', now() + interval '1 week', 'FREQ=WEEKLY', $2)",
      [recurring!.user_id, recurring!.id],
    );
    expect((await fingerprint()).count).toBe(122);

    expect(await restoreSeededData(database.url)).toEqual({ deleted: 2, reopened: 1 });
    expect(await fingerprint()).toEqual(seeded);
    // A second restore finds nothing to do.
    expect(await restoreSeededData(database.url)).toEqual({ deleted: 0, reopened: 0 });
  });
});
