// npm run bench:webhooks: how fast a backlog of webhook deliveries drains, with the worker as
// `npm start` runs it (the production build, REMINDERS on) and a fast receiver on loopback that checks
// every signature. Two backlogs of --deliveries (10,000) each: all for one webhook (sent one by one,
// in order) and spread over --webhooks (10) users' webhooks (sent side by side).
// Uses its own database (webhooks_bench) on the bench's PostgreSQL: DATABASE_URL's server, or the
// embedded one.
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { freshDatabase } from './databases.js';
import { buildForProduction, memory, productionCommand, startTarget } from './processes.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECRET = 'tasks-api-bench-secret-not-for-production-use-0123456789';
const HOOK_SECRET = 'whsec_bench';
const { values: args } = parseArgs({ options: { deliveries: { type: 'string', default: '10000' }, webhooks: { type: 'string', default: '10' } } });
const DELIVERIES = Number(args.deliveries);
const WEBHOOKS = Number(args.webhooks);
const progress = (line: string) => console.error(`[bench:webhooks] ${line}`);

/** A receiver that answers 200 to every correctly signed delivery and counts distinct delivery ids. */
async function startReceiver() {
  const seen = new Set<string>();
  let first = 0;
  let last = 0;
  let badSignatures = 0;
  let waiter: { count: number; done: () => void } | undefined;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const expected = `sha256=${createHmac('sha256', HOOK_SECRET).update(`${request.headers['x-tasks-timestamp']}.${body}`).digest('hex')}`;
      if (request.headers['x-tasks-signature'] !== expected) badSignatures += 1;
      seen.add(String(request.headers['x-tasks-delivery']));
      last = performance.now();
      first ||= last;
      response.writeHead(200).end();
      if (waiter && seen.size >= waiter.count) waiter.done();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    reset() {
      seen.clear();
      first = last = 0;
    },
    until: (count: number, timeoutMs: number) =>
      new Promise<void>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`only ${seen.size} of ${count} deliveries after ${timeoutMs} ms`)), timeoutMs);
        waiter = { count, done: () => (clearTimeout(timer), done()) };
        if (seen.size >= count) waiter.done();
      }),
    stats: () => ({ distinct: seen.size, seconds: (last - first) / 1000, badSignatures }),
    close: () => server.close(),
  };
}

async function main() {
  const environment = { ...process.env, EMBEDDED_DATA_DIR: process.env.BENCH_EMBEDDED_DATA_DIR ?? '.data/bench-postgres', EMBEDDED_PORT: process.env.BENCH_EMBEDDED_PORT ?? '54330' };
  const config = loadConfig({ ...environment, JWT_SECRET: SECRET, NODE_ENV: 'development' });
  const server = await openDatabase(config.database, progress);
  const url = await freshDatabase(server.url, 'webhooks_bench');
  await migrate(url, { log: progress });
  const receiver = await startReceiver();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  await buildForProduction(ROOT, 180_000);
  const production = productionCommand(ROOT);
  const results: string[] = [];

  /** Queues DELIVERIES task.created deliveries over `webhooks` users (one webhook each), with no worker running. */
  async function backlog(webhooks: number): Promise<void> {
    await db.query('TRUNCATE users CASCADE');
    await db.query(`INSERT INTO users (email) SELECT 'hook-' || n || '@example.com' FROM generate_series(1, $1::int) n`, [webhooks]);
    await db.query(`INSERT INTO webhooks (user_id, url, events, secret) SELECT id, $1, '{task.created}', $2 FROM users`, [receiver.url, HOOK_SECRET]);
    // One task per statement and transaction, as the API writes them: each its own change number.
    const perUser = DELIVERIES / webhooks;
    progress(`queueing ${DELIVERIES} deliveries over ${webhooks} webhook(s)`);
    for (let index = 0; index < perUser; index += 1) {
      await db.query(
        `INSERT INTO tasks (user_id, title, list_id, position)
         SELECT l.user_id, 'task ' || $1::int, l.id, 'a' || lpad($1::text, 6, '0') FROM lists l WHERE l.is_inbox`,
        [index],
      );
    }
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries');
    if (rows[0]!.n !== DELIVERIES) throw new Error(`expected ${DELIVERIES} queued deliveries, found ${rows[0]!.n}`);
  }

  try {
    for (const webhooks of [1, WEBHOOKS]) {
      await backlog(webhooks);
      receiver.reset();
      progress('starting the server as npm start runs it; its worker drains the queue');
      const api = await startTarget({
        name: 'api',
        script: production.script,
        tsx: false,
        nodeFlags: production.flags,
        env: { ...environment, DATABASE_URL: url, NODE_ENV: 'production', JWT_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'on', LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', REDIS_URL: '' },
        cwd: ROOT,
        readyPath: '/healthz',
        timeoutMs: 60_000,
        log: progress,
      });
      try {
        await receiver.until(DELIVERIES, 300_000);
        const { distinct, seconds, badSignatures } = receiver.stats();
        const rss = memory(api.pid)?.rss ?? NaN;
        results.push(
          `| ${DELIVERIES} deliveries to ${webhooks === 1 ? 'one webhook (in order, one at a time)' : `${webhooks} webhooks (side by side)`} | ${seconds.toFixed(1)} s | ${(distinct / seconds).toFixed(0)}/s | ${badSignatures} | ${(rss / 2 ** 20).toFixed(0)} MB |`,
        );
        progress(results.at(-1)!);
      } finally {
        await api.stop();
      }
    }
    console.log(`
| backlog | first to last delivery | rate | bad signatures | API RSS after |
|---|---|---|---|---|
${results.join('\n')}
`);
  } finally {
    receiver.close();
    await db.end();
    await server.close();
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`bench:webhooks failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
