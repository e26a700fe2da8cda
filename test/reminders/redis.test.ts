import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrisma, type PrismaHandle } from '../../src/db/prisma.js';
import { openEventBus, type EventBus } from '../../src/events/event-bus.js';
import { createLogger } from '../../src/logger.js';
import { startReminderWorker, type ReminderWorker } from '../../src/tasks/reminders.js';
import { CreateTaskDocument, ReminderDueDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { reminderTopic, uuidOf } from '../support/events.js';
import { subscribeOverSse, type SseSubscription } from '../support/sse.js';

// Two instances that share only PostgreSQL and Redis: A serves the subscribers, B runs the worker.
// Needs a Redis server: TEST_REDIS_URL=redis://127.0.0.1:6379 npx vitest run test/reminders

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) console.info('redis tests skipped: set TEST_REDIS_URL=redis://127.0.0.1:6379 to run them');

// Channels of this run only: Redis pub/sub is shared by every database number and every client.
const channelPrefix = `tasks-api-test-${randomUUID()}:`;
const logger = createLogger('silent');

describe.skipIf(!redisUrl)('reminders across instances through Redis', () => {
  let instanceA: { app: TestApp; events: EventBus };
  let instanceB: { prisma: PrismaHandle; events: EventBus; reminders: ReminderWorker };
  let inspector: Redis;
  const open: SseSubscription<unknown>[] = [];

  beforeAll(async () => {
    const eventsA = await openEventBus({ redisUrl }, { logger, channelPrefix });
    instanceA = { app: await createTestApp({ pubsub: eventsA.pubsub }), events: eventsA };
    const prisma = createPrisma(instanceA.app.database.url, { ...instanceA.app.config.database, poolSize: 2 });
    const eventsB = await openEventBus({ redisUrl }, { logger, channelPrefix });
    const reminders = startReminderWorker({ prisma: prisma.prisma, pubsub: eventsB.pubsub, logger, pollMs: 3_600_000 });
    instanceB = { prisma, events: eventsB, reminders };
    inspector = new Redis(redisUrl!);
  });
  afterAll(async () => {
    await Promise.all(open.map((subscription) => subscription.close()));
    await instanceB?.reminders.stop();
    await instanceB?.events.close();
    await instanceB?.prisma.close();
    await instanceA?.app.close();
    await instanceA?.events.close();
    await inspector?.quit();
  });

  /** Subscribes on A and waits until Redis has the subscription: an event published earlier is not kept. */
  async function subscribeOnA(user: { token: string; userId: string }) {
    const subscription = await subscribeOverSse(instanceA.app, ReminderDueDocument, { token: user.token });
    open.push(subscription);
    const channel = `${channelPrefix}${reminderTopic(uuidOf(user.userId))}`;
    await expect.poll(async () => ((await inspector.pubsub('NUMSUB', channel)) as [string, number])[1], { timeout: 5_000 }).toBe(1);
    return subscription;
  }

  it("delivers a reminder claimed by B's worker to its subscriber on A, and to no one else", async () => {
    const { app } = instanceA;
    const ida = await app.signUp('ida');
    const jon = await app.signUp('jon');
    const idaStream = await subscribeOnA(ida);
    const jonStream = await subscribeOnA(jon);

    const created = await app.graphql(CreateTaskDocument, { input: { title: 'Ida: book flights', remindAt: new Date(Date.now() - 60_000).toISOString() } }, { token: ida.token });
    expect(created.errors).toBeUndefined();
    const task = created.data!.createTask;
    expect(await instanceB.reminders.runOnce()).toBe(1);

    const received = await idaStream.next();
    expect(received.errors).toBeUndefined();
    expect(received.data).toMatchObject({ reminderDue: { id: task.id, title: 'Ida: book flights', reminderSentAt: expect.any(String) } });

    expect(await instanceB.reminders.runOnce()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(idaStream.results).toHaveLength(1);
    expect(jonStream.results).toEqual([]);
  });
});
