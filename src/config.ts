import { z } from 'zod';

// Every setting the process reads from its environment, validated once at start-up.
// .env.example documents each variable; keep the two in step.

const DEVELOPMENT_JWT_SECRET = 'development-only-secret-do-not-use-in-production!';

const flag = z.enum(['on', 'off', 'true', 'false', '1', '0']).transform((value) => ['on', 'true', '1'].includes(value));
const milliseconds = z.coerce.number().int().min(1).max(3_600_000);
const postgresUrl = z
  .string()
  .url()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL');

const environment = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).optional(),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_CONNECT_TIMEOUT_MS: milliseconds.default(5_000),
  DATABASE_STATEMENT_TIMEOUT_MS: milliseconds.default(10_000),
  DATABASE_STARTUP_TIMEOUT_MS: milliseconds.default(60_000),
  DATABASE_PREPARED_STATEMENTS: flag.default(true),
  EMBEDDED_DATA_DIR: z.string().min(1).default('.data/postgres'),
  EMBEDDED_PORT: z.coerce.number().int().min(1).max(65_535).default(54_329),

  JWT_SECRET: z.string().optional(),
  JWT_ISSUER: z.string().min(1).default('tasks-api'),
  JWT_AUDIENCE: z.string().min(1).default('tasks-api'),
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(30 * 86_400).default(86_400),
  JWT_JWKS_URL: z.string().url().optional(),
  JWT_JWKS_ISSUER: z.string().min(1).optional(),
  JWT_JWKS_AUDIENCE: z.string().min(1).optional(),

  REDIS_URL: z.string().url().optional(),
  REMINDERS: flag.default(true),
  REMINDER_POLL_MS: milliseconds.default(5_000),
  TRASH_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  SYNC_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  WEBHOOK_ALLOW_PRIVATE: flag.default(false),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_POLL_MS: milliseconds.default(1_000),
  WEBHOOK_RETRY_BASE_MS: milliseconds.default(10_000),
  WEBHOOK_RETRY_WINDOW_SECONDS: z.coerce.number().int().min(1).max(30 * 86_400).default(86_400),

  CORS_ORIGINS: z.string().optional(),
  TRUST_PROXY: flag.default(false),
  AUTH_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(10),
  AUTH_RATE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  DIRECT_READS: flag.default(true),
  GRAPHIQL: flag.optional(),
  INTROSPECTION: flag.optional(),
  SHUTDOWN_TIMEOUT_MS: milliseconds.default(10_000),
});

export type Environment = z.infer<typeof environment>;

export interface Config {
  env: Environment['NODE_ENV'];
  host: string;
  port: number;
  logLevel: Environment['LOG_LEVEL'];
  database: {
    url?: string;
    poolSize: number;
    connectTimeoutMs: number;
    statementTimeoutMs: number;
    startupTimeoutMs: number;
    /** Name (prepare) Prisma's statements so that PostgreSQL keeps their plans. */
    preparedStatements: boolean;
    embedded: { dataDir: string; port: number };
  };
  jwt: {
    secret: Uint8Array;
    usesDevelopmentSecret: boolean;
    issuer: string;
    audience: string;
    ttlSeconds: number;
    jwks?: { url: string; issuer: string; audience: string };
  };
  redisUrl?: string;
  reminders: { enabled: boolean; pollMs: number };
  /** How long the trash keeps a task, and the change feed a deletion (the worker purges after). */
  retention: { trashDays: number; syncDays: number };
  webhooks: {
    allowPrivate: boolean;
    /** Deliveries in flight at once (each to a different webhook: one webhook's go one by one, in order). */
    concurrency: number;
    timeoutMs: number;
    pollMs: number;
    retry: { baseMs: number; maxDelayMs: number; windowMs: number };
  };
  cors: { origins: string[] };
  trustProxy: boolean;
  authRateLimit: { max: number; windowSeconds: number };
  /** Answer planned reads with one statement instead of graphql-js' execution (src/execution/direct-reads.ts). */
  directReads: boolean;
  graphiql: boolean;
  introspection: boolean;
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
  }
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "unset", as in most twelve-factor tools.
  const values = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environment.safeParse(values);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (!parsed.success) throw new ConfigError(problems);
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';

  if (env.JWT_SECRET !== undefined && Buffer.byteLength(env.JWT_SECRET) < 32) {
    problems.push('JWT_SECRET: must be at least 32 bytes long');
  }
  if (env.JWT_SECRET === undefined && production) {
    problems.push('JWT_SECRET: required when NODE_ENV=production (at least 32 random bytes)');
  }
  const jwksParts = [env.JWT_JWKS_URL, env.JWT_JWKS_ISSUER, env.JWT_JWKS_AUDIENCE];
  if (jwksParts.some(Boolean) && !jwksParts.every(Boolean)) {
    problems.push('JWT_JWKS_URL: JWT_JWKS_URL, JWT_JWKS_ISSUER and JWT_JWKS_AUDIENCE must be set together');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: env.NODE_ENV,
    host: env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    database: {
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      startupTimeoutMs: env.DATABASE_STARTUP_TIMEOUT_MS,
      preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
      embedded: { dataDir: env.EMBEDDED_DATA_DIR, port: env.EMBEDDED_PORT },
    },
    jwt: {
      secret: new TextEncoder().encode(env.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET),
      usesDevelopmentSecret: env.JWT_SECRET === undefined,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      ttlSeconds: env.JWT_TTL_SECONDS,
      jwks:
        env.JWT_JWKS_URL && env.JWT_JWKS_ISSUER && env.JWT_JWKS_AUDIENCE
          ? { url: env.JWT_JWKS_URL, issuer: env.JWT_JWKS_ISSUER, audience: env.JWT_JWKS_AUDIENCE }
          : undefined,
    },
    redisUrl: env.REDIS_URL,
    reminders: { enabled: env.REMINDERS, pollMs: env.REMINDER_POLL_MS },
    retention: { trashDays: env.TRASH_RETENTION_DAYS, syncDays: env.SYNC_RETENTION_DAYS },
    webhooks: {
      allowPrivate: env.WEBHOOK_ALLOW_PRIVATE,
      concurrency: env.WEBHOOK_CONCURRENCY,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      pollMs: env.WEBHOOK_POLL_MS,
      retry: { baseMs: env.WEBHOOK_RETRY_BASE_MS, maxDelayMs: 3_600_000, windowMs: env.WEBHOOK_RETRY_WINDOW_SECONDS * 1_000 },
    },
    cors: { origins: env.CORS_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean) ?? [] },
    trustProxy: env.TRUST_PROXY,
    authRateLimit: { max: env.AUTH_RATE_LIMIT, windowSeconds: env.AUTH_RATE_WINDOW_SECONDS },
    directReads: env.DIRECT_READS,
    graphiql: env.GRAPHIQL ?? !production,
    introspection: env.INTROSPECTION ?? !production,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}
