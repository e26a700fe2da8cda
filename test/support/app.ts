import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { print, type ExecutionResult } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { StatementRunner } from '../../src/reads/statements.js';
import { createPrisma, type PrismaHandle } from '../../src/db/prisma.js';
import { createHttpServer } from '../../src/http/server.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { PubSub } from '../../src/events/pubsub.js';
import type { RateLimitStore } from '../../src/auth/rate-limit.js';
import { SignUpDocument } from '../generated/graphql.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { auditStatements } from './statement-audit.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-bytes-long!!';

export interface TestApp {
  yoga: App;
  /** http://127.0.0.1:<port> of the production listener (src/http/server.ts) this app is served by. */
  origin: string;
  /** ws://127.0.0.1:<port>/graphql, graphql-ws on the same server. */
  webSocketUrl: string;
  /** fetch() of a path on this app's server, over the socket. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  database: TestDatabase;
  prisma: PrismaHandle['prisma'];
  pool: PrismaHandle['pool'];
  config: Config;
  logger: Logger;
  /** Sends a typed document as a client would: POST /graphql with JSON, optional bearer token. */
  graphql<Result, Variables>(
    document: TypedDocumentNode<Result, Variables>,
    variables?: Variables,
    options?: { token?: string; headers?: Record<string, string> },
  ): Promise<ExecutionResult<Result> & { status: number }>;
  /** Sends any raw body to /graphql. */
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Signs up a fresh user and returns their token and global user id. */
  signUp(name?: string, extra?: { timeZone?: string }): Promise<{ token: string; userId: string; email: string; password: string }>;
  close(): Promise<void>;
}

let users = 0;

export async function createTestApp(
  options: {
    env?: Record<string, string>;
    database?: TestDatabase;
    pubsub?: PubSub;
    rateLimitStore?: RateLimitStore;
    logger?: Logger;
    /** Replaces the runner of compiled statements (e.g. one that fails like a lost database). */
    runStatement?: StatementRunner;
  } = {},
): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', AUTH_RATE_LIMIT: '1000', ...options.env });
  const logger = options.logger ?? createLogger(config.logLevel);
  const handle = createPrisma(database.url, { ...config.database, poolSize: 5 });
  const yoga = createApp({
    config,
    prisma: handle.prisma,
    pool: handle.pool,
    statementCount: handle.statementCount,
    logger,
    pubsub: options.pubsub,
    rateLimitStore: options.rateLimitStore,
    runStatement: options.runStatement,
  });

  // Every request goes through the entry production uses: this server, over a real socket. Each
  // statement a request makes is recorded with its viewer, and judged when the app closes.
  const audit = auditStatements(handle.pool);
  const { server, webSocket } = createHttpServer(yoga, audit.around(yoga.httpListener));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const fetchPath = (path: string, init?: RequestInit) => fetch(`${origin}${path}`, init);
  const post = async (body: unknown, headers: Record<string, string> = {}) =>
    fetchPath('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const app: TestApp = {
    yoga,
    origin,
    webSocketUrl: `ws://127.0.0.1:${port}/graphql`,
    fetch: fetchPath,
    database,
    prisma: handle.prisma,
    pool: handle.pool,
    config,
    logger,
    post,
    async graphql(document, variables, requestOptions = {}) {
      const headers: Record<string, string> = { ...requestOptions.headers };
      if (requestOptions.token) headers.authorization = `Bearer ${requestOptions.token}`;
      const response = await post({ query: print(document), variables }, headers);
      return { ...((await response.json()) as ExecutionResult<never>), status: response.status };
    },
    async signUp(name = 'user', extra = {}) {
      users += 1;
      const email = `${name}-${process.pid}-${users}-${Date.now()}@example.com`;
      const password = 'correct horse battery staple';
      const result = await app.graphql(SignUpDocument, { input: { email, password, name, ...extra } });
      if (!result.data) throw new Error(`signUp failed: ${JSON.stringify(result.errors)}`);
      return { token: result.data.signUp.token, userId: result.data.signUp.user.id, email, password };
    },
    async close() {
      await webSocket.close();
      server.closeAllConnections();
      server.close();
      await yoga.dispose();
      await handle.close();
      const problems = await audit.judge(database.url);
      if (process.env.STATEMENT_AUDIT_SUMMARY) console.log(`audited ${audit.recorded().length} statements, ${problems.length} problems`);
      if (!options.database) await database.drop();
      if (problems.length > 0) throw new Error(`${problems.length} statements are not scoped to their viewer:\n${problems.slice(0, 10).join('\n')}`);
    },
  };
  return app;
}

/** The codes of a result's errors, for assertions. */
export function errorCodes(result: ExecutionResult<unknown>): unknown[] {
  return (result.errors ?? []).map((error) => error.extensions?.code);
}
