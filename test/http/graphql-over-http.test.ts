import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serverAudits, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

// graphql-http's audit of the GraphQL over HTTP spec, against the listener `npm start` serves, over a
// socket. Every MUST and SHOULD has to pass; a MAY that fails is noted on its test, not required.
// The audits send no token: `{ __typename }` and `__type(...)` need no viewer, and `__type` needs
// introspection, which is on outside production (INTROSPECTION).

let app: TestApp;
let server: Server;
let url: string;

beforeAll(async () => {
  app = await createTestApp();
  server = createServer(app.yoga.httpListener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  server?.close();
  await app?.close();
});

// CSRF prevention refuses a GET without a custom header, because a browser sends such a GET cross-site
// without a preflight. The audit is not a browser: it sends the header as the documented clients do,
// so its GET audits test GraphQL over GET rather than the CSRF refusal.
const auditFetch = (input: string, init: RequestInit = {}) =>
  fetch(input, (init.method ?? 'GET') === 'GET' ? { ...init, headers: { ...(init.headers as Record<string, string>), 'x-graphql-csrf': '1' } } : init);

async function explained(result: AuditResult): Promise<string> {
  if (result.status === 'ok') return 'ok';
  return `${result.reason}: ${result.response.status} ${(await result.response.text()).slice(0, 500)}`;
}

describe('GraphQL over HTTP audit (graphql-http)', () => {
  for (const audit of serverAudits({ url: () => url, fetchFn: auditFetch })) {
    if (audit.name.startsWith('MAY')) {
      it(`${audit.id} ${audit.name}`, async ({ annotate }) => {
        const result = await audit.fn();
        if (result.status !== 'ok') await annotate(await explained(result), 'notice');
      });
    } else {
      it(`${audit.id} ${audit.name}`, async () => {
        const result = await audit.fn();
        expect(await explained(result)).toBe('ok');
      });
    }
  }
});
