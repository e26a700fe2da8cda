import { GraphQLError } from 'graphql';

// Fixed-window counters per key (client address, email). In memory for one instance; with
// REDIS_URL every instance shares the counters (src/auth/redis-rate-limit.ts).

export interface RateLimitStore {
  /** Adds one hit to `key` in the current window; returns the count and the seconds until the window ends. */
  hit(key: string, windowSeconds: number): Promise<{ count: number; resetSeconds: number }>;
  close?(): Promise<void>;
}

export interface RateLimiter {
  /** Counts one attempt against each key; RATE_LIMITED when any key is over its limit. */
  check(keys: string[]): Promise<void>;
}

export function createRateLimiter(store: RateLimitStore, limit: { max: number; windowSeconds: number }): RateLimiter {
  return {
    async check(keys) {
      const results = await Promise.all(keys.map((key) => store.hit(key, limit.windowSeconds)));
      const exceeded = results.filter((result) => result.count > limit.max);
      if (exceeded.length === 0) return;
      const retryAfter = Math.max(...exceeded.map((result) => result.resetSeconds));
      throw new GraphQLError(`Too many attempts; retry in ${retryAfter} s`, {
        extensions: { code: 'RATE_LIMITED', retryAfter, http: { headers: { 'retry-after': String(retryAfter) } } },
      });
    },
  };
}

// Bounded memory whatever keys attackers invent: ended windows are swept once this many are tracked.
const MAX_TRACKED_KEYS = 100_000;

function forgetEnded(windows: Map<string, { endsAt: number }>, now: number): void {
  for (const [key, window] of windows) if (window.endsAt <= now) windows.delete(key);
}

export function memoryRateLimitStore(now: () => number = Date.now): RateLimitStore {
  const windows = new Map<string, { count: number; endsAt: number }>();
  return {
    async hit(key, windowSeconds) {
      const time = now();
      let window = windows.get(key);
      if (!window || window.endsAt <= time) {
        if (windows.size > MAX_TRACKED_KEYS) forgetEnded(windows, time);
        window = { count: 0, endsAt: time + windowSeconds * 1000 };
        windows.set(key, window);
      }
      window.count += 1;
      return { count: window.count, resetSeconds: Math.max(1, Math.ceil((window.endsAt - time) / 1000)) };
    },
  };
}
