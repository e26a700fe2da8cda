// npm run bench:seed -- --users N --tasks-per-user M [--reset]
//
// Fills the database with N bench users of M tasks each, with set-based SQL (generate_series),
// a batch of users per transaction. The same N and M give the same rows: ids are md5-derived
// (bench/fixtures.ts mirrors them), every other value comes from a sha256 of the row's key. Only
// timestamps move: they are relative to the start of the current UTC day, so due dates and
// reminders stay around "now" whenever the seed runs.
// Each user is written whole (user, tags, tasks, task tags) in its batch's transaction, so a seed
// that was stopped is resumed by running it again: it seeds the users that are missing.
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { hash } from '@node-rs/argon2';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { MigrationError, migrate } from '../src/db/migrations.js';
import { BENCH_EMAIL_PATTERN, BENCH_PASSWORD, BENCH_TAGS, benchTaskId, benchUserId } from './fixtures.js';

// Bounds one statement (and its after-trigger queue for the foreign keys) to ~500k tasks.
const MAX_USERS_PER_BATCH = 5_000;
const MAX_TASKS_PER_BATCH = 500_000;
const DEFAULT_JOBS = Math.min(4, availableParallelism());

const TIME_ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney', 'America/Sao_Paulo'];
const VERBS = ['Buy', 'Call', 'Email', 'Fix', 'Plan', 'Review', 'Clean', 'Book', 'Pay', 'Write', 'Read', 'Schedule', 'Prepare', 'Update', 'Cancel', 'Renew'];
// BENCH_SEARCH_WORDS are among these, so a search for one of them finds ~1/16 of the tasks.
const OBJECTS = ['invoice', 'report', 'dentist', 'groceries', 'taxes', 'flight', 'car', 'kitchen', 'presentation', 'garden', 'insurance', 'birthday gift', 'budget', 'newsletter', 'gym membership', 'passport'];
const QUALIFIERS = ['', '', '', ' today', ' this week', ' before Friday', ' for the team', ' again'];
const FIRST_SENTENCES = ['Check the numbers twice.', 'Ask Alex about the invoice first.', 'Bring the receipt.', 'Use the shared folder.', 'Remember the report deadline.', 'Call back if nobody answers.', 'Compare at least three offers.', 'Keep it short.', 'Needs the new address.', 'Coordinate with the dentist office.', 'Pay by card, not cash.', 'Take the documents along.', 'Write down the confirmation number.', 'Book the early slot if possible.', 'Ask for a discount.', 'Print two copies.'];
const SECOND_SENTENCES = ['Low effort.', 'Blocked until Monday.', 'Part of the quarterly review.', 'Follow up next week.', 'See the email thread.', 'Details in the notes app.', 'Might take an hour.', 'Family task.', 'Not urgent but annoying.', 'Do it before the trip.', 'Reminder set on the phone.', 'Groceries list attached.', 'Needs a signature.', 'Split the cost.', 'Tax related.', 'Ask for feedback afterwards.'];

/** SQL twin of fixtures.benchUuid: md5 of the key with version 4 and variant 8 nibbles forced. */
const uuidSql = (key: string) => `overlay(overlay(md5(${key}) placing '4' from 13) placing '8' from 17)::uuid`;
const userKey = `'bench-user-' || n`;
const taskKey = `'bench-task-' || n || '-' || i`;
// 32 pseudo-random bytes per task; byte k is get_byte(r, k). Each byte has one job (see below).
const taskRows = `
  SELECT n, i, sha256(convert_to(${taskKey}, 'UTF8')) AS r
  FROM generate_series($1::int, $2::int) AS n CROSS JOIN generate_series(1, $3::int) AS i
  OFFSET 0`; // OFFSET 0 keeps the subquery from being flattened, so r is computed once per row

const INSERT_USERS = `
  INSERT INTO users (id, email, password_hash, name, time_zone, created_at, updated_at)
  SELECT ${uuidSql(userKey)}, 'bench-user-' || n || '@example.com', $3, 'Bench User ' || n,
         ($4::text[])[1 + n % cardinality($4::text[])], $5::timestamptz - interval '200 days', $5::timestamptz - interval '200 days'
  FROM generate_series($1::int, $2::int) AS n`;

