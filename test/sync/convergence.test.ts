import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { runConvergence } from '../support/convergence.js';

// Two users, three devices each, writing at random over HTTP for a few seconds, while two clients per
// user page `changes` at random moments and one per user follows the live subscription, dropping and
// resuming it. Every copy, built only from what its client received, must equal the server's state.
// `npm run bench:convergence` runs the same for longer (CONVERGENCE_SECONDS, default 60).
const seconds = Number(process.env.CONVERGENCE_SECONDS ?? 4);

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

describe('sync convergence', () => {
  it('leaves every client with exactly the server state of its own user', { timeout: seconds * 1000 + 90_000 }, async () => {
    const users = [await app.signUp('ann'), await app.signUp('ben')];
    const report = await runConvergence(app, { users, devicesPerUser: 3, pagingClientsPerUser: 2, liveClientsPerUser: 1, durationMs: seconds * 1000, minMutations: 150, seed: 7 });
    console.info(`convergence: ${report.mutations} mutations, ${report.changesReceived} changes received by ${report.clients.length} clients, ${report.liveReconnects} live connections`);

    expect(report.unexpectedErrors).toEqual([]);
    expect(report.mutations).toBeGreaterThan(100);
    expect(report.changesReceived).toBeGreaterThan(report.mutations);
    expect(report.liveReconnects).toBeGreaterThan(2);
    for (const client of report.clients) {
      const server = report.server[client.user]!;
      expect(server.size).toBeGreaterThan(1);
      expect(Object.fromEntries(client.copy), `the ${client.kind} client of user ${client.user}`).toEqual(Object.fromEntries(server));
      const other = report.created[1 - client.user]!;
      expect([...client.received].filter((id) => other.has(id))).toEqual([]);
    }
  });
});
