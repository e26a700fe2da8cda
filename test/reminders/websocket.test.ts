import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../../src/logger.js';
import { startReminderWorker, type ReminderWorker } from '../../src/tasks/reminders.js';
import { CreateTaskDocument, ReminderDueDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { recordingPubSub, reminderTopic, uuidOf, type RecordingEventTarget } from '../support/events.js';

// reminderDue over graphql-ws on a real listening server, as Apollo Client or urql would use it: the
// token travels in connection_init's payload, since browsers cannot set headers on a WebSocket.

let app: TestApp;
let events: RecordingEventTarget;
let reminders: ReminderWorker;
let url: string;
const clients: Client[] = [];

beforeAll(async () => {
  const recording = recordingPubSub();
  events = recording.target;
  app = await createTestApp({ pubsub: recording.pubsub });
  reminders = startReminderWorker({ prisma: app.prisma, pubsub: recording.pubsub, logger: createLogger('silent'), pollMs: 3_600_000 });
  url = app.webSocketUrl;
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await reminders?.stop();
  await app?.close();
});

function connect(connectionParams: Record<string, unknown> = {}): Client {
  const client = createClient({ url, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
  clients.push(client);
  return client;
}

interface Outcome {
  results: unknown[];
  /** The errors the operation ended with, if any. */
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Subscribes and collects results until the operation ends (or for as long as the test runs). */
function subscribe(client: Client): { outcome: Outcome; ended: Promise<Outcome> } {
  const outcome: Outcome = { results: [] };
  const ended = new Promise<Outcome>((resolve) => {
    client.subscribe(
      { query: print(ReminderDueDocument) },
      {
        next: (result) => {
          outcome.results.push(result);
          if (result.errors) outcome.errors = result.errors as Outcome['errors'];
        },
        error: (error) => {
          outcome.errors = Array.isArray(error) ? error : [{ message: String(error) }];
          resolve(outcome);
        },
        complete: () => resolve(outcome),
      },
    );
  });
  return { outcome, ended };
}

describe('reminderDue over graphql-ws', () => {
  it('delivers the viewer’s reminder to their socket, authenticated by connectionParams, and nothing to another user', async () => {
    const fay = await app.signUp('fay');
    const gus = await app.signUp('gus');
    const faySubscription = subscribe(connect({ authorization: `Bearer ${fay.token}` }));
    const gusSubscription = subscribe(connect({ authorization: `Bearer ${gus.token}` }));
    await events.listening(reminderTopic(uuidOf(fay.userId)));
    await events.listening(reminderTopic(uuidOf(gus.userId)));

    const task = (await app.graphql(CreateTaskDocument, { input: { title: 'Fay: stretch', remindAt: new Date(Date.now() - 60_000).toISOString() } }, { token: fay.token }))
      .data!.createTask;
    expect(await reminders.runOnce()).toBe(1);

    await expect.poll(() => faySubscription.outcome.results.length).toBe(1);
    expect(faySubscription.outcome.results[0]).toMatchObject({ data: { reminderDue: { id: task.id, title: 'Fay: stretch' } } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gusSubscription.outcome.results).toEqual([]);
  });

  it('refuses a subscription without a token or with a forged one (UNAUTHENTICATED)', async () => {
    const hal = await app.signUp('hal');
    const [header, payload] = hal.token.split('.');
    const forged = `${header}.${payload}.${Buffer.from('forged').toString('base64url')}`;

    for (const params of [{}, { authorization: `Bearer ${forged}` }]) {
      const { errors } = await subscribe(connect(params)).ended;
      expect(errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    }
    expect(events.listenerCount(reminderTopic(uuidOf(hal.userId)))).toBe(0);
  });
});
