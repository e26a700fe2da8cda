import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createTestApp, type TestApp } from '../support/app.js';

// A client's mistake is one line in the log, at info or warn, under its request id; a failure of the
// server is still an error. Every line the server writes is captured (at debug, the most it writes)
// while requests go to the listener `npm start` serves, over a socket.

interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  errorCodes?: string[];
  err?: { message?: string };
}

const lines: string[] = [];
const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
const logged = () => lines.map((line) => JSON.parse(line) as LogLine);

let app: TestApp;
let failing: TestApp;
const servers: Server[] = [];
let url: string;
let failingUrl: string;

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

beforeAll(async () => {
  app = await createTestApp({ logger });
  // The same API with a statement runner that has a bug: every task read throws.
  failing = await createTestApp({ database: app.database, logger, runStatement: () => Promise.reject(new TypeError('compiled statement bug')) });
  url = await serve(app.yoga.httpListener);
  failingUrl = await serve(failing.yoga.httpListener);
});
afterAll(async () => {
  for (const server of servers) server.close();
  await failing?.close();
  await app?.close();
});

const json = { 'content-type': 'application/json', accept: 'application/json' };

/** Sends the request; then a well-formed one, whose own log line is the signal that the first is fully logged. */
async function send(target: string, init: RequestInit & { headers?: Record<string, string> }, query = '') {
  const requestId = `request-${randomUUID()}`;
  const response = await fetch(`${target}${query}`, { ...init, headers: { ...init.headers, 'x-request-id': requestId } });
  expect(response.headers.get('x-request-id')).toBe(requestId);
  const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
  const markerId = `marker-${randomUUID()}`;
  await fetch(url, { method: 'POST', headers: { ...json, 'x-request-id': markerId }, body: JSON.stringify({ query: '{ __typename }' }) });
  await vi.waitFor(() => expect(logged().some((line) => line.requestId === markerId)).toBe(true));
  const mentioning = lines.filter((line) => line.includes(requestId)).map((line) => JSON.parse(line) as LogLine);
  return { status: response.status, codes: (body.errors ?? []).map((error) => error.extensions?.code), mentioning, requestId };
}

const post = (body: string, headers: Record<string, string> = json) => ({ method: 'POST', headers, body });

describe("a client's mistake", () => {
  const mistakes: [string, () => Promise<Awaited<ReturnType<typeof send>>>, number, string][] = [
    ['a body that is not JSON', () => send(url, post('{ "not a JSON')), 400, 'BAD_REQUEST'],
    ['a GET without the CSRF header', () => send(url, { method: 'GET' }, '?query=%7B__typename%7D'), 403, 'BAD_REQUEST'],
    ['a document that does not parse', () => send(url, post(JSON.stringify({ query: '{ __typename' }))), 200, 'GRAPHQL_PARSE_FAILED'],
    ['a document that does not validate', () => send(url, post(JSON.stringify({ query: '{ noSuchField }' }))), 200, 'GRAPHQL_VALIDATION_FAILED'],
    [
      'variables that do not fit their types',
      () => send(url, post(JSON.stringify({ query: 'query Type($name: String!) { __type(name: $name) { name } }', variables: { name: 5 } }))),
      400,
      'BAD_USER_INPUT',
    ],
  ];

  for (const [mistake, request, status, code] of mistakes) {
    it(`${mistake} is logged once, at info or warn`, async () => {
      const errorsBefore = logged().filter((line) => line.level >= 50).length;
      const answer = await request();
      expect({ status: answer.status, codes: answer.codes }).toEqual({ status, codes: [code] });
      expect(answer.mentioning).toHaveLength(1);
      expect([30, 40]).toContain(answer.mentioning[0]!.level);
      expect(answer.mentioning[0]!.errorCodes).toEqual([code]);
      expect(logged().filter((line) => line.level >= 50).slice(errorsBefore)).toEqual([]);
    });
  }

  it('leaves a well-formed operation with its one operation line', async () => {
    const answer = await send(url, post(JSON.stringify({ query: '{ __typename }' })));
    expect(answer.status).toBe(200);
    expect(answer.mentioning).toEqual([expect.objectContaining({ level: 30, msg: 'graphql operation', errorCodes: [] })]);
  });
});

describe('a failure of the server', () => {
  it('is logged at error, once, with its request id and cause', async () => {
    const { token } = await app.signUp('failing-reads');
    const errorsBefore = logged().filter((line) => line.level >= 50).length;
    const answer = await send(failingUrl, post(JSON.stringify({ query: '{ tasks(first: 1) { totalCount } }' }), { ...json, authorization: `Bearer ${token}` }));
    expect(answer.codes).toEqual(['INTERNAL_SERVER_ERROR']);
    const errors = logged().filter((line) => line.level >= 50).slice(errorsBefore);
    expect(errors).toEqual([expect.objectContaining({ requestId: answer.requestId, err: expect.objectContaining({ message: 'compiled statement bug' }) })]);
  });
});
