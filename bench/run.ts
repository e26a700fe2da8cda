// npm run bench [-- --quick] [--users N --tasks-per-user M] [--connections C] [--duration S]
//                          [--scenarios S1,S2,...] [--pool P] [--profile]
//
// Seeds the database if needed (bench/seed.ts), builds and starts the API as npm start runs it
// (dist/main.js with package.json's node flags, production mode) and the floor (bench/baseline.ts)
// as child processes on loopback, drives each scenario against both with autocannon (S6: a paced
// open-loop driver, see bench/measure.ts), and prints and writes to bench/results/ a table of
// throughput, latency percentiles, errors, SQL statements per request, server CPU and peak RSS, with
// the API's throughput and p95 as ratios of the floor's.
//
// Database: DATABASE_URL when set, otherwise an embedded PostgreSQL of its own (.data/bench-postgres,
// port 54330) so that the development data (.data/postgres) is never touched.
//
// Helpers: scenarios.ts (requests per scenario and target), measure.ts (load drivers, percentiles),
// processes.ts (children, /proc), report.ts (table, targets, files), profile.ts (--profile summary),
// statement-counter.mjs (preloaded into the children), reaper.ts (stops the embedded database if this
// process is killed before it can).
import { arch, availableParallelism, cpus, loadavg, platform, totalmem } from 'node:os';
import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { BENCH_EMAIL_PATTERN, benchTaskId, benchUserId } from './fixtures.js';
import { restoreSeededData } from './restore.js';
import { errorsOf, percentile, runClosedLoop, runPaced, type LoadResult, type Window } from './measure.js';
import {
  CLOCK_TICKS,
  buildForProduction,
  cpuTicks,
  killAllChildrenNow,
  memory,
  postgresTicks,
  postgresTicksBetween,
  postmasterPid,
  productionCommand,
  runScript,
  startTarget,
  type Target,
} from './processes.js';
import { summariseProfile } from './profile.js';
import { addRatios, evaluate, formatChecks, table, writeReport, type Report, type Row } from './report.js';
import {
  JWT_AUDIENCE,
  JWT_ISSUER,
  SCENARIOS,
  completeWorkload,
  mintTokens,
  mixedWorkload,
  random,
  simpleWorkload,
  type BenchContext,
  type OpenRecurringTask,
  type ScenarioName,
  type TargetKind,
  type Workload,
} from './scenarios.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const BENCH_SECRET = 'tasks-api-bench-secret-not-for-production-use-0123456789';
const EMBEDDED_DATA_DIR = '.data/bench-postgres';
const EMBEDDED_PORT = '54330';
const DEFAULT_USERS = 2_000;
const DEFAULT_TASKS_PER_USER = 100;
const MAX_ROTATED_USERS = 1_000;
const REQUEST_TIMEOUT_SECONDS = 10;

const USAGE = `usage: npm run bench -- [--quick] [--users N --tasks-per-user M] [--connections C] [--duration S]
                        [--scenarios S1,S2,...] [--pool P] [--warmup S] [--profile]
                        [--s6-connections C] [--s6-rate R] [--s6-duration S] [--s6-floor]
  --quick             small run (5 s per scenario, S6 10 s at 500 req/s on 200 connections), under 3 minutes
  --users/--tasks-per-user  the data size (seeded, with --reset if the database holds another size); default
                      whatever is seeded, or ${DEFAULT_USERS} x ${DEFAULT_TASKS_PER_USER} when nothing is
  --connections C     closed-loop connections for S1-S5 (default 50)
  --duration S        measured seconds per scenario and target for S1-S5 (default 15, quick 5)
  --scenarios         which of S1..S6 to run (default all)
  --pool P            DATABASE_POOL_SIZE of the API and the floor (default 20)
  --profile           run the API with --cpu-prof (bench/results/latest.cpuprofile) and summarise S1's samples
  --s6-*              S6: connections (default 1000, quick 200), rate (500 req/s), seconds (30, quick 10);
                      --s6-floor also drives the floor in S6 with --quick (the full run always does)`;

class UsageError extends Error {}

