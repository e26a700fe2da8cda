import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startReminderWorker, type ReminderWorker } from '../../src/tasks/reminders.js';
import { CreateTaskDocument, ReminderDueDocument } from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';
import { recordingPubSub, reminderTopic, uuidOf, type RecordingEventTarget } from '../support/events.js';
import { subscribeOverSse, type SseSubscription } from '../support/sse.js';

// reminderDue over Server-Sent Events, through the server's socket: the worker publishes, each
// viewer's stream carries their own tasks' reminders and nothing else.

let app: TestApp;
let events: RecordingEventTarget;
let reminders: ReminderWorker;
const open: SseSubscription<unknown>[] = [];

beforeAll(async () => {
  const recording = recordingPubSub();
  events = recording.target;
  app = await createTestApp({ pubsub: recording.pubsub });
  reminders = startReminderWorker({ prisma: app.prisma, pubsub: recording.pubsub, logger: createLogger('silent'), pollMs: 3_600_000 });
});
afterAll(async () => {
  await Promise.all(open.map((subscription) => subscription.close()));
  await reminders?.stop();
  await app?.close();
});

/** Subscribes as the given user and waits until the subscription listens on the user's topic. */
async function subscribeAs(user: { token: string; userId: string }) {
  const subscription = await subscribeOverSse(app, ReminderDueDocument, { token: user.token });
  open.push(subscription);
  expect(subscription.status).toBe(200);
  await events.listening(reminderTopic(uuidOf(user.userId)));
  return subscription;
}

const dueTask = async (token: string, title: string) => {
  const created = await app.graphql(CreateTaskDocument, { input: { title, remindAt: new Date(Date.now() - 60_000).toISOString() } }, { token });
  expect(created.errors).toBeUndefined();
  return created.data!.createTask;
};

/** Long enough for an event that was published to have reached a stream in this process. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

describe('reminderDue subscription over SSE', () => {
  it("streams the viewer's own reminders, once, and never another user's", async () => {
    const ann = await app.signUp('ann');
    const ben = await app.signUp('ben');
    const annStream = await subscribeAs(ann);
    const benStream = await subscribeAs(ben);

    const annTask = await dueTask(ann.token, 'Ann: water the plants');
    expect(await reminders.runOnce()).toBe(1);
    // Routed on the owner's topic (the scoped read in the resolver is a second line of defence).
    expect(events.published.at(-1)).toMatchObject({ userId: uuidOf(ann.userId), taskId: uuidOf(annTask.id) });
    const received = await annStream.next();
    expect(received.errors).toBeUndefined();
    expect(received.data).toEqual({ reminderDue: { id: annTask.id, title: annTask.title, remindAt: annTask.remindAt, reminderSentAt: expect.any(String) } });

    const benTask = await dueTask(ben.token, 'Ben: call the bank');
    expect(await reminders.runOnce()).toBe(1);
    expect((await benStream.next()).data).toMatchObject({ reminderDue: { id: benTask.id } });

    expect(await reminders.runOnce()).toBe(0);
    await settle();
    expect(annStream.results).toHaveLength(1);
    expect(benStream.results).toHaveLength(1);
  });

  it("resolves an event through the viewer's scope: another user's task id or a deleted task yields nothing", async () => {
    const cat = await app.signUp('cat');
    const dan = await app.signUp('dan');
    const catStream = await subscribeAs(cat);
    const dansTask = await dueTask(dan.token, 'Dan: private');
    const catsTask = await dueTask(cat.token, 'Cat: visible');

    // Events the worker would never send: they must still not leak anything.
    events.dispatchEvent(new CustomEvent(reminderTopic(uuidOf(cat.userId)), { detail: { taskId: uuidOf(dansTask.id) } }));
    events.dispatchEvent(new CustomEvent(reminderTopic(uuidOf(cat.userId)), { detail: { taskId: randomUUID() } }));
    await reminders.runOnce();

    const received = await catStream.next();
    expect(received.errors).toBeUndefined();
    expect(received.data).toMatchObject({ reminderDue: { id: catsTask.id } });
    await settle();
    expect(catStream.results).toHaveLength(1);
  });

  it('refuses a subscription without a token, with a forged token and with a malformed header', async () => {
    const eve = await app.signUp('eve');
    const [header, payload] = eve.token.split('.');
    const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;

    for (const options of [{}, { token: forged }, { headers: { authorization: 'Basic ZXZlOmV2ZQ==' } }]) {
      const subscription = await subscribeOverSse(app, ReminderDueDocument, options);
      open.push(subscription);
      const result = await subscription.next();
      expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
      expect(result.data ?? null).toBeNull();
      await subscription.completed;
    }
    expect(events.listenerCount(reminderTopic(uuidOf(eve.userId)))).toBe(0);
  });
});
