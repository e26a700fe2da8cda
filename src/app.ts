import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createYoga, useReadinessCheck, type Plugin } from 'graphql-yoga';
import type pg from 'pg';
import { createRateLimiter, memoryRateLimitStore, type RateLimitStore } from './auth/rate-limit.js';
import { createTokens } from './auth/tokens.js';
import { createViewerResolver } from './auth/viewer.js';
import type { Config } from './config.js';
import { createContext, type AppServices, type ServerContext } from './context.js';
import type { PrismaClient } from './db/prisma.js';
import { scopedClients } from './db/viewer-scope.js';
import { createEventPubSub, type PubSub } from './events/pubsub.js';
import { maskError, useErrorReporting, yogaLogger } from './http/errors.js';
import { requestIdOf, useRequestId } from './http/request-id.js';
import { useRequestLog } from './http/request-log.js';
import { useAcceptableResponse, useBodyLimit } from './http/request-guards.js';
import { createMetrics } from './http/metrics.js';
import { useDirectReads } from './execution/direct-reads.js';
import { useChangeNotices } from './sync/change-notices.js';
import { withCalendarFeed } from './calendar/calendar-feed.js';
import { createReads } from './reads/index.js';
import type { StatementRunner } from './reads/statements.js';
import { createDirectReadRequests } from './http/direct-read-requests.js';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Logger } from './logger.js';
import { schema } from './schema/index.js';

export interface AppDependencies {
  config: Config;
  prisma: PrismaClient;
  /** The pool under Prisma: readiness checks and pool metrics. */
  pool: pg.Pool;
  /** Statements sent through the pool so far, for the metrics. */
  statementCount?: () => number;
  logger: Logger;
  pubsub?: PubSub;
  rateLimitStore?: RateLimitStore;
  /** Aborted when the process begins to shut down: open subscriptions end. */
  shutdownSignal?: AbortSignal;
  /** Runs the read compiler's statements; by default on `pool` (bench:layers serves rows from memory). */
  runStatement?: StatementRunner;
}

const EXAMPLE_QUERY = /* GraphQL */ `# Sign up or in (mutation below), then add the header
#   { "Authorization": "Bearer <token>" }
# in the Headers pane and run the query.
query MyTasks {
  tasks(first: 20, filter: { completed: false }, orderBy: [{ field: DUE_AT, direction: ASC }]) {
    totalCount
    edges { node { id title dueAt priority overdue tags { name color } } }
    pageInfo { hasNextPage endCursor }
  }
}

mutation SignUp {
  signUp(input: { email: "you@example.com", password: "correct horse battery" }) { token }
}
`;

/** The yoga instance: an HTTP handler (node:http) and a Fetch handler (`yoga.fetch`, used by tests). */
export function createApp(deps: AppDependencies) {
  const { config, prisma, pool, logger } = deps;
  const tokens = createTokens(config.jwt);
  const limits = deps.rateLimitStore ?? memoryRateLimitStore();
  const services: AppServices = {
    prisma,
    tokens,
    viewerFromRequest: createViewerResolver(tokens, prisma),
    pubsub: deps.pubsub ?? createEventPubSub(),
    logger,
    rateLimiter: createRateLimiter(limits, config.authRateLimit),
    trustProxy: config.trustProxy,
    shutdownSignal: deps.shutdownSignal ?? new AbortController().signal,
    scopedClient: scopedClients(prisma),
    reads: createReads({ schema, pool, preparedStatements: config.database.preparedStatements, run: deps.runStatement }),
    webhooks: { allowPrivate: config.webhooks.allowPrivate },
  };

  const metrics = createMetrics(pool, deps.statementCount ?? (() => 0));
  const plugins: Plugin[] = [
    useRequestId(),
    useBodyLimit(),
    useAcceptableResponse(),
    // Requests a browser would send cross-site without a preflight (GET, form posts) must carry a
    // custom header; JSON POSTs from Apollo, urql or fetch always preflight, so they pass unchanged.
    useCSRFPrevention({ requestHeaders: ['x-graphql-csrf', 'apollo-require-preflight', 'graphql-preflight'] }),
    metrics.plugin,
    useReadinessCheck({
      endpoint: '/readyz',
      check: async () => {
        await pool.query('SELECT 1');
        return true;
      },
    }),
    EnvelopArmorPlugin({
      maxDepth: { n: 16 },
      maxAliases: { n: 30 },
      maxDirectives: { n: 20 },
      maxTokens: { n: 2_000 },
      // Cost is limited by the schema's complexity plugin, which knows page sizes (src/schema/complexity.ts).
      costLimit: { enabled: false },
      blockFieldSuggestion: { enabled: !config.introspection },
    }) as Plugin,
    useRequestLog(logger) as Plugin,
    useErrorReporting() as Plugin,
    useChangeNotices(services.pubsub),
  ];
  const directReads = config.directReads ? useDirectReads(schema, services.reads, metrics.countDirectRead) : undefined;
  if (directReads) plugins.push(directReads.plugin);
  if (!config.introspection) {
    plugins.push({ onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule) });
  }

  const yoga = createYoga<ServerContext>({
    schema,
    context: (initial) => createContext({ ...initial, requestId: requestIdOf(initial.request) }, services),
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    // No placeholder Authorization header: a malformed one would refuse even the schema's introspection.
    graphiql: config.graphiql ? { title: 'Tasks API', defaultQuery: EXAMPLE_QUERY, headers: '{}' } : false,
    // GraphiQL's scripts, styles, fonts and workers inline in one page, so it works without internet
    // access (yoga's default page loads them from a CDN). Imported on the first page request: the
    // 9 MB bundle costs ~1 s and ~50 MB, which a process that never serves GraphiQL should not pay.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    maskedErrors: { maskError },
    cors: config.cors.origins.length > 0 ? { origin: config.cors.origins, credentials: true, methods: ['GET', 'POST'] } : false,
    batching: { limit: 10 },
    // useBodyLimit enforces MAX_BODY_BYTES (declared and streamed); yoga's own limiter would pipe every
    // body through a TransformStream, a stream pipeline and an AbortSignal per request on top of it.
    maxRequestBodySize: false,
    logging: yogaLogger(logger),
    plugins,
  });
  // node:http's handler: the direct reads yoga has planned answered before its pipeline, the rest by yoga.
  const graphqlListener = directReads
    ? createDirectReadRequests({ schema, reads: directReads, services, metrics, corsEnabled: config.cors.origins.length > 0, yoga })
    : (yoga as (req: IncomingMessage, res: ServerResponse) => void);
  const httpListener = withCalendarFeed({ pool, statements: services.reads.statements, limits, trustProxy: config.trustProxy, logger }, graphqlListener);
  return Object.assign(yoga, { httpListener });
}

export type App = ReturnType<typeof createApp>;
