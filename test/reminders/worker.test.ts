import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrisma, type PrismaHandle } from '../../src/db/prisma.js';
import { createLogger } from '../../src/logger.js';
import { claimDueReminders, startReminderWorker, type ReminderWorker } from '../../src/tasks/reminders.js';
import { CompleteTaskDocument, CreateTaskDocument, DeleteTaskDocument, TaskDocument, UpdateTaskDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { recordingPubSub, uuidOf } from '../support/events.js';

// The worker as two API instances would run it: two Prisma clients (two pools) on one database, each
// with its own pubsub, so every event can be traced to the instance that published it.

const HOUR = 3_600_000;
const silent = createLogger('silent');

let app: TestApp;
let secondInstance: PrismaHandle;
const workers: ReminderWorker[] = [];

beforeAll(async () => {
  app = await createTestApp();
  secondInstance = createPrisma(app.database.url, { ...app.config.database, poolSize: 5 });
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await secondInstance?.close();
  await app?.close();
});

/** A worker that only runs when told (runOnce): its own timer waits an hour after the first tick. */
function worker(options: { prisma?: PrismaHandle['prisma']; batchSize?: number } = {}) {
  const { pubsub, target } = recordingPubSub();
  const started = startReminderWorker({ prisma: options.prisma ?? app.prisma, pubsub, logger: silent, pollMs: HOUR, batchSize: options.batchSize });
  workers.push(started);
  return { worker: started, published: target.published };
}

async function insertUsers(count: number): Promise<string[]> {
  const { rows } = await app.pool.query<{ id: string }>(
    `INSERT INTO users (email) SELECT 'bulk-' || g || '-' || gen_random_uuid() || '@example.com' FROM generate_series(1, $1::int) g RETURNING id`,
    [count],
  );
  return rows.map((row) => row.id);
}

const sentState = async (userIds: string[]) =>
  (
    await app.pool.query<{ id: string; user_id: string; title: string; sent: boolean; version: number }>(
      'SELECT id, user_id, title, reminder_sent_at IS NOT NULL AS sent, version FROM tasks WHERE user_id = ANY($1::uuid[])',
      [userIds],
    )
  ).rows;

describe('reminder worker', () => {
  it('delivers 500 due reminders across users exactly once with two workers on one database, and nothing else', async () => {
    const a = worker({ batchSize: 20 });
    const b = worker({ prisma: secondInstance.prisma, batchSize: 20 });
    // Both pools connected before the race starts, so neither wins by arriving first.
    await Promise.all([a.worker.runOnce(), b.worker.runOnce()]);

    const userIds = await insertUsers(5);
    await app.pool.query(
      `INSERT INTO tasks (user_id, title, remind_at)
       SELECT u, 'due ' || g, now() - g * interval '1 second' FROM unnest($1::uuid[]) u, generate_series(1, 100) g`,
      [userIds],
    );
    await app.pool.query(
      `INSERT INTO tasks (user_id, title, remind_at, completed, completed_at)
       SELECT u, 'completed', now() - interval '1 minute', true, now() FROM unnest($1::uuid[]) u`,
      [userIds],
    );
    await app.pool.query(
      `INSERT INTO tasks (user_id, title, remind_at) SELECT u, 'future', now() + interval '1 day' FROM unnest($1::uuid[]) u
       UNION ALL SELECT u, 'no reminder', NULL FROM unnest($1::uuid[]) u`,
      [userIds],
    );

    // Several drains per instance at once: claims contend on the same rows.
    await Promise.all([a.worker.runOnce(), b.worker.runOnce(), a.worker.runOnce(), b.worker.runOnce(), a.worker.runOnce(), b.worker.runOnce()]);
    // A drain stops at a short batch, which contention can cause early; one more pass picks up any rest.
    await a.worker.runOnce();

    const published = [...a.published, ...b.published];
    expect(published).toHaveLength(500);
    expect(new Set(published.map((event) => event.taskId)).size).toBe(500);
    expect(a.published.length).toBeGreaterThan(0);
    expect(b.published.length).toBeGreaterThan(0);

    const rows = await sentState(userIds);
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const event of published) {
      // Published on the owner's topic, for a task that is due.
      expect(byId.get(event.taskId)).toMatchObject({ user_id: event.userId, sent: true });
      expect(byId.get(event.taskId)!.title).toMatch(/^due /);
    }
    expect(rows.filter((row) => row.title.startsWith('due ')).every((row) => row.sent)).toBe(true);
    expect(rows.filter((row) => !row.title.startsWith('due ')).some((row) => row.sent)).toBe(false);
    // Delivery is not a change a client can see: the version (optimistic concurrency) stays put.
    expect(rows.every((row) => row.version === 1)).toBe(true);

    expect(await a.worker.runOnce()).toBe(0);
    expect(await b.worker.runOnce()).toBe(0);
  });

  it('delivers a reminder re-armed by changing remindAt again, without bumping the version for delivery', async () => {
    const { token } = await app.signUp('rearm');
    const { worker: reminders, published } = worker();
    const created = await app.graphql(CreateTaskDocument, { input: { title: 'Call back', remindAt: new Date(Date.now() - 60_000).toISOString() } }, { token });
    expect(created.errors).toBeUndefined();
    const task = created.data!.createTask;
    const deliveriesOf = () => published.filter((event) => event.taskId === uuidOf(task.id)).length;

    await reminders.runOnce();
    expect(deliveriesOf()).toBe(1);
    const delivered = (await app.graphql(TaskDocument, { id: task.id }, { token })).data!.task!;
    expect(delivered.reminderSentAt).not.toBeNull();
    expect(delivered.version).toBe(task.version);

    // An edit that leaves remindAt alone does not re-arm it.
    const renamed = await app.graphql(UpdateTaskDocument, { input: { id: task.id, title: 'Call back Ann' } }, { token });
    expect(renamed.data!.updateTask).toMatchObject({ version: task.version + 1, reminderSentAt: delivered.reminderSentAt });
    await reminders.runOnce();
    expect(deliveriesOf()).toBe(1);

    const rearmed = await app.graphql(UpdateTaskDocument, { input: { id: task.id, remindAt: new Date(Date.now() - 1_000).toISOString() } }, { token });
    expect(rearmed.data!.updateTask).toMatchObject({ reminderSentAt: null, version: task.version + 2 });
    await reminders.runOnce();
    expect(deliveriesOf()).toBe(2);
    const again = (await app.graphql(TaskDocument, { id: task.id }, { token })).data!.task!;
    expect(again.reminderSentAt).not.toBeNull();
    expect(again.version).toBe(task.version + 2);
  });

  it('never delivers the reminder of a task completed or deleted before it was due', async () => {
    const { token } = await app.signUp('cancel');
    const { worker: reminders, published } = worker();
    const remindAt = new Date(Date.now() - 60_000).toISOString();
    const done = (await app.graphql(CreateTaskDocument, { input: { title: 'Done already', remindAt } }, { token })).data!.createTask;
    const gone = (await app.graphql(CreateTaskDocument, { input: { title: 'Never mind', remindAt } }, { token })).data!.createTask;
    expect((await app.graphql(CompleteTaskDocument, { id: done.id }, { token })).errors).toBeUndefined();
    expect((await app.graphql(DeleteTaskDocument, { id: gone.id }, { token })).errors).toBeUndefined();

    await reminders.runOnce();
    expect(published.map((event) => event.taskId)).not.toContain(uuidOf(done.id));
    expect(published.map((event) => event.taskId)).not.toContain(uuidOf(gone.id));
  });

  it('publishes every reminder it marked sent, even when stopped during a tick', async () => {
    const userIds = await insertUsers(1);
    await app.pool.query(`INSERT INTO tasks (user_id, title, remind_at) SELECT $1, 'stop ' || g, now() - interval '1 minute' FROM generate_series(1, 50) g`, [userIds[0]]);
    const { pubsub, target } = recordingPubSub();
    const reminders = startReminderWorker({ prisma: app.prisma, pubsub, logger: silent, pollMs: HOUR, batchSize: 10 });
    // stop() right away: the first tick is under way and is waited for; it ends after the current batch.
    await reminders.stop();
    const sent = (await sentState(userIds)).filter((row) => row.sent);
    expect(target.published.map((event) => event.taskId).sort()).toEqual(sent.map((row) => row.id).sort());
    await worker().worker.runOnce();
  });

  it('logs a failed tick and keeps polling while the database is unreachable', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const unreachable = createPrisma('postgresql://nobody@127.0.0.1:1/nothing', { poolSize: 1, connectTimeoutMs: 500, statementTimeoutMs: 500 });
    const reminders = startReminderWorker({ prisma: unreachable.prisma, pubsub: recordingPubSub().pubsub, logger, pollMs: 20 });
    try {
      await expect.poll(() => lines.filter((line) => line.msg.startsWith('reminder tick failed')).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
      expect(lines.find((line) => line.msg.startsWith('reminder tick failed'))).toMatchObject({ level: 40, msg: 'reminder tick failed: database unavailable' });
      await expect(reminders.runOnce()).rejects.toThrow();
    } finally {
      await reminders.stop();
      await unreachable.close();
    }
  });

  it('delivers absolute, relative and all-day reminders of the same tasks once each, with two workers', async () => {
    const a = worker({ batchSize: 7 });
    const b = worker({ prisma: secondInstance.prisma, batchSize: 7 });
    await Promise.all([a.worker.runOnce(), b.worker.runOnce()]);
    const userIds = await insertUsers(3);
    await app.pool.query(`UPDATE users SET time_zone = 'Asia/Tokyo' WHERE id = ANY($1::uuid[])`, [userIds]);
    // Per user: 20 timed tasks due a minute ago with remindAt and two relative reminders, 20 all-day
    // tasks due yesterday with one relative reminder, and one relative reminder that is not due yet.
    await app.pool.query(
      `WITH timed AS (
         INSERT INTO tasks (user_id, title, due_at, remind_at)
         SELECT u, 'timed ' || g, now() - interval '1 minute', now() - interval '2 minutes' FROM unnest($1::uuid[]) u, generate_series(1, 20) g
         RETURNING id, user_id),
       all_day AS (
         INSERT INTO tasks (user_id, title, due_date)
         SELECT u, 'all-day ' || g, (now() AT TIME ZONE 'Asia/Tokyo')::date - 1 FROM unnest($1::uuid[]) u, generate_series(1, 20) g
         RETURNING id, user_id),
       later AS (
         INSERT INTO tasks (user_id, title, due_at) SELECT u, 'later', now() + interval '1 day' FROM unnest($1::uuid[]) u RETURNING id, user_id)
       INSERT INTO reminders (user_id, task_id, minutes_before)
       SELECT user_id, id, m FROM timed, unnest(ARRAY[5, 10]) m
       UNION ALL SELECT user_id, id, 60 FROM all_day
       UNION ALL SELECT user_id, id, 30 FROM later`,
      [userIds],
    );
    const due = await app.pool.query<{ id: string }>('SELECT id FROM reminders WHERE user_id = ANY($1::uuid[]) AND fire_at <= now()', [userIds]);
    // 3 users x (20 x 3 + 20): remindAt and two relative reminders per timed task, one per all-day task.
    expect(due.rows).toHaveLength(240);

    await Promise.all([a.worker.runOnce(), b.worker.runOnce(), a.worker.runOnce(), b.worker.runOnce()]);
    await a.worker.runOnce();
    const published = [...a.published, ...b.published].filter((event) => userIds.includes(event.userId));
    expect(published).toHaveLength(240);
    expect(new Set(published.map((event) => event.reminderId))).toEqual(new Set(due.rows.map((row) => row.id)));
    const { rows } = await app.pool.query<{ unsent: number }>('SELECT count(*)::int AS unsent FROM reminders WHERE user_id = ANY($1::uuid[]) AND sent_at IS NULL', [userIds]);
    expect(rows[0]!.unsent).toBe(3);
    // remindAt's delivery shows on the task, as before.
    const timed = await app.pool.query<{ sent: boolean }>(`SELECT bool_and(reminder_sent_at IS NOT NULL) AS sent FROM tasks WHERE user_id = ANY($1::uuid[]) AND title LIKE 'timed %'`, [userIds]);
    expect(timed.rows[0]!.sent).toBe(true);
  });

  it('claims through the partial index reminders_due_idx', async () => {
    const claim = claimDueReminders(100);
    const client = await app.pool.connect();
    try {
      await client.query('BEGIN');
      // The test table is tiny; forbid the sequential scan so the plan shows whether the index can serve.
      await client.query('SET LOCAL enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${claim.text}`, claim.values);
      expect(rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/reminders_due_idx/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
