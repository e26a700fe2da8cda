import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseIfMissing, withDatabaseName } from '../../src/db/database.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { migrate } from '../../src/db/migrations.js';
import { CreateTaskDocument, TasksDocument } from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';
import { freePort } from '../support/ports.js';

// A PostgreSQL of its own, stopped and started again mid-test: requests fail fast with
// SERVICE_UNAVAILABLE while it is gone, /readyz says 503, and the server recovers by itself.

let dataDir: string;
let port: number;
let server: EmbeddedPostgres;
let app: TestApp;
let token: string;
const TIMEOUT_MS = 1_500;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tasks-api-failure-'));
  port = await freePort();
  server = await startEmbeddedPostgres({ dataDir, port });
  await createDatabaseIfMissing(server.url, 'tasks');
  const url = withDatabaseName(server.url, 'tasks');
  await migrate(url);
  app = await createTestApp({
    database: { url, name: 'tasks', drop: async () => {} },
    env: { DATABASE_CONNECT_TIMEOUT_MS: String(TIMEOUT_MS), DATABASE_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS) },
  });
  ({ token } = await app.signUp('outage'));
}, 120_000);

afterAll(async () => {
  await app?.close();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const ready = async () => (await app.fetch('/readyz')).status;

describe('database outage', () => {
  it('fails fast with SERVICE_UNAVAILABLE and 503 on /readyz, then recovers without a restart', async () => {
    const acknowledged = await app.graphql(CreateTaskDocument, { input: { title: 'before the outage' } }, { token });
    expect(acknowledged.errors).toBeUndefined();
    expect(await ready()).toBe(200);

    await server.stop();

    const started = performance.now();
    const during = await app.graphql(TasksDocument, { first: 5 }, { token });
    const elapsed = performance.now() - started;
    expect(errorCodes(during)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(during.errors![0]!.message).not.toMatch(/ECONNREFUSED|prisma|5432/i);
    // Bounded by the configured timeouts, not hanging (generous margin for a loaded machine).
    expect(elapsed).toBeLessThan(TIMEOUT_MS * 4 + 2_000);
    const write = await app.graphql(CreateTaskDocument, { input: { title: 'during the outage' } }, { token });
    expect(errorCodes(write)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(await ready()).toBe(503);
    expect((await app.fetch('/healthz')).status).toBe(200);

    server = await startEmbeddedPostgres({ dataDir, port });

    let recovered = false;
    for (let attempt = 0; attempt < 40 && !recovered; attempt++) {
      recovered = (await ready()) === 200;
      if (!recovered) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(recovered).toBe(true);
    const after = await app.graphql(TasksDocument, { first: 5 }, { token });
    expect(after.errors).toBeUndefined();
    expect(after.data!.tasks.edges.map((edge) => edge.node.title)).toEqual(['before the outage']);
  });
});
