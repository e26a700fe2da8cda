// npm run bench:layers [-- --requests N --concurrency C]
//
// Where a request's CPU goes, layer by layer, in this one process and without HTTP: S1 and S2 as
// (1) the floor's statement through pg, (2) the Prisma query our resolvers send, through the
// viewer-scoped client, (3) the whole GraphQL request through yoga.fetch, and (4) yoga answering an
// empty operation ({ __typename }) with the same plugins, authentication included. Each row is CPU
// microseconds per request (process.cpuUsage: this process only, PostgreSQL not included) after a
// warm-up. CPU time barely moves when other work shares the machine, unlike requests per second.
//
// Reads the bench database: DATABASE_URL, or the embedded one npm run bench seeds (.data/bench-postgres).
import { parseArgs } from 'node:util';
import { STATEMENTS } from './baseline.js';
import { benchTaskId, benchUserId } from './fixtures.js';
import { DOCUMENTS, globalId, JWT_AUDIENCE, JWT_ISSUER, mintTokens } from './scenarios.js';

const SECRET = 'tasks-api-bench-layers-secret-0123456789abcdef';
const USERS = 50;

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '10' } },
});
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
if (!(requests > 0 && concurrency > 0)) throw new Error('--requests and --concurrency must be positive numbers');

// graphql-js and Pothos skip development-only checks in production, as the server does; graphql-js
// reads NODE_ENV once, when it is loaded, so the server's modules are imported after setting it.
process.env.NODE_ENV = 'production';
const { createApp } = await import('../src/app.js');
const { loadConfig } = await import('../src/config.js');
const { openDatabase } = await import('../src/db/database.js');
const { createPrisma } = await import('../src/db/prisma.js');
const { scopedClients } = await import('../src/db/viewer-scope.js');
const { createLogger } = await import('../src/logger.js');
const environment = {
  ...process.env,
  JWT_SECRET: SECRET,
  JWT_ISSUER,
  JWT_AUDIENCE,
  REMINDERS: 'off',
  LOG_LEVEL: 'warn',
  EMBEDDED_DATA_DIR: process.env.BENCH_EMBEDDED_DATA_DIR ?? '.data/bench-postgres',
  EMBEDDED_PORT: process.env.BENCH_EMBEDDED_PORT ?? '54330',
};
const config = loadConfig(environment);
const database = await openDatabase(config.database, (line) => console.log(line));
const { prisma, pool, close } = createPrisma(database.url, config.database);

try {
  const seeded = await pool.query('SELECT 1 FROM users WHERE id = $1', [benchUserId(USERS)]);
  if (seeded.rowCount === 0) throw new Error(`no bench data in ${database.description}: run npm run bench -- --quick first (it seeds)`);

  const yoga = createApp({ config, prisma, pool, logger: createLogger('warn') });
  const headers = await mintTokens(SECRET, USERS);
  const scoped = scopedClients(prisma);
  const user = (i: number) => 1 + (i % USERS);
  const taskId = (i: number) => benchTaskId(user(i), 1 + (i % 100));

  const graphql = (query: string, variables: (i: number) => object) => async (i: number) => {
    const response = await yoga.fetch('http://bench/graphql', { method: 'POST', headers: headers[user(i) - 1], body: JSON.stringify({ query, variables: variables(i) }) });
    const text = await response.text();
    if (!text.startsWith('{"data"') || text.includes('"errors"')) throw new Error(`unexpected answer: ${text.slice(0, 300)}`);
  };
  // What Task's select mode asks for the scenarios' fields (id title dueAt tags { id name }): its
  // always-read columns and the tags.
  const taskSelection = {
    id: true,
    title: true,
    dueAt: true,
    completed: true,
    taskTags: { select: { tag: true }, orderBy: { tag: { name: 'asc' as const } } },
  };

  const layers: Array<[string, (i: number) => Promise<unknown>]> = [
    ['S1 floor statement (pg)', (i) => pool.query(STATEMENTS.S1, [benchUserId(user(i))])],
    ['S1 Prisma query (scoped)', (i) =>
      scoped(benchUserId(user(i))).task.findMany({ where: { completed: false }, orderBy: [{ dueAt: { sort: 'asc', nulls: 'last' } }, { id: 'asc' }], take: 21, select: taskSelection })],
    ['S1 GraphQL request', graphql(DOCUMENTS.S1, () => ({}))],
    ['S2 floor statement (pg)', (i) => pool.query(STATEMENTS.S2, [benchUserId(user(i)), taskId(i)])],
    ['S2 Prisma query (scoped)', (i) => scoped(benchUserId(user(i))).task.findUnique({ where: { id: taskId(i) }, select: taskSelection })],
    ['S2 GraphQL request', graphql(DOCUMENTS.S2, (i) => ({ id: globalId('Task', taskId(i)) }))],
    ['{ __typename } GraphQL request', graphql('{ __typename }', () => ({}))],
  ];

  console.log(`CPU per request in one process, ${requests} requests at concurrency ${concurrency} after ${Math.min(requests, 2_000)} to warm up (${database.description})\n`);
  console.log('| layer | CPU µs/request | requests/s |\n|---|--:|--:|');
  for (const [name, run] of layers) {
    for (let i = 0; i < Math.min(requests, 2_000); i++) await run(i);
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < requests) await run(next++);
    }));
    const cpu = process.cpuUsage(cpuStart);
    const seconds = (performance.now() - wallStart) / 1000;
    console.log(`| ${name} | ${Math.round((cpu.user + cpu.system) / requests)} | ${Math.round(requests / seconds)} |`);
  }
} finally {
  await close();
  await database.close();
}
