import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess } from '../support/server-process.js';

// The real process (src/main.ts) under SIGTERM with mutations in flight: it stops accepting, lets
// in-flight requests finish, closes everything and exits 0; every mutation it acknowledged is stored.

let database: TestDatabase;
let server: ChildProcess;
let baseUrl: string;
let output: () => string;

beforeAll(async () => {
  database = await createTestDatabase();
  const started = await startServerProcess(database.url, { REMINDERS: 'off', SHUTDOWN_TIMEOUT_MS: '30000' });
  server = started.child;
  baseUrl = started.baseUrl;
  output = started.output;
}, 90_000);

afterAll(async () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  await database?.drop();
});

const graphql = (query: string, variables: object, token?: string) =>
  fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });

describe('graceful shutdown', () => {
  it('drains in-flight mutations on SIGTERM, stores each acknowledged one and exits 0', async () => {
    const signUp = await graphql('mutation($i: SignUpInput!) { signUp(input: $i) { token } }', {
      i: { email: `drain-${Date.now()}@example.com`, password: 'long enough password' },
    });
    const token = ((await signUp.json()) as { data: { signUp: { token: string } } }).data.signUp.token;

    // An open subscription (an SSE stream that never ends by itself) must not hold the drain open.
    const subscription = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'subscription { reminderDue { id } }' }),
    });
    expect(subscription.status).toBe(200);
    const streamEnded = subscription.text();

    const inFlight = Array.from({ length: 40 }, (_, i) =>
      graphql('mutation($i: CreateTaskInput!) { createTask(input: $i) { id title } }', { i: { title: `in flight ${i}` } }, token)
        .then(async (response) => ({ status: response.status, body: (await response.json()) as { data?: { createTask: { id: string; title: string } } } }))
        .catch((error: Error) => ({ status: 0, error: error.message, body: {} as { data?: { createTask: { id: string; title: string } } } })),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const signalled = performance.now();
    server.kill('SIGTERM');
    const [results, [exitCode]] = await Promise.all([Promise.all(inFlight), once(server, 'exit')]);
    // Well inside SHUTDOWN_TIMEOUT_MS (30 s): nothing waited for the forced close.
    expect(performance.now() - signalled).toBeLessThan(15_000);
    await streamEnded;

    expect(exitCode).toBe(0);
    expect(output()).toMatch(/shutting down/);
    expect(output()).toMatch(/"msg":"stopped"/);
    const acknowledged = results.flatMap((result) => (result.body.data?.createTask ? [result.body.data.createTask.title] : []));
    expect(acknowledged.length).toBeGreaterThan(0);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const stored = (await client.query<{ title: string }>('SELECT title FROM tasks')).rows.map((row) => row.title);
      for (const title of acknowledged) expect(stored).toContain(title);
    } finally {
      await client.end();
    }
    // Nothing listens any more.
    await expect(fetch(`${baseUrl}/healthz`)).rejects.toThrow();
  });
});