const INSERT_TAGS = `
  INSERT INTO tags (id, user_id, name, color, created_at)
  SELECT ${uuidSql(`'bench-tag-' || n || '-' || (t.ord - 1)`)}, ${uuidSql(userKey)}, t.name, t.color, $5::timestamptz - interval '200 days'
  FROM generate_series($1::int, $2::int) AS n
  CROSS JOIN unnest($3::text[], $4::text[]) WITH ORDINALITY AS t(name, color, ord)`;

// Bytes: 0-1 created_at, 2-3 due offset, 4 completion moment, 5-7 title, 8 and 11 description,
// 9-10 reminder, 12 priority, 13 completed, 14 has due date, 15 recurring (and which rule).
// Recurring tasks are left open so completeTask has series to advance; remind_at may lie in the
// past with reminder_sent_at NULL, i.e. due for the reminder worker.
const INSERT_TASKS = `
  INSERT INTO tasks (id, user_id, title, description, completed, completed_at, priority, due_at, remind_at,
                     recurrence, series_id, created_at, updated_at)
  SELECT id, user_id, title, description, completed, completed_at, priority, due_at,
         CASE WHEN get_byte(r, 9) < 38
              THEN coalesce(due_at - interval '30 minutes', $4::timestamptz + (get_byte(r, 10) - 48) * interval '1 hour') END,
         CASE WHEN recurring THEN CASE WHEN get_byte(r, 15) % 2 = 0 THEN 'FREQ=DAILY' ELSE 'FREQ=WEEKLY;BYDAY=MO' END END,
         CASE WHEN recurring THEN ${uuidSql(`'bench-series-' || n || '-' || i`)} END,
         created_at, coalesce(completed_at, created_at)
  FROM (
    SELECT *,
           NOT recurring AND get_byte(r, 13) < 85 AS completed,
           CASE WHEN NOT recurring AND get_byte(r, 13) < 85
                THEN created_at + ($4::timestamptz - created_at) * (get_byte(r, 4) / 256.0) END AS completed_at
    FROM (
      SELECT n, i, r, ${uuidSql(taskKey)} AS id, ${uuidSql(userKey)} AS user_id,
             ($5::text[])[1 + get_byte(r, 5) % cardinality($5::text[])] || ' '
               || ($6::text[])[1 + get_byte(r, 6) % cardinality($6::text[])]
               || ($7::text[])[1 + get_byte(r, 7) % cardinality($7::text[])] AS title,
             CASE WHEN get_byte(r, 8) < 128 THEN ''
                  ELSE ($8::text[])[1 + get_byte(r, 8) % cardinality($8::text[])] || ' '
                       || ($9::text[])[1 + get_byte(r, 11) % cardinality($9::text[])] END AS description,
             (CASE WHEN get_byte(r, 12) < 102 THEN 'NONE' WHEN get_byte(r, 12) < 154 THEN 'LOW'
                   WHEN get_byte(r, 12) < 205 THEN 'MEDIUM' WHEN get_byte(r, 12) < 243 THEN 'HIGH'
                   ELSE 'URGENT' END)::"Priority" AS priority,
             $4::timestamptz - (get_byte(r, 0) * 256 + get_byte(r, 1)) * interval '4 minutes' AS created_at,
             CASE WHEN get_byte(r, 14) < 179
                  THEN $4::timestamptz - interval '30 days' + (get_byte(r, 2) * 256 + get_byte(r, 3)) * interval '2 minutes' END AS due_at,
             get_byte(r, 14) < 179 AND get_byte(r, 15) < 37 AS recurring
      FROM (${taskRows}) AS g
      OFFSET 0
    ) AS a
  ) AS b`;

// Bytes 16-19: tagged at all (60%), first tag, offset of the second (never the first), two tags (1/3).
const INSERT_TASK_TAGS = `
  INSERT INTO task_tags (task_id, tag_id, user_id)
  SELECT ${uuidSql(taskKey)}, ${uuidSql(`'bench-tag-' || n || '-' || s.k`)}, ${uuidSql(userKey)}
  FROM (${taskRows}) AS g
  CROSS JOIN LATERAL (VALUES (1, get_byte(r, 17) % 5), (2, (get_byte(r, 17) % 5 + 1 + get_byte(r, 18) % 4) % 5)) AS s(slot, k)
  WHERE get_byte(r, 16) < 154 AND (s.slot = 1 OR get_byte(r, 19) < 85)`;

