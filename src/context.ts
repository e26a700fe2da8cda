import type { YogaInitialContext } from 'graphql-yoga';
import type { Viewer } from './auth/viewer.js';
import type { Tokens } from './auth/tokens.js';
import type { PrismaClient } from './db/prisma.js';
import type { ViewerDb } from './db/viewer-scope.js';
import type { Reads } from './reads/index.js';
import type { Logger } from './logger.js';
import type { PubSub } from './events/pubsub.js';
import type { RateLimiter } from './auth/rate-limit.js';

/** What a request's resolvers may use. Everything long-lived is created once in createApp. */
export interface AppServices {
  prisma: PrismaClient;
  tokens: Tokens;
  viewerFromRequest(request: Request): Promise<Viewer | null>;
  pubsub: PubSub;
  logger: Logger;
  rateLimiter: RateLimiter;
  /** Believe the first X-Forwarded-For address (only behind a proxy that sets it). */
  trustProxy: boolean;
  /** Aborted when the process shuts down: subscriptions end. */
  shutdownSignal: AbortSignal;
  /** The client scoped to one viewer (see src/db/viewer-scope.ts). */
  scopedClient(viewerId: string): ViewerDb;
  /** The read compiler: every read of tasks, tags and users (src/reads/). */
  reads: Reads;
  /** WEBHOOK_ALLOW_PRIVATE: webhook URLs may resolve to private and loopback addresses. */
  webhooks: { allowPrivate: boolean };
}

export interface Context {
  requestId: string;
  request: Request;
  viewer: Viewer | null;
  /** Unscoped: only for signing up and in, where there is no viewer yet. */
  prisma: PrismaClient;
  /** Every Task/Tag/TaskTag/User query scoped to the viewer. */
  readonly db: ViewerDb;
  services: AppServices;
  logger: Logger;
  /** The client's address, for per-client rate limits. */
  clientAddress: string;
}

const NO_USER = '00000000-0000-0000-0000-000000000000';

export interface ViewerContext extends Context {
  viewer: Viewer;
}

export interface ServerContext {
  req?: { socket?: { remoteAddress?: string } };
  requestId?: string;
}

function clientAddressOf(initial: YogaInitialContext & ServerContext, trustProxy: boolean): string {
  const forwarded = trustProxy ? initial.request.headers.get('x-forwarded-for')?.split(',')[0]?.trim() : undefined;
  return forwarded || initial.req?.socket?.remoteAddress || 'unknown';
}

export async function createContext(initial: YogaInitialContext & ServerContext, services: AppServices): Promise<Context> {
  const viewer = await services.viewerFromRequest(initial.request);
  let db: ViewerDb | undefined;
  const requestId = initial.requestId ?? 'unknown';
  return {
    requestId,
    request: initial.request,
    viewer,
    prisma: services.prisma,
    services,
    logger: services.logger.child({ requestId }),
    clientAddress: clientAddressOf(initial, services.trustProxy),
    get db() {
      // Without a viewer the client is scoped to a user id no account can have: it reads nothing and
      // can write nothing. Scope-auth already refuses anonymous requests before resolvers run.
      db ??= services.scopedClient(viewer?.id ?? NO_USER);
      return db;
    },
  };
}
