import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisRateLimitStore } from '../../src/auth/redis-rate-limit.js';
import { SignInDocument } from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) console.info('redis rate-limit tests skipped: set TEST_REDIS_URL=redis://127.0.0.1:6379 to run them');

describe.skipIf(!redisUrl)('sign-in rate limit shared through Redis', () => {
  let redis: Redis;
  let database: TestDatabase;
  let instances: TestApp[];

  beforeAll(async () => {
    redis = new Redis(redisUrl!);
    database = await createTestDatabase();
    // Two instances on one database and one Redis, with a key prefix of their own for this run.
    const store = () => redisRateLimitStore(redis, `tasks-api-test:${randomUUID()}:`);
    const shared = store();
    instances = await Promise.all(
      [0, 1].map(() => createTestApp({ database, rateLimitStore: shared, env: { AUTH_RATE_LIMIT: '4', AUTH_RATE_WINDOW_SECONDS: '30' } })),
    );
  });
  afterAll(async () => {
    await Promise.all((instances ?? []).map((app) => app.close()));
    await database?.drop();
    redis?.disconnect();
  });

  it('counts attempts on any instance against the same email', async () => {
    const attempt = (app: TestApp) => app.graphql(SignInDocument, { input: { email: 'shared-target@example.com', password: 'guess guess' } });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push(...errorCodes(await attempt(instances[i % 2]!)));
    expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    const refused = await attempt(instances[0]!);
    expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
    expect(refused.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
    expect(errorCodes(await attempt(instances[1]!))).toEqual(['RATE_LIMITED']);
  });
});
