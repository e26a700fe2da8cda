import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDatabaseIfMissing, withDatabaseName } from '../../src/db/database.js';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { migrate } from '../../src/db/migrations.js';
import { dropDatabase } from './databases.js';
import { freePort } from './ports.js';

// One PostgreSQL server for the whole run: TEST_DATABASE_URL when set (its database is only used to
// reach the server), else an embedded server in a temporary directory. A template database is
// migrated once; each test file clones it (test/support/databases.ts).

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  let serverUrl = process.env.TEST_DATABASE_URL;
  let stopServer = async () => {};
  if (!serverUrl) {
    const dataDir = await mkdtemp(join(tmpdir(), 'tasks-api-test-'));
    const server = await startEmbeddedPostgres({ dataDir, port: await freePort() });
    serverUrl = server.url;
    stopServer = async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const templateDatabase = `tasks_template_${process.pid}`;
  await dropDatabase(serverUrl, templateDatabase);
  await createDatabaseIfMissing(serverUrl, templateDatabase);
  await migrate(withDatabaseName(serverUrl, templateDatabase));

  project.provide('serverUrl', serverUrl);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    await dropDatabase(serverUrl, templateDatabase);
    await stopServer();
  };
}
