// npm run bench:layers [-- --requests N --concurrency C --rounds R]
//
// Where a request's CPU goes, layer by layer, in this one process and without HTTP: S1 and S2 as
// (1) the floor's statement through pg, (2) the compiled SQL read our resolvers send
// (src/tasks/task-sql.ts) and, for comparison, the Prisma query that answers the selections it does
// not compile, (3) the whole GraphQL request through yoga.fetch, answered by the direct task reads
// (src/execution/) and, for comparison, by graphql-js' execution, (4) the same GraphQL requests
// with the rows served from memory (yoga and plugins, without any database), and
// (5) yoga answering an empty operation ({ __typename }) with the same plugins, authentication
// included. Each cell is CPU microseconds per request (process.cpuUsage: this process only,
// PostgreSQL not included) after a warm-up. The layers run in interleaved rounds and the table shows
// the median and the lowest round: on a shared VM (steal time) a single run of a layer can be far
// off, and interleaving spreads that over every layer alike.
//
// Reads the bench database: DATABASE_URL, or the embedded one npm run bench seeds (.data/bench-postgres).
import { parseArgs } from 'node:util';
import { STATEMENTS } from './baseline.js';
import { benchTaskId, benchUserId } from './fixtures.js';
import { DOCUMENTS, globalId, JWT_AUDIENCE, JWT_ISSUER, mintTokens } from './scenarios.js';

const SECRET = 'tasks-api-bench-layers-secret-0123456789abcdef';
const USERS = 50;

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
  },
});
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
if (!(requests > 0 && concurrency > 0 && rounds > 0)) throw new Error('--requests, --concurrency and --rounds must be positive numbers');

