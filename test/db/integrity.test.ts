import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// The database itself refuses bad rows: these tests talk SQL, bypassing every line of application code.

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await database?.drop();
});

async function insertUser(email: string): Promise<string> {
  const { rows } = await client.query<{ id: string }>('INSERT INTO users (email) VALUES ($1) RETURNING id', [email]);
  return rows[0]!.id;
}
async function insertTask(userId: string, fields: Record<string, unknown> = {}): Promise<string> {
  const columns = ['user_id', 'title', ...Object.keys(fields)];
  const values = [userId, 'A task', ...Object.values(fields)];
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO tasks (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
    values,
  );
  return rows[0]!.id;
}
async function insertTag(userId: string, name: string, color: string | null = null): Promise<string> {
  const { rows } = await client.query<{ id: string }>('INSERT INTO tags (user_id, name, color) VALUES ($1, $2, $3) RETURNING id', [userId, name, color]);
  return rows[0]!.id;
}
/** Runs `sql` in a savepoint and returns the name of the constraint PostgreSQL reports. */
async function violation(sql: string, values: unknown[] = []): Promise<string | undefined> {
  await client.query('SAVEPOINT attempt');
  try {
    await client.query(sql, values);
    await client.query('RELEASE SAVEPOINT attempt');
    return undefined;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT attempt');
    return (error as pg.DatabaseError).constraint ?? (error as pg.DatabaseError).message;
  }
}

let alice: string;
let bob: string;
beforeEach(async () => {
  await client.query('BEGIN');
  alice = await insertUser(`alice-${Math.random()}@example.com`);
  bob = await insertUser(`bob-${Math.random()}@example.com`);
});
afterEach(async () => {
  await client.query('ROLLBACK');
});