const USAGE = 'usage: npm run bench:seed -- --users N --tasks-per-user M [--reset] [--jobs J]   (N >= 1, M >= 0, 1 <= J <= 16)';

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        users: { type: 'string' },
        'tasks-per-user': { type: 'string' },
        reset: { type: 'boolean', default: false },
        jobs: { type: 'string', default: String(DEFAULT_JOBS) },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const users = Number(values.users);
  const tasksPerUser = Number(values['tasks-per-user']);
  const jobs = Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 16 || !Number.isInteger(users) || users < 1 || !Number.isInteger(tasksPerUser) || tasksPerUser < 0) {
    throw new UsageError(USAGE);
  }
  return { users, tasksPerUser, reset: values.reset, jobs };
}

class UsageError extends Error {}

/**
 * 'done' when already seeded with this shape, 'seed' when nothing or a part of it is there (an
 * interrupted seed: users 1..N of M tasks each, some of them missing); throws when other bench data
 * is in the way.
 */
async function checkExisting(client: pg.Client, users: number, tasksPerUser: number): Promise<'seed' | 'done'> {
  const { rows } = await client.query<{ bench: string }>(
    `SELECT count(*) AS bench FROM users WHERE email LIKE $1`,
    [BENCH_EMAIL_PATTERN],
  );
  const bench = Number(rows[0]?.bench ?? 0);
  if (bench === 0) return 'seed';
  const shape = await client.query<{ same: boolean; complete: boolean; first_user_tasks: string }>(
    `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)
            AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM tasks WHERE id = $3))
            AND NOT EXISTS (SELECT 1 FROM tasks WHERE id = $4)
            AND NOT EXISTS (SELECT 1 FROM users WHERE id = $2) AS same,
            EXISTS (SELECT 1 FROM users WHERE id = $5) AS complete,
            (SELECT count(*) FROM tasks WHERE user_id = $1) AS first_user_tasks`,
    [
      benchUserId(1),
      benchUserId(users + 1),
      tasksPerUser > 0 ? benchTaskId(1, tasksPerUser) : null,
      benchTaskId(1, tasksPerUser + 1),
      benchUserId(users),
    ],
  );
  const row = shape.rows[0];
  if (row?.same && bench <= users) return bench === users && row.complete ? 'done' : 'seed';
  throw new UsageError(
    `refusing to seed: the database already holds ${bench} bench users (user 1 has ${row?.first_user_tasks ?? 0} tasks), ` +
      `not ${users} x ${tasksPerUser}. Rerun with --reset to truncate users (and with them every task and tag) first.`,
  );
}

/** The bench users among 1..users that are not in the database yet, in order. */
async function missingUsers(client: pg.Client, users: number): Promise<number[]> {
  const numbers = Array.from({ length: users }, (_, index) => index + 1);
  const { rows } = await client.query<{ id: string }>('SELECT id FROM users WHERE id = ANY($1::uuid[])', [numbers.map(benchUserId)]);
  const present = new Set(rows.map((row) => row.id));
  return numbers.filter((n) => !present.has(benchUserId(n)));
}

interface Batch {
  first: number;
  last: number;
}