// graphql-js and Pothos skip development-only checks in production, as the server does; graphql-js
// reads NODE_ENV once, when it is loaded, so the server's modules are imported after setting it.
process.env.NODE_ENV = 'production';
const { createApp } = await import('../src/app.js');
const { loadConfig } = await import('../src/config.js');
const { openDatabase } = await import('../src/db/database.js');
const { createPrisma } = await import('../src/db/prisma.js');
type PrismaClient = import('../src/db/prisma.js').PrismaClient;
const { scopedClients } = await import('../src/db/viewer-scope.js');
const { createStatementRunner } = await import('../src/db/compiled-statements.js');
const { compileTaskById, compileTaskPage } = await import('../src/tasks/task-sql.js');
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
  // The same documents through graphql-js' execution, as before the direct task reads (src/execution/).
  const graphqlJsConfig = { ...config, directReads: false };
  const graphqlJsYoga = createApp({ config: graphqlJsConfig, prisma, pool, logger: createLogger('warn') });
  const headers = await mintTokens(SECRET, USERS);
  const scoped = scopedClients(prisma);
  const user = (i: number) => 1 + (i % USERS);
  const taskId = (i: number) => benchTaskId(user(i), 1 + (i % 100));

  const graphql = (app: typeof yoga, query: string, variables: (i: number) => object) => async (i: number) => {
    const response = await app.fetch('http://bench/graphql', { method: 'POST', headers: headers[user(i) - 1], body: JSON.stringify({ query, variables: variables(i) }) });
    const text = await response.text();
    if (!text.startsWith('{"data"') || text.includes('"errors"')) throw new Error(`unexpected answer: ${text.slice(0, 300)}`);
    JSON.parse(text);
  };
  // What Task's select mode asks for the scenarios' fields (id title dueAt tags { id name }): its
  // always-read columns and the tags with Tag's (id, name).
  const taskSelection = {
    id: true,
    title: true,
    dueAt: true,
    completed: true,
    taskTags: { select: { tag: { select: { id: true, name: true } } }, orderBy: { tag: { name: 'asc' as const } } },
  };

  // The same server with the database taken out: S1's rows are read once, then every findMany
  // answers copies of them from memory. What remains is yoga, the plugins and Pothos' execution.
  const rowsInMemory = await scoped(benchUserId(1)).task.findMany({
    where: { completed: false },
    orderBy: [{ dueAt: { sort: 'asc', nulls: 'last' } }, { id: 'asc' }],
    take: 21,
    select: taskSelection,
  });
  // The direct reads' statement returns each task as JSON text (src/execution/): its rows, read once.
  const runStatement = createStatementRunner(pool, config.database.preparedStatements);
  let jsonRows: unknown[] = [];
  const capturing = createApp({
    config,
    prisma,
    pool,
    logger: createLogger('warn'),
    runStatement: async (statement) => {
      const rows = await runStatement(statement);
      if (statement.text.includes('AS "json"')) jsonRows = rows;
      return rows;
    },
  });
  await graphql(capturing, DOCUMENTS.S1, () => ({}))(0);
  const fromMemory = async (statement?: { text: string }) =>
    (statement?.text.includes('AS "json"') ? jsonRows : rowsInMemory).map((row) => ({ ...(row as object) }));
  const memoryDb = { task: { findMany: () => fromMemory() } };
  const memoryApp = (appConfig: typeof config) =>
    createApp({
      config: appConfig,
      prisma: { $extends: () => memoryDb } as unknown as PrismaClient,
      pool,
      logger: createLogger('warn'),
      runStatement: fromMemory as never,
    });
  const memoryYoga = memoryApp(config);
  const graphqlJsMemoryYoga = memoryApp(graphqlJsConfig);
  // What plugin-prisma hands the resolvers for the scenarios' documents.
  const s1Page = (i: number) =>
    compileTaskPage({
      viewerId: benchUserId(user(i)),
      query: { select: taskSelection, take: 21, skip: 0 },
      filter: { completed: false },
      order: [{ field: 'DUE_AT', direction: 'ASC' }],
      now: new Date(),
    })!;

  const layers: Array<[string, (i: number) => Promise<unknown>]> = [
    ['S1 floor statement (pg)', (i) => pool.query(STATEMENTS.S1, [benchUserId(user(i))])],
    ['S1 compiled SQL read', (i) => runStatement(s1Page(i))],
    ['S1 Prisma query (scoped)', (i) =>
      scoped(benchUserId(user(i))).task.findMany({ where: { completed: false }, orderBy: [{ dueAt: { sort: 'asc', nulls: 'last' } }, { id: 'asc' }], take: 21, select: taskSelection })],
    ['S1 GraphQL request', graphql(yoga, DOCUMENTS.S1, () => ({}))],
    ['S1 GraphQL request, graphql-js execution (DIRECT_READS=off)', graphql(graphqlJsYoga, DOCUMENTS.S1, () => ({}))],
    ['S1 GraphQL request, rows from memory (no database)', graphql(memoryYoga, DOCUMENTS.S1, () => ({}))],
    ['S1 GraphQL request, rows from memory, graphql-js execution', graphql(graphqlJsMemoryYoga, DOCUMENTS.S1, () => ({}))],
    ['S2 floor statement (pg)', (i) => pool.query(STATEMENTS.S2, [benchUserId(user(i)), taskId(i)])],
    ['S2 compiled SQL read', (i) => runStatement(compileTaskById(benchUserId(user(i)), taskId(i), { select: taskSelection })!)],
    ['S2 Prisma query (scoped)', (i) => scoped(benchUserId(user(i))).task.findUnique({ where: { id: taskId(i) }, select: taskSelection })],
    ['S2 GraphQL request', graphql(yoga, DOCUMENTS.S2, (i) => ({ id: globalId('Task', taskId(i)) }))],
    ['S2 GraphQL request, graphql-js execution (DIRECT_READS=off)', graphql(graphqlJsYoga, DOCUMENTS.S2, (i) => ({ id: globalId('Task', taskId(i)) }))],
    ['{ __typename } GraphQL request', graphql(yoga, '{ __typename }', () => ({}))],
  ];

  /** CPU µs per request and requests per second of `count` requests of one layer. */
  async function measure(run: (i: number) => Promise<unknown>, count: number) {
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < count) await run(next++);
    }));
    const cpu = process.cpuUsage(cpuStart);
    return { cpu: (cpu.user + cpu.system) / count, rate: count / ((performance.now() - wallStart) / 1000) };
  }

  const warmUp = Math.min(requests, 2_000);
  const perRound = Math.max(1, Math.round(requests / rounds));
  console.log(
    `CPU per request in one process: ${rounds} interleaved rounds of ${perRound} requests per layer at concurrency ${concurrency}, after ${warmUp} to warm up (${database.description})\n`,
  );
  for (const [, run] of layers) for (let i = 0; i < warmUp; i++) await run(i);
  const results = layers.map(() => ({ cpu: [] as number[], rate: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    for (const [index, [, run]] of layers.entries()) {
      const { cpu, rate } = await measure(run, perRound);
      results[index]!.cpu.push(cpu);
      results[index]!.rate.push(rate);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  console.log('| layer | CPU µs/request (median) | lowest round | requests/s (median) |\n|---|--:|--:|--:|');
  for (const [index, [name]] of layers.entries()) {
    const { cpu, rate } = results[index]!;
    console.log(`| ${name} | ${Math.round(median(cpu))} | ${Math.round(Math.min(...cpu))} | ${Math.round(median(rate))} |`);
  }
} finally {
  await close();
  await database.close();
}