interface Options {
  quick: boolean;
  users?: number;
  tasksPerUser?: number;
  connections: number;
  duration: number;
  warmup: number;
  scenarios: ScenarioName[];
  pool: number;
  profile: boolean;
  /** Durations, connections, scenarios or S6 settings other than the mode's. */
  custom: boolean;
  /** Also drive the floor in S6 (always in the full run; --s6-floor with --quick). */
  s6Floor: boolean;
  s6Connections: number;
  s6Rate: number;
  s6Duration: number;
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        users: { type: 'string' },
        'tasks-per-user': { type: 'string' },
        connections: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        scenarios: { type: 'string' },
        pool: { type: 'string' },
        profile: { type: 'boolean', default: false },
        's6-floor': { type: 'boolean', default: false },
        's6-connections': { type: 'string' },
        's6-rate': { type: 'string' },
        's6-duration': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) throw new UsageError(USAGE);
  const quick = values.quick;
  const int = (name: string, value: string | undefined, fallback: number | undefined, min: number, max: number) => {
    if (value === undefined) return fallback;
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}\n${USAGE}`);
    return number;
  };
  const scenarios = values.scenarios
    ? values.scenarios.split(',').map((name) => name.trim().toUpperCase())
    : [...SCENARIOS];
  for (const name of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new UsageError(`unknown scenario ${name}; choose from ${SCENARIOS.join(',')}\n${USAGE}`);
  }
  return {
    quick,
    users: int('users', values.users, undefined, 1, 100_000_000),
    tasksPerUser: int('tasks-per-user', values['tasks-per-user'], undefined, 0, 1_000_000),
    connections: int('connections', values.connections, 50, 1, 10_000)!,
    duration: int('duration', values.duration, quick ? 5 : 15, 1, 3_600)!,
    warmup: int('warmup', values.warmup, 2, 0, 600)!,
    scenarios: SCENARIOS.filter((name) => scenarios.includes(name)),
    pool: int('pool', values.pool, 20, 1, 200)!,
    profile: values.profile,
    s6Floor: !quick || values['s6-floor'],
    custom: ['connections', 'duration', 'warmup', 'scenarios', 's6-connections', 's6-rate', 's6-duration'].some(
      (name) => values[name as keyof typeof values] !== undefined,
    ),
    s6Connections: int('s6-connections', values['s6-connections'], quick ? 200 : 1_000, 1, 10_000)!,
    s6Rate: int('s6-rate', values['s6-rate'], 500, 1, 100_000)!,
    s6Duration: int('s6-duration', values['s6-duration'], quick ? 10 : 30, 1, 3_600)!,
  };
}

// ---------------------------------------------------------------------------------------------
// Progress, clean-up and the overall time bound

const started = performance.now();
const progress = (line: string) => {
  const seconds = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  console.error(`[${seconds}s] ${line}`);
};

const cleanups: Array<() => Promise<void>> = [];
let cleaningUp: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: Error) => progress(`clean-up: ${error.message}`));
    }
  })();
  return cleaningUp;
}

function abort(reason: string, code: number): void {
  progress(reason);
  const hard = setTimeout(() => {
    killAllChildrenNow();
    process.exit(code);
  }, 30_000);
  hard.unref();
  void cleanUp().finally(() => process.exit(code));
}

// `on`, not `once`: Ctrl-C reaches us twice (from the terminal and relayed by the tsx CLI), and an
// unhandled second SIGINT would kill the runner before the database is stopped.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    abort(`${signal}: stopping the children and the database`, 130);
  });
}

// ---------------------------------------------------------------------------------------------
// The database and its seed

interface Shape {
  users: number;
  tasksPerUser: number;
  consistent: boolean;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, statement_timeout: 60_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** What bench/seed.ts left in the database, or null when there are no bench users (or no schema). */
async function seededShape(url: string): Promise<Shape | null> {
  return withClient(url, async (client) => {
    const { rows: schema } = await client.query<{ users: string | null }>(`SELECT to_regclass('public.users')::text AS users`);
    if (!schema[0]?.users) return null;
    const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM users WHERE email LIKE $1', [BENCH_EMAIL_PATTERN]);
    const users = Number(rows[0]?.count ?? 0);
    if (users === 0) return null;
    const taskExists = async (id: string) => (await client.query('SELECT 1 FROM tasks WHERE id = $1', [id])).rowCount === 1;
    const userExists = async (id: string) => (await client.query('SELECT 1 FROM users WHERE id = $1', [id])).rowCount === 1;
    // Seeded tasks of user 1 are bench-task-1-1 .. bench-task-1-M: find M by doubling, then bisection.
    let tasksPerUser = 0;
    if (await taskExists(benchTaskId(1, 1))) {
      let low = 1;
      let high = 2;
      while (high <= 10_000_000 && (await taskExists(benchTaskId(1, high)))) {
        low = high;
        high *= 2;
      }
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (await taskExists(benchTaskId(1, middle))) low = middle;
        else high = middle;
      }
      tasksPerUser = low;
    }
    const consistent =
      (await userExists(benchUserId(users))) &&
      !(await userExists(benchUserId(users + 1))) &&
      (tasksPerUser === 0 || (await taskExists(benchTaskId(users, tasksPerUser))));
    return { users, tasksPerUser, consistent };
  });
}

async function ensureSeeded(url: string, options: Options, env: NodeJS.ProcessEnv): Promise<{ users: number; tasksPerUser: number }> {
  const asked = options.users !== undefined || options.tasksPerUser !== undefined;
  const wanted = { users: options.users ?? DEFAULT_USERS, tasksPerUser: options.tasksPerUser ?? DEFAULT_TASKS_PER_USER };
  const shape = await seededShape(url);
  let reset = false;
  if (!shape) {
    progress(`no bench data in the database: seeding ${wanted.users} users x ${wanted.tasksPerUser} tasks`);
  } else if (shape.users < wanted.users && shape.tasksPerUser === wanted.tasksPerUser) {
    progress(`the database holds ${shape.users} of ${wanted.users} bench users x ${wanted.tasksPerUser} tasks (an interrupted seed?): seeding the rest`);
  } else if (!shape.consistent) {
    reset = true;
    progress(`the bench data looks incomplete (${shape.users} bench users, user 1 has ${shape.tasksPerUser} seeded tasks; an interrupted seed?)`);
    progress(`RESEEDING WITH --reset: truncating users, tags and tasks, then seeding ${wanted.users} x ${wanted.tasksPerUser}`);
  } else if (asked && (shape.users !== wanted.users || shape.tasksPerUser !== wanted.tasksPerUser)) {
    reset = true;
    progress(`the database holds ${shape.users} bench users x ${shape.tasksPerUser} tasks, but ${wanted.users} x ${wanted.tasksPerUser} were asked for`);
    progress(`RESEEDING WITH --reset: truncating users, tags and tasks, then seeding ${wanted.users} x ${wanted.tasksPerUser}`);
  } else {
    progress(`already seeded: ${shape.users} bench users x ${shape.tasksPerUser} tasks`);
    return { users: shape.users, tasksPerUser: shape.tasksPerUser };
  }
  await runScript({
    name: 'seed',
    script: 'bench/seed.ts',
    args: ['--users', String(wanted.users), '--tasks-per-user', String(wanted.tasksPerUser), ...(reset ? ['--reset'] : [])],
    env,
    cwd: ROOT,
    // It reports each batch of up to 500,000 tasks; a batch of that size took up to 9 minutes on a
    // 2-core VM.
    silenceMs: 30 * 60_000,
    log: progress,
  });
  return wanted;
}

/** The Inbox of each rotated user, in user order. */
async function inboxesOf(url: string, rotated: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const users = Array.from({ length: rotated }, (_, index) => benchUserId(index + 1));
    const { rows } = await client.query<{ user_id: string; id: string }>('SELECT user_id, id FROM lists WHERE is_inbox AND user_id = ANY($1::uuid[])', [users]);
    const byUser = new Map(rows.map((row) => [row.user_id, row.id]));
    return users.map((user) => byUser.get(user) ?? '00000000-0000-0000-0000-000000000000');
  } finally {
    await client.end();
  }
}

/** Open recurring tasks of the rotated users, shuffled, split into two disjoint halves. */
async function openRecurringTasks(url: string, rotated: number): Promise<Record<TargetKind, OpenRecurringTask[]>> {
  const owners = new Map<string, number>();
  for (let n = 1; n <= rotated; n++) owners.set(benchUserId(n), n);
  const { rows } = await withClient(url, (client) =>
    client.query<{ id: string; user_id: string }>(
      'SELECT id, user_id FROM tasks WHERE recurrence IS NOT NULL AND NOT completed AND user_id = ANY($1::uuid[])',
      [[...owners.keys()]],
    ),
  );
  const tasks = rows.map((row) => ({ id: row.id, owner: owners.get(row.user_id)! }));
  const pick = random(1_234);
  for (let index = tasks.length - 1; index > 0; index--) {
    const other = Math.floor(pick() * (index + 1));
    [tasks[index], tasks[other]] = [tasks[other]!, tasks[index]!];
  }
  return { api: tasks.filter((_, index) => index % 2 === 0), floor: tasks.filter((_, index) => index % 2 === 1) };
}

/**
 * As root, the embedded server runs as the `postgres` user, which must be able to reach its data
 * directory: src/db/embedded-postgres.ts creates the missing parents (.data) with mode 0700 owned by
 * root, which postgres cannot traverse, and initdb then fails on a fresh clone. Create them 0755
 * first (and let others traverse a .data left at 0700 by such a failed start).
 */
async function makeParentsTraversable(dataDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const parent = dirname(resolve(ROOT, dataDir));
  await mkdir(parent, { recursive: true, mode: 0o755 });
  for (let directory = parent; directory.startsWith(ROOT) && directory !== ROOT; directory = dirname(directory)) {
    const { mode } = await stat(directory);
    if ((mode & 0o001) === 0) await chmod(directory, (mode & 0o7777) | 0o011);
  }
}

/** bench/reaper.ts: stops the embedded server should this process be killed before it can. */
async function startReaper(clusterDir: string): Promise<void> {
  const { pg_ctl: pgCtl } = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { pg_ctl: string };
  const owner =
    process.getuid?.() === 0 ? ['-u', '-g'].map((flag) => execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()) : [];
  const reaper = spawn(process.execPath, ['--import', 'tsx', 'bench/reaper.ts', pgCtl, clusterDir, ...owner], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  reaper.unref();
  reaper.channel?.unref();
  cleanups.push(async () => {
    if (reaper.connected) reaper.send('done');
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring one scenario against one target

async function readStatementMetric(origin: string): Promise<number | null> {
  try {
    const response = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return null;
    const match = /^tasks_api_db_statements_total(?:\{[^}]*\})? (\S+)$/m.exec(await response.text());
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

interface Measured {
  row: Row;
  /** process.hrtime in µs: the window, for the CPU profile. */
  window: [number, number];
}

async function measure(
  scenario: ScenarioName,
  kind: TargetKind,
  target: Target,
  load: (window: Window) => Promise<LoadResult>,
  shape: { connections: number; rate?: number },
  /** The embedded server's postmaster, for the database's CPU; null with DATABASE_URL. */
  postmaster: number | null,
): Promise<Measured> {
  let wallStart = 0;
  let wallEnd = 0;
  let hrStart = 0;
  let hrEnd = 0;
  let cpuStart: number | null = null;
  let cpuEnd: number | null = null;
  let dbStart = new Map<number, number>();
  let dbEnd = new Map<number, number>();
  let loadgenStart = process.cpuUsage();
  let loadgenEnd = loadgenStart;
  let peakRss = 0;
  const statements = { metric: [null, null] as (number | null)[], counter: [null, null] as (number | null)[] };
  const sample = () => {
    const rss = memory(target.pid)?.rss;
    if (rss && rss > peakRss) peakRss = rss;
  };
  let sampler: NodeJS.Timeout | undefined;
  const readStatements = async (index: 0 | 1) => {
    if (kind !== 'api') return;
    const [metric, counter] = await Promise.all([readStatementMetric(target.origin), target.statements()]);
    statements.metric[index] = metric;
    statements.counter[index] = counter;
  };
  const paced = shape.rate !== undefined;
  const window: Window = {
    async open() {
      wallStart = performance.now();
      hrStart = Number(process.hrtime.bigint() / 1000n);
      cpuStart = cpuTicks(target.pid);
      if (postmaster) dbStart = postgresTicks(postmaster);
      loadgenStart = process.cpuUsage();
      sample();
      sampler = setInterval(sample, 250);
      await readStatements(0);
    },
    async close() {
      wallEnd = performance.now();
      hrEnd = Number(process.hrtime.bigint() / 1000n);
      cpuEnd = cpuTicks(target.pid);
      if (postmaster) dbEnd = postgresTicks(postmaster);
      loadgenEnd = process.cpuUsage(loadgenStart);
      clearInterval(sampler);
      sample();
      if (!paced) await readStatements(1);
    },
    async settled() {
      await readStatements(1);
    },
  };
  const result = await load(window);
  const wallSeconds = (wallEnd - wallStart) / 1000;
  const percent = (start: number | null, end: number | null) =>
    start === null || end === null || wallSeconds <= 0 ? null : (100 * (end - start)) / CLOCK_TICKS / wallSeconds;

  let sqlPerRequest: number | null = null;
  let sqlSource: Row['sqlSource'] = null;
  if (kind === 'floor') {
    sqlPerRequest = 1;
    sqlSource = 'by construction';
  } else if (result.statementResponses > 0) {
    const [metricStart, metricEnd] = statements.metric;
    const [counterStart, counterEnd] = statements.counter;
    if (metricStart != null && metricEnd != null && metricEnd > metricStart) {
      sqlPerRequest = (metricEnd - metricStart) / result.statementResponses;
      sqlSource = 'metric';
    } else if (counterStart != null && counterEnd != null && counterEnd > counterStart) {
      sqlPerRequest = (counterEnd - counterStart) / result.statementResponses;
      sqlSource = 'pg counter';
    }
  }
  const row: Row = {
    scenario,
    target: kind,
    connections: shape.connections,
    ...(shape.rate ? { rate: shape.rate } : {}),
    seconds: Math.round(result.seconds * 100) / 100,
    requests: result.responses,
    // Paced: what the target actually answered per second in the window (a backlog answered later does not count).
    rps: (result.answeredInWindow ?? result.responses) / result.seconds,
    p50: percentile(result.latencies, 0.5),
    p95: percentile(result.latencies, 0.95),
    p99: percentile(result.latencies, 0.99),
    errors: errorsOf(result),
    errorDetail: { non2xx: result.non2xx, socket: result.socketErrors, timeouts: result.timeouts, body: result.bodyErrors, statusCodes: result.statusCodes },
    sqlPerRequest,
    sqlSource,
    cpuPercent: percent(cpuStart, cpuEnd),
    peakRssMb: peakRss > 0 ? peakRss / 1024 / 1024 : null,
    dbCpuPercent: postmaster && dbEnd.size > 0 ? percent(0, postgresTicksBetween(dbStart, dbEnd)) : null,
    loadgenCpuPercent: wallSeconds > 0 ? (loadgenEnd.user + loadgenEnd.system) / 1e4 / wallSeconds : 0,
  };
  if (result.scheduled !== undefined) {
    row.notes = [
      `${result.scheduled} requests due in the window, largest backlog of unsent requests ${result.maxBacklog}` +
        (result.unanswered ? `, ${result.unanswered} still unanswered ${REQUEST_TIMEOUT_SECONDS + 2} s after the window (counted as timeouts)` : ''),
    ];
  }
  return { row, window: [hrStart, hrEnd] };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg().map((value) => value.toFixed(2)).join(' ');
  const usesUrl = Boolean(process.env.DATABASE_URL);

  const environment = {
    ...process.env,
    JWT_SECRET: BENCH_SECRET,
    EMBEDDED_DATA_DIR: process.env.BENCH_EMBEDDED_DATA_DIR ?? EMBEDDED_DATA_DIR,
    EMBEDDED_PORT: process.env.BENCH_EMBEDDED_PORT ?? EMBEDDED_PORT,
  };
  progress(usesUrl ? 'database: DATABASE_URL' : `database: embedded PostgreSQL in ${environment.EMBEDDED_DATA_DIR} on port ${environment.EMBEDDED_PORT}`);
  const config = loadConfig({ ...environment, NODE_ENV: 'development' });
  if (!usesUrl) await makeParentsTraversable(config.database.embedded.dataDir);
  const database: Database = await openDatabase(config.database, progress);
  if (!usesUrl) await startReaper(join(resolve(ROOT, config.database.embedded.dataDir), 'cluster'));
  cleanups.push(async () => {
    progress('closing the database');
    await database.close();
  });
  progress(`database ready: ${database.description}`);

  const childEnvironment: NodeJS.ProcessEnv = {
    ...environment,
    DATABASE_URL: database.url,
  };
  const size = await ensureSeeded(database.url, options, childEnvironment);
  // After the seed, which stops only when it stops reporting progress, the run is bounded in time
  // as a whole: every step has its own bound too; this catches the unforeseen.
  const runs = options.scenarios.length * 2;
  const budgetSeconds = 240 + runs * (options.warmup + Math.max(options.duration, options.s6Duration) + 25) + (size.users * size.tasksPerUser / 1e6) * 180;
  const watchdog = setTimeout(() => abort(`the benchmark exceeded its time bound of ${Math.round(budgetSeconds)} s after the seed: giving up`, 1), budgetSeconds * 1000);
  watchdog.unref();
  progress('restoring the seeded data (what earlier runs wrote)');
  const restored = await restoreSeededData(database.url);
  progress(`restored: ${restored.deleted} tasks created by earlier runs deleted, ${restored.reopened} completed recurring tasks reopened`);
  // A database seeded by an earlier release: its pending migrations (and their backfills) run here,
  // timed, rather than in the API's start-up.
  const started = Date.now();
  const applied = await migrate(database.url, { log: progress });
  if (applied.length > 0) progress(`migrated in ${Math.round((Date.now() - started) / 1000)} s`);
  const rotated = Math.min(size.users, MAX_ROTATED_USERS);
  const bench: BenchContext = {
    users: size.users,
    tasksPerUser: size.tasksPerUser,
    rotated,
    headers: await mintTokens(BENCH_SECRET, rotated),
    inboxes: await inboxesOf(database.url, rotated),
  };
  progress(`minted ${rotated} tokens (bench users 1..${rotated})`);
  const taskEstimate = await withClient(database.url, async (client) => {
    const { rows } = await client.query<{ tasks: string }>(`SELECT reltuples::bigint AS tasks FROM pg_class WHERE oid = 'public.tasks'::regclass`);
    return Number(rows[0]?.tasks ?? 0);
  });

  // The children: both in production mode, same secret and pool size, loopback only.
  const targetEnvironment: NodeJS.ProcessEnv = {
    ...childEnvironment,
    NODE_ENV: 'production',
    JWT_SECRET: BENCH_SECRET,
    JWT_ISSUER,
    JWT_AUDIENCE,
    REMINDERS: 'off',
    LOG_LEVEL: 'warn',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_POOL_SIZE: String(options.pool),
  };
  for (const name of ['JWT_JWKS_URL', 'JWT_JWKS_ISSUER', 'JWT_JWKS_AUDIENCE', 'REDIS_URL']) delete targetEnvironment[name];
  // Without a fixed --cpu-prof-name: any worker thread (e.g. tsx's module loader) writes a profile
  // of its own, which would overwrite the main thread's under one name.
  const profileName = 'latest.cpuprofile';
  const profileDir = join(RESULTS_DIR, `.cpu-prof-${process.pid}`);
  const counter = './bench/statement-counter.mjs';
  // The API as production runs it (npm start): compiled to dist/, with the same node flags.
  const production = productionCommand(ROOT);
  progress('building dist/ (npm run build)');
  await buildForProduction(ROOT, 180_000);
  progress(
    `starting the API (node ${[...production.flags, production.script].join(' ')}) and the floor (bench/baseline.ts), pool ${options.pool}${options.profile ? ', API with --cpu-prof' : ''}`,
  );
  const [api, floor] = await Promise.all([
    startTarget({
      name: 'api',
      script: production.script,
      tsx: false,
      env: targetEnvironment,
      cwd: ROOT,
      imports: [counter],
      nodeFlags: [...production.flags, ...(options.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
      readyPath: '/healthz',
      timeoutMs: 120_000,
      log: progress,
    }),
    startTarget({ name: 'floor', script: 'bench/baseline.ts', env: targetEnvironment, cwd: ROOT, imports: [counter], timeoutMs: 60_000, log: progress }),
  ]);
  const targets: Record<TargetKind, Target> = { api, floor };
  cleanups.push(async () => {
    progress('stopping the API and the floor');
    await Promise.all([api.stop(), floor.stop()]);
  });
  progress(`API at ${api.origin}/graphql (pid ${api.pid}), floor at ${floor.origin}/ (pid ${floor.pid})`);
  const rssAfterStart = { api: memory(api.pid)?.rss ?? NaN, floor: memory(floor.pid)?.rss ?? NaN };

  const postmaster = usesUrl ? null : postmasterPid(join(resolve(ROOT, config.database.embedded.dataDir), 'cluster'));
  const rows: Row[] = [];
  const notes: string[] = [];
  const profileWindows: Array<[number, number]> = [];
  const allApiWindows: Array<[number, number]> = [];
  let recurring: Record<TargetKind, OpenRecurringTask[]> | undefined;

  for (const scenario of options.scenarios) {
    for (const kind of ['api', 'floor'] as const) {
      if (scenario === 'S6' && kind === 'floor' && !options.s6Floor) continue;
      const target = targets[kind];
      for (const [name, child] of Object.entries(targets)) {
        if (child.child.exitCode !== null || child.child.signalCode !== null) throw new Error(`${name} has exited:\n${child.tail()}`);
      }
      let workload: Workload;
      if (scenario === 'S4') {
        recurring ??= await openRecurringTasks(database.url, rotated);
        if (recurring[kind].length === 0) {
          notes.push(`S4 ${kind}: skipped, the rotated users have no open recurring tasks`);
          progress(`S4 ${kind}: skipped (no open recurring tasks)`);
          continue;
        }
        if (kind === 'api') progress(`S4: ${recurring.api.length} + ${recurring.floor.length} open recurring tasks (disjoint halves for API and floor)`);
        workload = completeWorkload(kind, recurring[kind], bench);
      } else if (scenario === 'S6') {
        workload = mixedWorkload(kind, bench);
      } else {
        workload = simpleWorkload(scenario, kind, bench);
      }
      const paced = scenario === 'S6';
      const connections = paced ? options.s6Connections : options.connections;
      const seconds = paced ? options.s6Duration : options.duration;
      progress(
        `${scenario} ${kind}: ${paced ? `${connections} connections at ${options.s6Rate} req/s` : `${connections} connections`}, ${options.warmup} s warm-up + ${seconds} s`,
      );
      try {
        const measured = await measure(
          scenario,
          kind,
          target,
          (window) =>
            paced
              ? runPaced({ origin: target.origin, workload, connections, rate: options.s6Rate, warmupSeconds: options.warmup, seconds, timeoutSeconds: REQUEST_TIMEOUT_SECONDS, window })
              : runClosedLoop({ origin: target.origin, workload, connections, warmupSeconds: options.warmup, seconds, timeoutSeconds: REQUEST_TIMEOUT_SECONDS, window }),
          { connections, ...(paced ? { rate: options.s6Rate } : {}) },
          postmaster,
        );
        const { row } = measured;
        rows.push(row);
        notes.push(...workload.notes());
        if (kind === 'api') {
          allApiWindows.push(measured.window);
          if (scenario === 'S1') profileWindows.push(measured.window);
        }
        const detail = row.errors > 0 ? ` (${JSON.stringify(row.errorDetail)})` : '';
        progress(
          `${scenario} ${kind}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50.toFixed(1)} / p95 ${row.p95.toFixed(1)} / p99 ${row.p99.toFixed(1)} ms, ` +
            `${row.errors} errors${detail}, CPU ${row.cpuPercent?.toFixed(0) ?? '–'}%, RSS ${row.peakRssMb?.toFixed(0) ?? '–'} MB`,
        );
        if (row.errors > 0 && row.requests > 0 && row.errors === row.requests) {
          progress(`${scenario} ${kind}: every request failed; last output of ${kind}:\n${target.tail()}`);
        }
      } catch (error) {
        notes.push(`${scenario} ${kind}: failed: ${(error as Error).message}`);
        progress(`${scenario} ${kind}: failed: ${(error as Error).message}`);
      }
    }
  }

  const apiMemory = memory(api.pid);
  const statementSources = [...new Set(rows.filter((row) => row.target === 'api').map((row) => row.sqlSource))];
  if (statementSources.includes('pg counter')) {
    notes.push(
      `The API's tasks_api_db_statements_total could not be read around ${rows.filter((row) => row.target === 'api' && row.sqlSource === 'pg counter').map((row) => row.scenario).join(', ')} (GET /metrics failed or took over 5 s, as under overload), so SQL stmts/req there comes from bench/statement-counter.mjs, a preload counting pg Client.query calls (BEGIN/COMMIT included).`,
    );
  }
  for (const row of rows) for (const note of row.notes ?? []) notes.push(`${row.scenario} ${row.target}: ${note}`);

  // Stop the children now: the CPU profile is written when the API exits.
  await Promise.all([api.stop(), floor.stop()]);
  for (const [kind, target] of Object.entries(targets)) {
    for (const line of target.outputKinds()) notes.push(`${kind} printed ${line}`);
  }
  let profile: Report['profile'];
  if (options.profile) {
    const file = join(RESULTS_DIR, profileName);
    try {
      // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the main thread.
      const written = await readdir(profileDir);
      const main = written.find((name) => name.split('.')[4] === '0') ?? written[0];
      if (!main) throw new Error(`no profile in ${profileDir}`);
      await rename(join(profileDir, main), file);
      await rm(profileDir, { recursive: true, force: true });
      const windows = profileWindows.length > 0 ? profileWindows : allApiWindows;
      const summary = await summariseProfile(file, ROOT, windows);
      profile = { file: `bench/results/${profileName}`, summary: `${profileWindows.length > 0 ? 'S1 window' : 'all API windows'}: ${summary.text}` };
    } catch (error) {
      notes.push(`CPU profile: could not read ${file}: ${(error as Error).message}`);
    }
  }

  addRatios(rows);
  const checks = evaluate(rows, 50);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const report: Report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: options.quick ? 'quick' : options.custom ? 'custom' : 'full',
    environment: {
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GB`,
      'load average at start (1/5/15 min)': loadAtStart,
      commit,
      data: `${size.users} users x ${size.tasksPerUser} tasks (${(size.users * size.tasksPerUser).toLocaleString('en')} seeded; ~${taskEstimate.toLocaleString('en')} rows in tasks)`,
      database: usesUrl ? `DATABASE_URL (${database.description})` : database.description,
      'pool size': options.pool,
      'S1–S5': `${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s measured per target`,
      S6: `${options.s6Connections} connections at ${options.s6Rate} req/s (paced, open loop), ${options.warmup} s warm-up + ${options.s6Duration} s measured`,
      'rotated users': rotated,
      'request timeout': `${REQUEST_TIMEOUT_SECONDS} s`,
      'RSS right after start (API / floor)': `${(rssAfterStart.api / 1024 / 1024).toFixed(0)} MB / ${(rssAfterStart.floor / 1024 / 1024).toFixed(0)} MB`,
      'API VmHWM (peak RSS since start)': apiMemory ? `${(apiMemory.hwm / 1024 / 1024).toFixed(0)} MB` : 'unknown',
      'load generator': 'autocannon 9 (closed loop) in the runner process; S6 node:http paced driver',
    },
    rows,
    checks,
    notes,
    ...(profile ? { profile } : {}),
  };
  const files = await writeReport(RESULTS_DIR, report);

  console.log('');
  console.log(table(rows));
  console.log('');
  console.log(formatChecks(checks));
  if (notes.length > 0) console.log(`\n${notes.map((note) => `note: ${note}`).join('\n')}`);
  if (profile) console.log(`\nCPU profile (${profile.file}):\n${profile.summary}`);
  console.log(`\nwritten: ${files.markdownFile.replace(`${ROOT}/`, '')}, ${files.jsonFile.replace(`${ROOT}/`, '')}`);
  progress('done');
}

try {
  await main();
  await cleanUp();
  process.exit(0);
} catch (error) {
  if (error instanceof UsageError) {
    console.error(error.message);
    await cleanUp();
    process.exit(2);
  }
  progress(`benchmark failed: ${(error as Error).stack ?? error}`);
  await cleanUp();
  process.exit(1);
}
