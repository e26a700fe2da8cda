import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { TypedEventTarget } from '@graphql-yoga/typed-event-target';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

// Events between processes over Redis pub/sub: a worker on one instance publishes, the subscriber's
// own instance hears it. @graphql-yoga/redis-event-target does the work; this module adds what a
// long-running server needs around it.

export const DEFAULT_CHANNEL_PREFIX = 'tasks-api:';

type EventTarget = TypedEventTarget<CustomEvent>;

export interface RedisEventTarget {
  eventTarget: EventTarget;
  /** The client that publishes, for inspection (PUBSUB NUMSUB) in tests and health checks. */
  publishClient: Redis;
  close(): Promise<void>;
}

export interface RedisEventTargetOptions {
  url: string;
  logger: Logger;
  /** Namespaces the channels: Redis pub/sub ignores database numbers, so apps sharing one Redis hear each other. */
  channelPrefix?: string;
  /** How long start-up waits for Redis before giving up. */
  connectTimeoutMs?: number;
}

/** Connects the publish and subscribe clients (a subscribed Redis connection can do nothing else). */
export async function openRedisEventTarget(options: RedisEventTargetOptions): Promise<RedisEventTarget> {
  const { url, logger, channelPrefix = DEFAULT_CHANNEL_PREFIX, connectTimeoutMs = 10_000 } = options;
  // connect() only says "Connection is closed."; the error event says why (ECONNREFUSED, NOAUTH…).
  let lastError: Error | undefined;
  const connect = (role: string) => {
    const client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: connectTimeoutMs,
      // Commands wait in the offline queue until Redis is back instead of failing after a few retries:
      // an event published during a short outage is late, not lost.
      maxRetriesPerRequest: null,
    });
    // Without a listener ioredis prints these itself; it reconnects on its own either way.
    client.on('error', (error: Error) => {
      lastError = error;
      logger.warn({ err: error, role }, 'redis connection error');
    });
    return client;
  };
  const publishClient = connect('publish');
  const subscribeClient = connect('subscribe');
  const close = async () => {
    await Promise.all([publishClient, subscribeClient].map((client) => client.quit().catch(() => client.disconnect())));
  };
  try {
    await Promise.all([publishClient.connect(), subscribeClient.connect()]);
  } catch (error) {
    await close();
    const reason = lastError ?? (error as Error);
    throw new Error(`Redis at ${describeRedisUrl(url)} is unreachable: ${reason.message}`, { cause: reason });
  }

  const eventTarget = createRedisEventTarget<CustomEvent>({
    publishClient: withFailuresLogged(publishClient, logger),
    subscribeClient: withFailuresLogged(subscribeClient, logger),
  });
  return { eventTarget: withChannelPrefix(eventTarget, channelPrefix), publishClient, close };
}

/** host:port/db, without credentials, for messages. */
export function describeRedisUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 6379}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

const FIRE_AND_FORGET = new Set<PropertyKey>(['publish', 'subscribe', 'unsubscribe']);

/**
 * createRedisEventTarget calls publish, subscribe and unsubscribe without awaiting them. A rejection
 * (the client closed at shutdown with commands still queued) would be unhandled and end the process;
 * it is logged instead.
 */
function withFailuresLogged(client: Redis, logger: Logger): Redis {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (!FIRE_AND_FORGET.has(property) || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        (value as (...args: unknown[]) => Promise<unknown>).apply(target, args).catch((error: unknown) => {
          logger.warn({ err: error, command: String(property) }, 'redis command failed');
        });
    },
  });
}

/** Puts every topic under a prefix; listeners only read `detail`, so the renamed type is invisible to them. */
function withChannelPrefix(target: EventTarget, prefix: string): EventTarget {
  return {
    addEventListener: (type, callback, options) => target.addEventListener(`${prefix}${type}`, callback, options),
    removeEventListener: (type, callback, options) => target.removeEventListener(`${prefix}${type}`, callback, options),
    dispatchEvent: (event) => target.dispatchEvent(new CustomEvent(`${prefix}${event.type}`, { detail: event.detail })),
  };
}
