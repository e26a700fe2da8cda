import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { Config } from '../config.js';
import { statementNames } from './statement-names.js';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export interface PrismaHandle {
  prisma: PrismaClient;
  /** The pg pool under Prisma, exposed for readiness checks and pool metrics. */
  pool: pg.Pool;
  /** SQL statements sent so far (a metric: statements per request is what keeps requests fast). */
  statementCount(): number;
  close(): Promise<void>;
}

/** A Prisma client over a pg pool sized and time-limited from the configuration. */
export function createPrisma(
  url: string,
  config: Pick<Config['database'], 'poolSize' | 'connectTimeoutMs' | 'statementTimeoutMs'> & Partial<Pick<Config['database'], 'preparedStatements'>>,
): PrismaHandle {
  // Session settings are SET on each new connection rather than sent as startup parameters: PgBouncer
  // (Neon's pooled URL, the one we recommend) refuses a startup statement_timeout, and Neon's proxy
  // drops it silently. Awaited before the connection is handed out; a failure closes it and fails
  // the checkout. TimeZone: Prisma's pg adapter writes timestamps without an offset and reads them
  // back by dropping the one the server printed (prisma/orm#26786, #28629), right only in a UTC
  // session, and initdb gives a server the machine's zone; PgBouncer replays a SET TimeZone per client.
  const sessionSettings = `SET TIME ZONE 'UTC'; SET statement_timeout = ${Math.trunc(config.statementTimeoutMs)}`;
  const pool = new pg.Pool({
    connectionString: url,
    max: config.poolSize,
    connectionTimeoutMillis: config.connectTimeoutMs,
    // A query stuck on a dead server fails instead of hanging the request.
    query_timeout: config.statementTimeoutMs + config.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    onConnect: async (client) => {
      await client.query(sessionSettings);
    },
  });
  // An idle client losing its server is reported here; requests see their own errors.
  pool.on('error', () => {});
  let statements = 0;
  const counted = new WeakSet<pg.PoolClient>();
  pool.on('acquire', (client) => {
    if (counted.has(client)) return;
    counted.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      statements += 1;
      return query(...args);
    }) as typeof client.query;
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, config.preparedStatements ? { statementNameGenerator: statementNames() } : undefined) });
  return {
    prisma,
    pool,
    statementCount: () => statements,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
