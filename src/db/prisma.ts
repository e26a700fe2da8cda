import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { Config } from '../config.js';
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
export function createPrisma(url: string, config: Pick<Config['database'], 'poolSize' | 'connectTimeoutMs' | 'statementTimeoutMs'>): PrismaHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: config.poolSize,
    connectionTimeoutMillis: config.connectTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
    // A query stuck on a dead server fails instead of hanging the request.
    query_timeout: config.statementTimeoutMs + config.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its server is reported here; requests see their own errors.
  pool.on('error', () => {});
  // Prisma's pg adapter writes timestamps without an offset and reads them back by dropping the one
  // the server printed: both are right only in a UTC session, and initdb gives a server the machine's
  // zone. Queued before the client is handed out, so it is each connection's first statement; a SET
  // (not a startup option) also holds behind PgBouncer, which replays TimeZone per client. A connection
  // that cannot take it is closed: its queries fail rather than run in the wrong zone.
  pool.on('connect', (client) => {
    client.query("SET TIME ZONE 'UTC'").catch(() => client.end().catch(() => {}));
  });
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
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
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