describe('database integrity', () => {
  it('deleting a user cascades to their tasks, tags and taggings, and to nobody else', async () => {
    const task = await insertTask(alice);
    const tag = await insertTag(alice, 'home');
    await client.query('INSERT INTO task_tags (task_id, tag_id, user_id) VALUES ($1, $2, $3)', [task, tag, alice]);
    await insertTask(bob);

    await client.query('DELETE FROM users WHERE id = $1', [alice]);
    const counts = await client.query(
      `SELECT (SELECT count(*) FROM tasks WHERE user_id = $1)::int AS alice_tasks, (SELECT count(*) FROM tags WHERE user_id = $1)::int AS alice_tags,
              (SELECT count(*) FROM task_tags WHERE user_id = $1)::int AS alice_taggings, (SELECT count(*) FROM tasks WHERE user_id = $2)::int AS bob_tasks`,
      [alice, bob],
    );
    expect(counts.rows[0]).toEqual({ alice_tasks: 0, alice_tags: 0, alice_taggings: 0, bob_tasks: 1 });
  });

  it("refuses to put one user's tag on another user's task, whatever user_id the row claims", async () => {
    const aliceTask = await insertTask(alice);
    const bobTag = await insertTag(bob, 'work');
    const insert = 'INSERT INTO task_tags (task_id, tag_id, user_id) VALUES ($1, $2, $3)';
    expect(await violation(insert, [aliceTask, bobTag, alice])).toBe('task_tags_tag_id_user_id_fkey');
    expect(await violation(insert, [aliceTask, bobTag, bob])).toBe('task_tags_task_id_user_id_fkey');
  });

  it('makes tag names unique per user ignoring case, but not across users', async () => {
    await insertTag(alice, 'Errands');
    expect(await violation('INSERT INTO tags (user_id, name) VALUES ($1, $2)', [alice, 'errands'])).toBe('tags_user_id_name_key');
    expect(await violation('INSERT INTO tags (user_id, name) VALUES ($1, $2)', [alice, 'ERRANDS'])).toBe('tags_user_id_name_key');
    expect(await violation('INSERT INTO tags (user_id, name) VALUES ($1, $2)', [bob, 'errands'])).toBeUndefined();
  });

  it.each([
    ['blank title', `INSERT INTO tasks (user_id, title) VALUES ($1, '   ')`, 'tasks_title_not_blank'],
    ['title over 500 characters', `INSERT INTO tasks (user_id, title) VALUES ($1, repeat('x', 501))`, 'value too long for type character varying(500)'],
    ['recurrence without a due date', `INSERT INTO tasks (user_id, title, recurrence) VALUES ($1, 't', 'FREQ=DAILY')`, 'tasks_recurrence_needs_due'],
    ['completed without completed_at', `INSERT INTO tasks (user_id, title, completed) VALUES ($1, 't', true)`, 'tasks_completed_at_matches'],
    ['completed_at on an open task', `INSERT INTO tasks (user_id, title, completed_at) VALUES ($1, 't', now())`, 'tasks_completed_at_matches'],
    ['empty tag name', `INSERT INTO tags (user_id, name) VALUES ($1, '')`, 'tags_name_length'],
    ['tag name over 64 characters', `INSERT INTO tags (user_id, name) VALUES ($1, repeat('x', 65))`, 'tags_name_length'],
    ['tag color not #rrggbb', `INSERT INTO tags (user_id, name, color) VALUES ($1, 'x', 'red')`, 'tags_color_hex'],
    ['upper-case email', `INSERT INTO users (email) SELECT 'Carol@Example.com' WHERE $1::uuid IS NOT NULL`, 'users_email_lower_case'],
    ['user with neither email nor external identity', `INSERT INTO users (name) SELECT 'x' WHERE $1::uuid IS NOT NULL`, 'users_identity_present'],
    ['unknown priority', `INSERT INTO tasks (user_id, title, priority) VALUES ($1, 't', 'SOMEDAY')`, 'invalid input value for enum "Priority": "SOMEDAY"'],
    ['task of no user', `INSERT INTO tasks (user_id, title, list_id, position) SELECT gen_random_uuid(), 't', id, 'a0' FROM lists WHERE user_id = $1`, 'tasks_user_id_fkey'],
    [
      "task in another user's list",
      `INSERT INTO tasks (user_id, title, list_id, position) SELECT $1, 't', l.id, 'b0' FROM lists l JOIN users u ON u.id = l.user_id WHERE l.user_id <> $1 LIMIT 1`,
      'tasks_list_id_user_id_fkey',
    ],
    [
      "subtask under another user's task",
      `WITH p AS (INSERT INTO tasks (user_id, title) SELECT id, 'theirs' FROM users WHERE id <> $1 LIMIT 1 RETURNING id)
       INSERT INTO tasks (user_id, title, list_id, parent_id, position) SELECT $1, 't', (SELECT id FROM lists WHERE user_id = $1 AND is_inbox), p.id, 'b0' FROM p`,
      'tasks_parent_id_list_id_user_id_fkey',
    ],
    [
      "subtask outside its parent's list",
      `WITH other AS (INSERT INTO lists (user_id, name, position) VALUES ($1, 'other', 'z0') RETURNING id),
            p AS (INSERT INTO tasks (user_id, title) VALUES ($1, 'parent') RETURNING id)
       INSERT INTO tasks (user_id, title, list_id, parent_id, position) SELECT $1, 't', other.id, p.id, 'b0' FROM other, p`,
      'tasks_parent_id_list_id_user_id_fkey',
    ],
  ])('refuses a %s', async (_, sql, expected) => {
    expect(await violation(sql, [alice])).toBe(expected);
  });

  it('accepts a well-formed tag color and a recurring task with a due date', async () => {
    expect(await violation(`INSERT INTO tags (user_id, name, color) VALUES ($1, 'ok', '#a1B2c3')`, [alice])).toBeUndefined();
    expect(await violation(`INSERT INTO tasks (user_id, title, recurrence, due_at) VALUES ($1, 't', 'FREQ=DAILY', now())`, [alice])).toBeUndefined();
  });

  it('bumps version and updated_at on every visible change, not when a reminder is marked sent', async () => {
    const task = await insertTask(alice, { remind_at: new Date() });
    const read = async () =>
      (await client.query<{ version: number; updated_at: Date }>('SELECT version, updated_at FROM tasks WHERE id = $1', [task])).rows[0]!;
    expect((await read()).version).toBe(1);

    await client.query(`UPDATE tasks SET title = 'Renamed' WHERE id = $1`, [task]);
    expect((await read()).version).toBe(2);
    await client.query(`UPDATE tasks SET priority = 'HIGH', version = 1 WHERE id = $1`, [task]);
    expect((await read()).version).toBe(3);

    await client.query('UPDATE tasks SET reminder_sent_at = now() WHERE id = $1', [task]);
    expect((await read()).version).toBe(3);
  });

  it("mirrors each task's remind_at as its primary reminder: every task of a many-row INSERT, then a sent mark and a removal", async () => {
    const owner = await insertUser('mirror@example.com');
    const { rows: inserted } = await client.query<{ id: string; remind_at: Date | null }>(
      `INSERT INTO tasks (user_id, title, remind_at)
       SELECT $1, 'task ' || k, CASE WHEN k % 2 = 0 THEN now() + k * interval '1 hour' END FROM generate_series(1, 40) k RETURNING id, remind_at`,
      [owner],
    );
    const primaries = async () =>
      (
        await client.query<{ id: string; mirrored: boolean; sent_at: Date | null }>(
          `SELECT t.id, r.at = t.remind_at AND r.fire_at = r.at AS mirrored, r.sent_at
             FROM tasks t JOIN reminders r ON r.task_id = t.id AND r.user_id = t.user_id AND r.is_primary WHERE t.user_id = $1`,
          [owner],
        )
      ).rows;
    const reminded = inserted.filter((task) => task.remind_at).map((task) => task.id);
    expect(reminded).toHaveLength(20);
    expect((await primaries()).map((row) => row.id).sort()).toEqual([...reminded].sort());
    expect((await primaries()).every((row) => row.mirrored && row.sent_at === null)).toBe(true);

    // As the reminder worker marks one: the reminder first, then its task with the same moment.
    const [first] = reminded;
    const { rows: [sent] } = await client.query(`UPDATE reminders SET sent_at = now() WHERE task_id = $1 AND is_primary RETURNING sent_at`, [first]);
    await client.query('UPDATE tasks SET reminder_sent_at = $2 WHERE id = $1', [first, sent.sent_at]);
    expect((await primaries()).find((row) => row.id === first)?.sent_at).toEqual(sent.sent_at);

    await client.query('UPDATE tasks SET remind_at = NULL WHERE id = $1', [first]);
    expect((await primaries()).map((row) => row.id)).not.toContain(first);
    expect(await primaries()).toHaveLength(19);
  });

  it('keeps an all-day task apart from an instant, and its day start in the owner\'s zone as the zone changes, without a new version', async () => {
    expect(await violation(`INSERT INTO tasks (user_id, title, due_at, due_date) VALUES ($1, 't', now(), '2026-03-05')`, [alice])).toBe('tasks_due_date_or_due_at');
    expect(await violation(`INSERT INTO tasks (user_id, title, recurrence) VALUES ($1, 't', 'FREQ=DAILY')`, [alice])).toBe('tasks_recurrence_needs_due');
    expect(await violation(`INSERT INTO tasks (user_id, title, recurrence, due_date) VALUES ($1, 't', 'FREQ=DAILY', '2026-03-05')`, [alice])).toBeUndefined();

    await client.query(`UPDATE users SET time_zone = 'America/New_York' WHERE id = $1`, [alice]);
    const task = await insertTask(alice, { due_date: '2026-03-08' });
    const read = async () =>
      (await client.query<{ starts: string; version: number }>(`SELECT to_char(due_day_starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS starts, version FROM tasks WHERE id = $1`, [task])).rows[0]!;
    expect(await read()).toEqual({ starts: '2026-03-08 05:00', version: 1 });
    await client.query(`UPDATE tasks SET due_date = '2026-03-09' WHERE id = $1`, [task]);
    // The day after clocks sprang forward: midnight is 04:00 UTC.
    expect(await read()).toEqual({ starts: '2026-03-09 04:00', version: 2 });
    await client.query(`UPDATE users SET time_zone = 'Asia/Tokyo' WHERE id = $1`, [alice]);
    expect(await read()).toEqual({ starts: '2026-03-08 15:00', version: 2 });
    await client.query(`UPDATE tasks SET due_date = NULL, due_at = now() WHERE id = $1`, [task]);
    expect((await read()).starts).toBeNull();
  });
});