/** Users first..last with their tags, tasks and task tags, in one transaction; returns the task tags made. */
async function insertBatch(
  client: pg.Client,
  { first, last }: Batch,
  { tasksPerUser, passwordHash, anchor }: { tasksPerUser: number; passwordHash: string; anchor: string },
): Promise<number> {
  await client.query('BEGIN');
  try {
    // Losing the last batches to a crash is fine: the seed is simply rerun with --reset.
    await client.query('SET LOCAL synchronous_commit = off');
    await client.query(INSERT_USERS, [first, last, passwordHash, TIME_ZONES, anchor]);
    await client.query(INSERT_TAGS, [first, last, BENCH_TAGS.map((tag) => tag.name), BENCH_TAGS.map((tag) => tag.color), anchor]);
    let links = 0;
    if (tasksPerUser > 0) {
      await client.query(INSERT_TASKS, [first, last, tasksPerUser, anchor, VERBS, OBJECTS, QUALIFIERS, FIRST_SENTENCES, SECOND_SENTENCES]);
      links = (await client.query(INSERT_TASK_TAGS, [first, last, tasksPerUser])).rowCount ?? 0;
    }
    await client.query('COMMIT');
    return links;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function seed(url: string, users: number, tasksPerUser: number, reset: boolean, jobs: number): Promise<void> {
  const started = performance.now();
  const seconds = () => `${Math.round((performance.now() - started) / 1000)}s`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (reset) {
      const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM users');
      await client.query('TRUNCATE users CASCADE');
      console.error(`--reset: truncated users and, by cascade, tags, tasks and task_tags (${rows[0]?.count ?? 0} users removed)`);
    } else if ((await checkExisting(client, users, tasksPerUser)) === 'done') {
      console.log(`already seeded with ${users} bench users x ${tasksPerUser} tasks; nothing to do (--reset reseeds)`);
      return;
    }

    // A fixed salt so that the same N and M give byte-identical rows; one hash serves every user.
    const salt = createHash('sha256').update('bench-salt').digest().subarray(0, 16);
    const passwordHash = await hash(BENCH_PASSWORD, { salt });
    // Whole UTC day, so reruns on the same day produce identical timestamps too.
    const anchor = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000).toISOString();

    const params = { tasksPerUser, passwordHash, anchor };
    // A user is written whole, with its tags and tasks, in its batch's transaction: an interrupted
    // seed is resumed by seeding the users that are missing.
    const missing = await missingUsers(client, users);
    if (missing.length < users) console.error(`resuming: ${users - missing.length} of ${users} users are already seeded`);
    const size = Math.max(1, Math.min(MAX_USERS_PER_BATCH, Math.floor(MAX_TASKS_PER_BATCH / Math.max(tasksPerUser, 1)), Math.ceil(missing.length / jobs)));
    const batches: Batch[] = [];
    for (let index = 0; index < missing.length; ) {
      const first = missing[index]!;
      let last = first;
      while (index + 1 < missing.length && missing[index + 1] === last + 1 && last - first + 1 < size) last = missing[++index]!;
      batches.push({ first, last });
      index += 1;
    }
    let seededUsers = users - missing.length;
    let links = 0;
    let failed = false;
    // One backend inserting is CPU-bound (trigram extraction, GIN and B-tree maintenance), so
    // several connections each take the next batch.
    const worker = async () => {
      const connection = new pg.Client({ connectionString: url });
      await connection.connect();
      try {
        for (let batch = batches.shift(); batch && !failed; batch = batches.shift()) {
          const made = await insertBatch(connection, batch, params); // not `links += await`: that reads links before waiting
          links += made;
          seededUsers += batch.last - batch.first + 1;
          console.error(`seeded ${seededUsers}/${users} users, ${seededUsers * tasksPerUser} tasks, ${seconds()}`);
        }
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        await connection.end();
      }
    };
    const outcomes = await Promise.allSettled(Array.from({ length: Math.min(jobs, batches.length) }, worker));
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;

    // Fresh statistics so the planner sees the real sizes; vacuum also sets the visibility map
    // (index-only scans) and hint bits, which the first benchmark reads would otherwise write.
    await client.query('VACUUM (ANALYZE) users, tags, tasks, task_tags');
    const { rows } = await client.query<{ size: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS size');
    console.log(
      `seeded ${users} users, ${users * BENCH_TAGS.length} tags, ${users * tasksPerUser} tasks, ${links} task tags${missing.length < users ? ' (this run)' : ''} in ${seconds()}; ` +
        `database size ${rows[0]?.size}`,
    );
  } finally {
    await client.end();
  }
}

try {
  const { users, tasksPerUser, reset, jobs } = parseOptions();
  const database = await openDatabase(loadConfig().database, (line) => console.error(line));
  try {
    await migrate(database.url, { log: (line) => console.error(line) });
    console.error(`seeding ${users} users x ${tasksPerUser} tasks into ${database.description} on ${jobs} connection(s)`);
    await seed(database.url, users, tasksPerUser, reset, jobs);
  } finally {
    await database.close();
  }
} catch (error) {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof MigrationError) {
    console.error(error.message);
  } else {
    console.error(`seeding failed: ${(error as Error).stack ?? error}`);
  }
  process.exit(1);
}
