import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';

// The queue lives in PostgreSQL: the server is killed (SIGKILL, no shutdown) while a delivery is in
// flight, a new one starts on the same database, and every event still arrives, in order, the one cut
// off again under its first delivery id.

const WEBHOOK_ENV = { WEBHOOK_ALLOW_PRIVATE: 'on', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_POLL_MS: '100' };

let database: TestDatabase;
let receiver: Receiver;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  receiver = await startReceiver();
});
afterAll(async () => {
  for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  await receiver?.close();
  await database?.drop();
});

async function graphql<T>(server: ServerProcess, query: string, variables: object, token?: string): Promise<T> {
  const response = await fetch(`${server.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json()) as { data?: T; errors?: unknown[] };
  if (!result.data || result.errors) throw new Error(`request failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

describe('a server killed mid-delivery', () => {
  it('loses nothing: the next one sends every event, in order, the cut-off one under the same id', async () => {
    const first = await startServerProcess(database.url, WEBHOOK_ENV);
    servers.push(first);
    const { signUp } = await graphql<{ signUp: { token: string } }>(first, 'mutation($i: SignUpInput!) { signUp(input: $i) { token } }', {
      i: { email: `restart-${Date.now()}@example.com`, password: 'long enough password' },
    });
    const { createWebhook } = await graphql<{ createWebhook: { secret: string } }>(
      first,
      'mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret } }',
      { i: { url: receiver.url, events: ['task.created'] } },
      signUp.token,
    );
    receiver.setSecret(createWebhook.secret);
    receiver.answerWith((request) => (request === 0 ? 'hang' : { status: 200 }));
    const inFlight = receiver.hanging();

    const titles = Array.from({ length: 10 }, (_, index) => `task ${index}`);
    for (const title of titles) {
      await graphql(first, 'mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }', { i: { title } }, signUp.token);
    }
    await inFlight;
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const cutOff = receiver.received[0]!;
    expect(cutOff.answered).toBe(0);

    const second = await startServerProcess(database.url, WEBHOOK_ENV);
    servers.push(second);
    await receiver.waitFor(() => receiver.accepted().length >= titles.length, 30_000);
    const accepted = receiver.accepted();
    expect(accepted.map((delivery) => delivery.data.title)).toEqual(titles);
    expect(accepted[0]!.id).toBe(cutOff.id);
    expect(accepted.every((delivery) => delivery.signed)).toBe(true);
    second.child.kill('SIGTERM');
    await new Promise((resolve) => second.child.once('exit', resolve));
  }, 120_000);
});
