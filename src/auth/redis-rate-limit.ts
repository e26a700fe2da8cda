import type { Redis } from 'ioredis';
import type { RateLimitStore } from './rate-limit.js';

// INCR and the first EXPIRE in one script, so a counter can never be left without an expiry.
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
return { count, ttl }
`;

/** Rate-limit counters in Redis, shared by every instance of the server. */
export function redisRateLimitStore(redis: Redis, prefix = 'tasks-api:rate:'): RateLimitStore {
  return {
    async hit(key, windowSeconds) {
      const [count, ttl] = (await redis.eval(HIT, 1, `${prefix}${key}`, windowSeconds)) as [number, number];
      return { count, resetSeconds: Math.max(1, ttl) };
    },
  };
}
