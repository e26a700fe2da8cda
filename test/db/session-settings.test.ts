import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompleteTaskDocument, CreateTaskDocument, TaskDocument } from '../generated/graphql.js';
import { createPrisma } from '../../src/db/prisma.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// initdb writes the machine's time zone into postgresql.conf, and Prisma's pg adapter reads a
// timestamptz by dropping the offset the server printed it with: on a server whose time zone is not
// UTC every instant would come back shifted (and a completed recurring task would store the shift).
// A database set to New York stands in for a developer's laptop or a self-hosted server.

let database: TestDatabase;
let app: TestApp;
let token: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(database.name)} SET timezone TO 'America/New_York'`);
  await admin.end();
  app = await createTestApp({ database });
  ({ token } = await app.signUp('time-zone'));
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe('a server whose time zone is not UTC', () => {
  it('is the premise: a new connection to this database talks New York time', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query<{ timezone: string }>("SELECT current_setting('TimeZone') AS timezone");
    await client.end();
    expect(rows[0]!.timezone).toBe('America/New_York');
  });

  it('stores and returns the instants a client sent, and computes the next occurrence from them', async () => {
    const dueAt = '2030-01-07T09:00:00.000Z';
    const remindAt = '2030-01-07T08:30:00.000Z';
    const created = await app.graphql(CreateTaskDocument, { input: { title: 'Standup', dueAt, remindAt, recurrence: 'FREQ=WEEKLY' } }, { token });
    expect(created.errors).toBeUndefined();
    expect(created.data!.createTask).toMatchObject({ dueAt, remindAt });

    const read = await app.graphql(TaskDocument, { id: created.data!.createTask.id }, { token });
    expect(read.data!.task).toMatchObject({ dueAt, remindAt });
    const { rows } = await app.pool.query<{ utc: string }>("SELECT to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI') AS utc FROM tasks");
    expect(rows.map((row) => row.utc)).toEqual(['2030-01-07T09:00']);

    const completed = await app.graphql(CompleteTaskDocument, { id: created.data!.createTask.id }, { token });
    expect(completed.errors).toBeUndefined();
    expect(completed.data!.completeTask.nextOccurrence).toMatchObject({ dueAt: '2030-01-14T09:00:00.000Z', remindAt: '2030-01-14T08:30:00.000Z' });
  });
});

describe('the statement timeout', () => {
  it('is set on each session by SQL (poolers refuse it as a startup parameter) and cancels a slow statement on the server', async () => {
    // The client-side query_timeout (statement + connect timeout) is 5.3 s here: only the server's
    // statement_timeout can end a 2-second statement after 0.3 s.
    const handle = createPrisma(database.url, { poolSize: 1, connectTimeoutMs: 5_000, statementTimeoutMs: 300 });
    try {
      // PgBouncer answers a startup statement_timeout with "unsupported startup parameter".
      expect(handle.pool.options).not.toHaveProperty('statement_timeout');
      expect(handle.pool.options).not.toHaveProperty('options');
      const { rows } = await handle.pool.query<{ timeout: string; zone: string }>(
        "SELECT current_setting('statement_timeout') AS timeout, current_setting('TimeZone') AS zone",
      );
      expect(rows[0]).toEqual({ timeout: '300ms', zone: 'UTC' });
      const started = performance.now();
      await expect(handle.pool.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
      expect(performance.now() - started).toBeLessThan(1_500);
    } finally {
      await handle.close();
    }
  });
});
