import pg from 'pg';
import type { Config } from '../config.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export interface Database {
  url: string;
  /** Where the data lives, without credentials, for start-up messages. */
  description: string;
  close(): Promise<void>;
}

type Log = (line: string) => void;
const EMBEDDED_DATABASE = 'tasks';

export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

export function withDatabaseName(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** DATABASE_URL when set, otherwise the embedded server under EMBEDDED_DATA_DIR. */
export async function openDatabase(config: Config['database'], log: Log): Promise<Database> {
  if (config.url) {
    await waitUntilReachable(config.url, config, log);
    return { url: config.url, description: describeUrl(config.url), close: async () => {} };
  }
  const server = await startEmbeddedPostgres({ ...config.embedded, log });
  try {
    await createDatabaseIfMissing(server.url, EMBEDDED_DATABASE);
  } catch (error) {
    await server.stop();
    throw error;
  }
  const url = withDatabaseName(server.url, EMBEDDED_DATABASE);
  return {
    url,
    description: `embedded PostgreSQL at ${describeUrl(url)} (data in ${config.embedded.dataDir})`,
    close: () => server.stop(),
  };
}

export async function createDatabaseIfMissing(serverUrl: string, name: string, template?: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      const from = template ? ` TEMPLATE ${client.escapeIdentifier(template)}` : '';
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}${from}`);
    }
  } finally {
    await client.end();
  }
}

/** Retries with exponential backoff until the server answers or the start-up timeout passes. */
async function waitUntilReachable(url: string, config: Config['database'], log: Log): Promise<void> {
  const deadline = Date.now() + config.startupTimeoutMs;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: config.connectTimeoutMs });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      if (Date.now() + delay > deadline) {
        throw new Error(`database at ${describeUrl(url)} is unreachable (${reason}); gave up after ${attempt} attempts`);
      }
      log(`database at ${describeUrl(url)} is unreachable (${reason}); retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5_000);
    } finally {
      await client.end().catch(() => {});
    }
  }
}
