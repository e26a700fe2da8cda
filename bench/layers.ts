// npm run bench:layers [-- --requests N --concurrency C --rounds R]
//
// Where a request's CPU goes, layer by layer, in this one process and without HTTP: S1 and S2 as
// (1) the floor's statement through pg, (2) the statement the API sends for the same document
// (src/reads/), (3) the whole GraphQL request through yoga.fetch, answered with one statement
// (src/execution/) and, for comparison, by graphql-js' execution with its resolvers, (4) the same
// GraphQL requests with the rows served from memory (yoga and plugins, without any database), and
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
const { createStatementRunner } = await import('../src/reads/statements.js');
const { createLogger } = await import('../src/logger.js');
type StatementInput = import('../src/reads/statements.js').StatementInput;
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
  // The same documents through graphql-js' execution and its resolvers (DIRECT_READS=off).
  const graphqlJsConfig = { ...config, directReads: false };
  const graphqlJsYoga = createApp({ config: graphqlJsConfig, prisma, pool, logger: createLogger('warn') });
  const headers = await mintTokens(SECRET, USERS);
  const user = (i: number) => 1 + (i % USERS);
  const taskId = (i: number) => benchTaskId(user(i), 1 + (i % 100));

  const graphql = (app: typeof yoga, query: string, variables: (i: number) => object) => async (i: number) => {
    const response = await app.fetch('http://bench/graphql', { method: 'POST', headers: headers[user(i) - 1], body: JSON.stringify({ query, variables: variables(i) }) });
    const text = await response.text();
    if (!text.startsWith('{"data"') || text.includes('"errors"')) throw new Error(`unexpected answer: ${text.slice(0, 300)}`);
    JSON.parse(text);
  };

  // Each scenario's statements as the server sends them, captured once, and their rows: the layers
  // below replay the statement on pg alone, and serve the rows from memory (no database at all).
  const runStatement = createStatementRunner(pool, config.database.preparedStatements);
  const captured = new Map<string, { statement: StatementInput; rows: Record<string, unknown>[] }>();
  let capturing = '';
  const capturingApp = (appConfig: typeof config) =>
    createApp({
      config: appConfig,
      prisma,
      pool,
      logger: createLogger('warn'),
      runStatement: async (statement) => {
        const rows = await runStatement(statement);
        captured.set(`${capturing}:${captured.size}`, { statement, rows });
        return rows;
      },
    });
  const capture = async (name: string, appConfig: typeof config, query: string, variables: object) => {
    capturing = name;
    await graphql(capturingApp(appConfig), query, () => variables)(0);
    return [...captured.entries()].filter(([key]) => key.startsWith(`${name}:`)).map(([, value]) => value);
  };
  const [s1Statement] = await capture('S1', config, DOCUMENTS.S1, {});
  const s2Variables = { id: globalId('Task', taskId(0)) };
  const [s2Statement] = await capture('S2', config, DOCUMENTS.S2, s2Variables);
  const s1Resolved = await capture('S1 resolved', graphqlJsConfig, DOCUMENTS.S1, {});
  const fromMemory = (all: typeof s1Resolved) => {
    const byText = new Map(all.map(({ statement, rows }) => [statement.text, rows]));
    return async (statement: StatementInput) => (byText.get(statement.text) ?? []).map((row) => ({ ...row }));
  };
  const memoryApp = (appConfig: typeof config, all: typeof s1Resolved) =>
    createApp({ config: appConfig, prisma, pool, logger: createLogger('warn'), runStatement: fromMemory(all) });
  const memoryYoga = memoryApp(config, [s1Statement!]);
  const graphqlJsMemoryYoga = memoryApp(graphqlJsConfig, s1Resolved);
  const replay = ({ statement }: { statement: StatementInput }, values: (i: number) => unknown[]) => (i: number) => runStatement({ ...statement, values: values(i) });

  const layers: Array<[string, (i: number) => Promise<unknown>]> = [
    ['S1 floor statement (pg)', (i) => pool.query(STATEMENTS.S1, [benchUserId(user(i))])],
    ['S1 the API\'s statement (pg)', replay(s1Statement!, (i) => s1Statement!.statement.values.map((value) => (value === benchUserId(1) ? benchUserId(user(i)) : value)))],
    ['S1 GraphQL request', graphql(yoga, DOCUMENTS.S1, () => ({}))],
    ['S1 GraphQL request, graphql-js execution (DIRECT_READS=off)', graphql(graphqlJsYoga, DOCUMENTS.S1, () => ({}))],
    ['S1 GraphQL request, rows from memory (no database)', graphql(memoryYoga, DOCUMENTS.S1, () => ({}))],
    ['S1 GraphQL request, rows from memory, graphql-js execution', graphql(graphqlJsMemoryYoga, DOCUMENTS.S1, () => ({}))],
    ['S2 floor statement (pg)', (i) => pool.query(STATEMENTS.S2, [benchUserId(user(i)), taskId(i)])],
    ['S2 the API\'s statement (pg)', replay(s2Statement!, (i) => s2Statement!.statement.values.map((value) => (value === benchUserId(1) ? benchUserId(user(i)) : value === taskId(0) ? taskId(i) : value)))],
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
