import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createEventPubSub, type PubSub } from './pubsub.js';

export interface EventBus {
  pubsub: PubSub;
  /** Where events travel, for the start-up log line. */
  description: string;
  close(): Promise<void>;
}

export interface EventBusOptions {
  logger: Logger;
  /** See RedisEventTargetOptions.channelPrefix. */
  channelPrefix?: string;
}

/**
 * The pubsub for subscription events: over Redis when REDIS_URL is set, so that an event published on
 * one instance (the reminder worker) reaches subscribers on every instance; in-process otherwise.
 */
export async function openEventBus(config: Pick<Config, 'redisUrl'>, options: EventBusOptions): Promise<EventBus> {
  if (!config.redisUrl) {
    return { pubsub: createEventPubSub(), description: 'in-process', close: async () => {} };
  }
  // Loaded only when used: ioredis and its event target take heap that a single instance never needs.
  const { describeRedisUrl, openRedisEventTarget } = await import('./redis.js');
  const redis = await openRedisEventTarget({ url: config.redisUrl, logger: options.logger, channelPrefix: options.channelPrefix });
  return { pubsub: createEventPubSub(redis.eventTarget), description: `Redis at ${describeRedisUrl(config.redisUrl)}`, close: redis.close };
}
