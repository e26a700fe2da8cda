import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchUserId } from '../../bench/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// A ten-million-task seed runs for most of an hour: when it is stopped, the next run seeds the users
// that are missing and ends with the rows a single run makes.

const run = promisify(execFile);
let whole: TestDatabase;
let resumed: TestDatabase;

beforeAll(async () => {
  [whole, resumed] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});
afterAll(async () => {
  await Promise.all([whole?.drop(), resumed?.drop()]);
});

const seed = (database: TestDatabase, ...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'bench/seed.ts', '--jobs', '1', ...args], {
    env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
  });

async function query<T extends pg.QueryResultRow>(database: TestDatabase, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Everything a seed decides, without the timestamps (relative to the day it runs). */
const fingerprint = async (database: TestDatabase) =>
  (
    await query<{ users: string; tasks: string; links: string; lists: string; count: number }>(
      database,
      `SELECT (SELECT md5(string_agg(concat_ws('|', id, email, name, time_zone), ',' ORDER BY id)) FROM users) AS users,
              (SELECT md5(string_agg(concat_ws('|', id, user_id, title, description, priority, completed, recurrence, remind_at IS NULL), ',' ORDER BY id)) FROM tasks) AS tasks,
              (SELECT md5(string_agg(concat_ws('|', task_id, tag_id, user_id), ',' ORDER BY task_id, tag_id)) FROM task_tags) AS links,
              (SELECT md5(string_agg(concat_ws('|', user_id, name), ',' ORDER BY user_id, name)) FROM lists) AS lists,
              (SELECT count(*)::int FROM tasks) AS count`,
    )
  )[0]!;

describe('npm run bench:seed', () => {
  it('resumes an interrupted seed with the users that are missing, and then has nothing to do', async () => {
    await seed(whole, '--users', '6', '--tasks-per-user', '10');
    const expected = await fingerprint(whole);
    expect(expected.count).toBe(60);

    // An interrupted seed: some users' batches committed, others not (each user is written whole).
    await seed(resumed, '--users', '6', '--tasks-per-user', '10');
    await query(resumed, 'DELETE FROM users WHERE id = ANY($1::uuid[])', [[benchUserId(2), benchUserId(3), benchUserId(6)]]);
    expect((await fingerprint(resumed)).count).toBe(30);

    const again = await seed(resumed, '--users', '6', '--tasks-per-user', '10');
    expect(again.stderr).toMatch(/resuming: 3 of 6 users are already seeded/);
    expect(await fingerprint(resumed)).toEqual(expected);
    expect((await seed(resumed, '--users', '6', '--tasks-per-user', '10')).stdout).toMatch(/nothing to do/);
  });

  it('refuses to add to bench data of another shape, and changes nothing', async () => {
    const before = await fingerprint(whole);
    await expect(seed(whole, '--users', '8', '--tasks-per-user', '12')).rejects.toMatchObject({ stderr: expect.stringMatching(/refusing to seed: .* 6 bench users/) });
    await expect(seed(whole, '--users', '4', '--tasks-per-user', '10')).rejects.toMatchObject({ stderr: expect.stringMatching(/refusing to seed/) });
    expect(await fingerprint(whole)).toEqual(before);
  });
});
