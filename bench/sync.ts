// npm run bench:sync: the change feed and its live stream, on the API as `npm start` runs it.
//   S9  a client catching up on 1,000 changes in pages of 100 (10 requests), repeated
//   S10 1,000 live `changes` subscribers (SSE, 2 per user) while writes run at 100/s: the delay from
//       a write's acknowledgement to its event at every subscriber of its user, and events lost
// Uses its own database (sync_bench) on the bench's PostgreSQL: DATABASE_URL's server, or the
// embedded one. Options: --subscribers N (1000), --rate N (100/s), --seconds N (20), --catch-ups N (20).
import { request, type IncomingMessage } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { freshDatabase } from './databases.js';
import { benchUserId } from './fixtures.js';
import { percentile } from './measure.js';
import { buildForProduction, memory, productionCommand, startTarget } from './processes.js';
import { JWT_AUDIENCE, JWT_ISSUER, mintTokens } from './scenarios.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECRET = 'tasks-api-bench-secret-not-for-production-use-0123456789';
const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
    'catch-ups': { type: 'string', default: '20' },
  },
});
const SUBSCRIBERS = Number(args.subscribers);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const CATCH_UPS = Number(args['catch-ups']);
const USERS = Math.ceil(SUBSCRIBERS / 2);
const progress = (line: string) => console.error(`[bench:sync] ${line}`);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function main() {
  const environment = { ...process.env, EMBEDDED_DATA_DIR: process.env.BENCH_EMBEDDED_DATA_DIR ?? '.data/bench-postgres', EMBEDDED_PORT: process.env.BENCH_EMBEDDED_PORT ?? '54330' };
  const config = loadConfig({ ...environment, JWT_SECRET: SECRET, NODE_ENV: 'development' });
  const server = await openDatabase(config.database, progress);
  const url = await freshDatabase(server.url, 'sync_bench');
  await migrate(url, { log: progress });

  const db = new pg.Client({ connectionString: url });
  await db.connect();
  progress(`${USERS} users with one task each`);
  await db.query(
    `INSERT INTO users (id, email) SELECT u.id, 'sync-' || n || '@example.com' FROM generate_series(1, $1::int) n, LATERAL (SELECT ($2::text[])[n]::uuid AS id) u`,
    [USERS, Array.from({ length: USERS }, (_, index) => benchUserId(index + 1))],
  );
  const { rows: tasks } = await db.query<{ id: string; user_id: string }>(
    `INSERT INTO tasks (user_id, title, list_id, position)
     SELECT l.user_id, 'start', l.id, 'a0' FROM lists l WHERE l.is_inbox ORDER BY l.user_id RETURNING id, user_id`,
  );
  const taskOf = new Map(tasks.map((task) => [task.user_id, task.id]));
  const headers = await mintTokens(SECRET, USERS);

  progress('building and starting the API as npm start runs it');
  await buildForProduction(ROOT, 180_000);
  const production = productionCommand(ROOT);
  const api = await startTarget({
    name: 'api',
    script: production.script,
    tsx: false,
    nodeFlags: production.flags,
    env: { ...environment, DATABASE_URL: url, NODE_ENV: 'production', JWT_SECRET: SECRET, JWT_ISSUER, JWT_AUDIENCE, REMINDERS: 'off', LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', REDIS_URL: '' },
    cwd: ROOT,
    readyPath: '/healthz',
    timeoutMs: 120_000,
    log: progress,
  });
  const origin = new URL(api.origin);
  const post = (user: number, body: unknown) =>
    new Promise<{ status: number; text: string }>((done, fail) => {
      const payload = Buffer.from(JSON.stringify(body));
      const req = request({ host: origin.hostname, port: origin.port, path: '/graphql', method: 'POST', headers: { ...headers[user]!, 'content-length': payload.length } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', fail);
      req.end(payload);
    });

  try {
    // S9: one user's 1,000 changes since a token, read back in pages of 100.
    const s9User = 0;
    const userId = benchUserId(1);
    const pageQuery = 'query($t: String, $f: Int) { changes(syncToken: $t, first: $f) { changes { kind id node { id ... on Task { title version } } } syncToken hasMore } }';
    const catchUps: number[] = [];
    for (let round = 0; round < CATCH_UPS; round++) {
      const start = JSON.parse((await post(s9User, { query: pageQuery, variables: { t: null, f: 500 } })).text).data.changes.syncToken as string;
      await db.query(`UPDATE tasks SET title = 'r${round}' WHERE user_id = $1`, [userId]);
      await db.query(`INSERT INTO tasks (user_id, title, list_id, position) SELECT user_id, 'c' || n, id, 'b' || lpad(n::text, 6, '0') || '${round}' FROM lists, generate_series(1, 999) n WHERE user_id = $1 AND is_inbox`, [userId]);
      const started = process.hrtime.bigint();
      let token = start;
      let received = 0;
      for (;;) {
        const page = JSON.parse((await post(s9User, { query: pageQuery, variables: { t: token, f: 100 } })).text).data.changes;
        received += page.changes.length;
        token = page.syncToken;
        if (!page.hasMore) break;
      }
      catchUps.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (received !== 1000) throw new Error(`S9 caught up on ${received} changes, not 1,000`);
      await db.query(`DELETE FROM tasks WHERE user_id = $1 AND title LIKE 'c%'`, [userId]);
    }
    catchUps.sort((a, b) => a - b);
    const s9 = { median: catchUps[Math.floor(catchUps.length / 2)]!, p95: catchUps[Math.floor(catchUps.length * 0.95)]!, best: catchUps[0]! };

    // S10: the subscribers, then writes at RATE/s.
    progress(`S10: opening ${SUBSCRIBERS} subscriptions`);
    const arrivals = new Map<string, number[]>();
    let replayed = 0;
    const streams: IncomingMessage[] = [];
    const subscribe = (user: number) =>
      new Promise<void>((done, fail) => {
        const payload = Buffer.from(JSON.stringify({ query: 'subscription { changes { change { id node { ... on Task { title } } } syncToken } }' }));
        const req = request(
          { host: origin.hostname, port: origin.port, path: '/graphql', method: 'POST', agent: false, headers: { ...headers[user]!, accept: 'text/event-stream', 'content-length': payload.length } },
          (res) => {
            streams.push(res);
            let buffer = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              const now = performance.now();
              buffer += chunk;
              let end: number;
              while ((end = buffer.indexOf('\n\n')) >= 0) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                const data = block.split('\n').find((line) => line.startsWith('data:'));
                if (!block.includes('event: next') || !data) continue;
                const title: string | undefined = JSON.parse(data.slice(5)).data?.changes?.change?.node?.title;
                if (title?.startsWith('w')) arrivals.set(`${user}:${title}`, [...(arrivals.get(`${user}:${title}`) ?? []), now]);
                else replayed += 1;
              }
            });
            res.on('error', () => {});
            done();
          },
        );
        req.on('error', fail);
        req.end(payload);
      });
    for (let index = 0; index < SUBSCRIBERS; index++) await subscribe(index % USERS);
    while (replayed < SUBSCRIBERS * 2) await sleep(50);
    progress(`S10: ${SUBSCRIBERS} subscribers replayed their full sync; writing at ${RATE}/s for ${SECONDS} s`);

    const acks = new Map<string, { user: number; at: number }>();
    const writes: Promise<void>[] = [];
    const begin = performance.now();
    const total = RATE * SECONDS;
    const rssBefore = memory(api.pid)?.rss ?? NaN;
    for (let index = 0; index < total; index++) {
      const due = begin + (index * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      // Round robin: one user's writes are USERS/RATE seconds apart, so none overtakes another.
      const user = index % USERS;
      const title = `w${index}`;
      const taskId = Buffer.from(`Task:${taskOf.get(benchUserId(user + 1))}`).toString('base64');
      writes.push(
        post(user, { query: 'mutation($i: UpdateTaskInput!) { updateTask(input: $i) { id } }', variables: { i: { id: taskId, title } } }).then((answer) => {
          if (answer.status !== 200 || answer.text.includes('"errors"')) throw new Error(`write failed: ${answer.text.slice(0, 200)}`);
          acks.set(`${user}:${title}`, { user, at: performance.now() });
        }),
      );
    }
    await Promise.all(writes);
    await sleep(2_000);
    const rssAfter = memory(api.pid)?.rss ?? NaN;
    const delays: number[] = [];
    let lost = 0;
    for (const [key, ack] of acks) {
      const seen = arrivals.get(key) ?? [];
      const expected = SUBSCRIBERS / USERS;
      // A later write of the same task may overtake an earlier one: the feed sends the latest state,
      // so an overtaken title is not lost if a later write of the same user arrived after it.
      lost += Math.max(0, expected - seen.length);
      for (const at of seen) delays.push(Math.max(0, at - ack.at));
      void ack.user;
    }
    const sorted = Float64Array.from(delays).sort();
    const overtaken = lost;
    console.log(`
| | result |
|---|---|
| S9: catch-up on 1,000 changes, pages of 100 | median ${s9.median.toFixed(1)} ms, p95 ${s9.p95.toFixed(1)} ms (${CATCH_UPS} rounds; ${(1000 / (s9.median / 1000)).toFixed(0)} changes/s) |
| S10: write ack to event, ${SUBSCRIBERS} subscribers, ${RATE} writes/s for ${SECONDS} s | p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p95 ${percentile(sorted, 0.95).toFixed(1)} ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms |
| S10: events | ${delays.length} delivered of ${acks.size * (SUBSCRIBERS / USERS)} expected; ${overtaken} titles superseded by a later write before delivery |
| API RSS | ${(rssBefore / 2 ** 20).toFixed(0)} MB with ${SUBSCRIBERS} subscribers, ${(rssAfter / 2 ** 20).toFixed(0)} MB after the writes |
`);
    for (const stream of streams) stream.destroy();
  } finally {
    await api.stop();
    await db.end();
    await server.close();
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`bench:sync failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
