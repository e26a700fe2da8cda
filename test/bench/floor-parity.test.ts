import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaseline, type Baseline } from '../../bench/baseline.js';
import { BENCH_SEARCH_WORDS, benchTagId, benchTaskId } from '../../bench/fixtures.js';
import { restoreSeededData } from '../../bench/restore.js';
import { DOCUMENTS, globalId, JWT_AUDIENCE, JWT_ISSUER, mintTokens } from '../../bench/scenarios.js';
import { createTestApp, TEST_JWT_SECRET, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/databases.js';

// The floor's ratios mean something only if the floor does the scenario's work: the same rows, and
// for S4 the same next occurrence. Its answers differ from the API's by design in one way: ids are raw
// UUIDs, not global ids, so they are compared decoded.

const USERS = 6;
const run = promisify(execFile);
let app: TestApp;
let floor: Baseline;
let client: pg.Client;
let headers: Record<string, string>[];

beforeAll(async () => {
  const database = await createTestDatabase();
  await run(process.execPath, ['--import', 'tsx', 'bench/seed.ts', '--users', String(USERS), '--tasks-per-user', '60'], {
    env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
  });
  app = await createTestApp({ database, env: { JWT_ISSUER, JWT_AUDIENCE } });
  floor = await startBaseline({
    databaseUrl: database.url,
    port: 0,
    jwtSecret: new TextEncoder().encode(TEST_JWT_SECRET),
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    poolSize: 2,
  });
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  headers = await mintTokens(TEST_JWT_SECRET, USERS);
});
afterAll(async () => {
  await client?.end();
  await floor?.close();
  await app?.close();
});

/** Global ids ("Task:<uuid>" in base64) decoded to the raw UUIDs the floor sends. */
function rawIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rawIds);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      if (key !== 'id' || typeof inner !== 'string') return [key, rawIds(inner)];
      const decoded = Buffer.from(inner, 'base64').toString('utf8');
      return [key, /^(Task|Tag|List):/.test(decoded) ? decoded.slice(decoded.indexOf(':') + 1) : inner];
    }),
  );
}

async function askApi(user: number, query: string, variables: object): Promise<unknown> {
  const response = await app.post({ query, variables }, headers[user - 1]);
  const body = (await response.json()) as { data?: unknown; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return rawIds(body.data);
}

async function askFloor(user: number, scenario: string, variables: object): Promise<unknown> {
  const response = await fetch(floor.url, { method: 'POST', headers: headers[user - 1], body: JSON.stringify({ scenario, variables }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: unknown }).data;
}

const users = Array.from({ length: USERS }, (_, i) => i + 1);

describe('the bench floor does what the API does', () => {
  it('S1, S2 and S5 read the same tasks and tags as the API', async () => {
    for (const user of users) {
      expect(await askFloor(user, 'S1', {})).toEqual(await askApi(user, DOCUMENTS.S1, {}));
      for (const n of [1, 17, 60]) {
        const id = benchTaskId(user, n);
        expect(await askFloor(user, 'S2', { id })).toEqual(await askApi(user, DOCUMENTS.S2, { id: globalId('Task', id) }));
      }
      for (const [k, search] of BENCH_SEARCH_WORDS.entries()) {
        const tagId = benchTagId(user, k % 5);
        const page = await askApi(user, DOCUMENTS.S5, { filter: { search, tagIds: [globalId('Tag', tagId)] } });
        expect(await askFloor(user, 'S5', { search, tagId })).toEqual(page);
      }
    }
    // Another user's task is not found by either.
    const foreign = benchTaskId(2, 1);
    expect(await askFloor(1, 'S2', { id: foreign })).toEqual({ task: null });
  });

  it('S7 reads the same top-level tasks of a list, in the same order, with tags and subtask counts; S8 moves a task where the API would', async () => {
    for (const user of users) {
      const { rows } = await client.query<{ id: string }>('SELECT l.id FROM lists l JOIN users u ON u.id = l.user_id WHERE l.is_inbox AND u.email = $1', [`bench-user-${user}@example.com`]);
      const list = rows[0]!.id;
      expect(await askFloor(user, 'S7', { list })).toEqual(await askApi(user, DOCUMENTS.S7, { list: globalId('List', list) }));
    }
    const [id, afterId, next] = [benchTaskId(1, 5), benchTaskId(1, 2), benchTaskId(1, 3)];
    const order = async () => (await client.query<{ id: string }>('SELECT id FROM tasks WHERE user_id = (SELECT user_id FROM tasks WHERE id = $1) AND parent_id IS NULL ORDER BY position, id', [id])).rows.map((row) => row.id);
    const before = await order();
    await askFloor(1, 'S8', { id, afterId });
    const byFloor = await order();
    expect(byFloor.indexOf(id)).toBe(byFloor.indexOf(afterId) + 1);
    await askApi(1, DOCUMENTS.S8, { input: { id: globalId('Task', id), afterId: globalId('Task', next) } });
    const byApi = await order();
    expect(byApi.indexOf(id)).toBe(byApi.indexOf(next) + 1);
    expect(new Set(byApi)).toEqual(new Set(before));
  });

  it('S4 creates the same next occurrence: due date by the rule in the user\'s zone, reminder, description, tags', async () => {
    const { rows: open } = await client.query<{ id: string; owner: number; recurrence: string }>(
      `SELECT t.id, substring(u.email FROM 'bench-user-(\\d+)@')::int AS owner, t.recurrence
       FROM tasks t JOIN users u ON u.id = t.user_id WHERE t.recurrence IS NOT NULL AND NOT t.completed ORDER BY t.id`,
    );
    // Both of the seed's rules, in several time zones.
    expect(new Set(open.map((task) => task.recurrence))).toEqual(new Set(['FREQ=DAILY', 'FREQ=WEEKLY;BYDAY=MO']));
    expect(new Set(open.map((task) => task.owner)).size).toBeGreaterThan(3);

    const created = () =>
      client
        .query(
          `SELECT t.generated_from_id, t.user_id, t.title, t.description, t.priority, t.due_at, t.remind_at, t.recurrence,
                  t.series_id, t.completed, array(SELECT tag_id FROM task_tags l WHERE l.task_id = t.id ORDER BY tag_id) AS tags
           FROM tasks t WHERE t.generated_from_id IS NOT NULL ORDER BY t.generated_from_id`,
        )
        .then((result) => result.rows);
    const completed = () => client.query(`SELECT id FROM tasks WHERE completed AND recurrence IS NOT NULL ORDER BY id`).then((result) => result.rows);

    const answers = async (ask: (task: (typeof open)[number]) => Promise<unknown>) => {
      const all = [];
      for (const task of open) all.push(await ask(task));
      return { all, created: await created(), completed: await completed() };
    };
    const byApi = await answers((task) => askApi(task.owner, DOCUMENTS.S4, { id: globalId('Task', task.id) }));
    await restoreSeededData(app.database.url);
    expect(await created()).toEqual([]);
    const byFloor = await answers((task) => askFloor(task.owner, 'S4', { id: task.id }));

    expect(byApi.created).toHaveLength(open.length);
    expect(byFloor.created).toEqual(byApi.created);
    expect(byFloor.completed).toEqual(byApi.completed);
    // New ids differ between the two runs; everything else in the answers is the same.
    const withoutNextId = (answer: unknown) => JSON.parse(JSON.stringify(answer).replace(/"nextOccurrence":\{"id":"[^"]+"/g, '"nextOccurrence":{"id":"new"'));
    expect(byFloor.all.map(withoutNextId)).toEqual(byApi.all.map(withoutNextId));
  });
});
