import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTagDocument, CreateTaskDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';

// Over node:http, a query text yoga has already planned as a direct read is answered before yoga's
// pipeline (src/http/direct-read-requests.ts). Every request here goes twice to such a server (the
// first teaches it the text) and once to an app with DIRECT_READS=off served by yoga alone: status,
// headers and body must be the same. The via="http" metric proves which requests skipped yoga.

let fast: TestApp;
let reference: TestApp;
const servers: Server[] = [];
let fastUrl: string;
let referenceUrl: string;
let token: string;
let otherToken: string;
let taskId: string;
let otherTaskId: string;

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  fast = await createTestApp();
  reference = await createTestApp({ database: fast.database, env: { DIRECT_READS: 'off' } });
  fastUrl = await serve(fast.yoga.httpListener);
  referenceUrl = await serve(reference.yoga.httpListener);
  ({ token } = await fast.signUp('http-direct'));
  const tag = (await fast.graphql(CreateTagDocument, { input: { name: 'work', color: '#aa0000' } }, { token })).data!.createTag.id;
  for (let i = 0; i < 5; i++) {
    const dueAt = new Date(Date.now() + i * 86_400_000).toISOString();
    const created = await fast.graphql(CreateTaskDocument, { input: { title: `Task "${i}" é`, dueAt, tagIds: i % 2 ? [tag] : [] } }, { token });
    taskId ??= created.data!.createTask.id;
  }
  const other = await fast.signUp('http-direct-other');
  otherToken = other.token;
  otherTaskId = (await fast.graphql(CreateTaskDocument, { input: { title: 'not yours' } }, { token: otherToken })).data!.createTask.id;
}, 60_000);
afterAll(async () => {
  for (const server of servers) server.close();
  await reference?.close();
  await fast?.close();
});

interface Sent {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function send(base: string, body: string, headers: Record<string, string>): Promise<Sent> {
  const response = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const kept = Object.fromEntries([...response.headers].filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name)));
  if (!headers['x-request-id']) delete kept['x-request-id'];
  return { status: response.status, headers: kept, body: await response.text() };
}

async function metric(app: TestApp, prefix: string): Promise<number> {
  const text = await (await app.fetch('/metrics')).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}
const answeredBeforeYoga = (app: TestApp) => metric(app, 'tasks_api_direct_reads_total{outcome="direct",via="http"}');

/** Sends the request twice to the fast server and once to the reference; returns the second answer and whether it skipped yoga. */
async function compare(body: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) {
  await send(fastUrl, body, headers);
  const before = await answeredBeforeYoga(fast);
  const mine = await send(fastUrl, body, headers);
  const skipped = (await answeredBeforeYoga(fast)) - before;
  const theirs = await send(referenceUrl, body, headers);
  expect(mine).toEqual(theirs);
  return { answer: mine, skipped };
}

const S1 = 'query S1 { tasks(first: 20, filter: { completed: false }, orderBy: [{ field: DUE_AT, direction: ASC }]) { edges { node { id title dueAt tags { id name } } } } }';
const query = (text: string, variables?: Record<string, unknown>, operationName?: string) => JSON.stringify({ query: text, variables, operationName });

describe('direct reads answered before yoga, over HTTP', () => {
  it('answers planned reads with the bytes, status and headers yoga sends', async () => {
    const cases = [
      query(S1),
      query(S1, {}, 'S1'),
      query('query T($id: ID!) { task(id: $id) { id title tags { name } } }', { id: taskId }),
      query('fragment F on Task { t: title } { a: tasks(first: 2) { totalCount edges { cursor node { ...F } } pageInfo { hasNextPage endCursor } } }'),
    ];
    for (const body of cases) {
      const { answer, skipped } = await compare(body);
      expect(skipped, body).toBe(1);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body).errors, body).toBeUndefined();
    }
  });

  it('chooses the content type from Accept as yoga does, and echoes a request id', async () => {
    const accepts = ['application/json', 'application/graphql-response+json', 'application/graphql-response+json,application/json;q=0.9', '*/*', 'application/*'];
    for (const accept of accepts) {
      const { answer, skipped } = await compare(query(S1), { authorization: `Bearer ${token}`, accept, 'x-request-id': `req-${accepts.indexOf(accept)}` });
      expect(skipped, accept).toBe(1);
      expect(answer.headers['x-request-id']).toBe(`req-${accepts.indexOf(accept)}`);
    }
    for (const accept of ['text/event-stream', 'application/xml', 'application/json; charset=latin1']) {
      expect((await compare(query(S1), { authorization: `Bearer ${token}`, accept })).skipped, accept).toBe(0);
    }
  });

  it("returns null for another user's task, as yoga does", async () => {
    const { answer, skipped } = await compare(query('query T($id: ID!) { task(id: $id) { id title } }', { id: otherTaskId }));
    expect(skipped).toBe(1);
    expect(JSON.parse(answer.body)).toEqual({ data: { task: null } });
  });

  it('leaves to yoga whatever is not plainly a planned read, which answers it as before', async () => {
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(crypto.randomUUID()).setExpirationTime('1h').sign(new TextEncoder().encode('another-secret-that-is-32-bytes-long!!'));
    const cases: [string, string, Record<string, string>][] = [
      ['no token', query(S1), {}],
      ['a forged token', query(S1), { authorization: `Bearer ${forged}` }],
      ['a malformed Authorization header', query(S1), { authorization: 'Basic abc' }],
      ['a variable of the wrong type', query('query L($n: Int) { tasks(first: $n) { edges { node { id } } } }', { n: 'x' }), { authorization: `Bearer ${token}` }],
      ['a cursor that is not one', query('{ tasks(last: 2, before: "bm90") { edges { node { id } } } }'), { authorization: `Bearer ${token}` }],
      ['another operation name', query(S1, {}, 'Other'), { authorization: `Bearer ${token}` }],
      ['an unexpected body key', JSON.stringify({ query: S1, extra: 1 }), { authorization: `Bearer ${token}` }],
      ['extensions', JSON.stringify({ query: S1, extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } }), { authorization: `Bearer ${token}` }],
      ['a batch', JSON.stringify([{ query: S1 }]), { authorization: `Bearer ${token}` }],
      ['malformed JSON', '{"query": ', { authorization: `Bearer ${token}` }],
      ['variables that are not an object', JSON.stringify({ query: S1, variables: [1] }), { authorization: `Bearer ${token}` }],
      ['text/plain (CSRF)', query(S1), { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }],
      ['a mutation', query('mutation { createTag(input: { name: "x" }) { name } }'), { authorization: `Bearer ${otherToken}` }],
    ];
    for (const [name, body, headers] of cases) {
      const before = await answeredBeforeYoga(fast);
      const mine = await send(fastUrl, body, headers);
      const again = await send(fastUrl, body, headers);
      const theirs = await send(referenceUrl, body, headers);
      expect((await answeredBeforeYoga(fast)) - before, name).toBe(0);
      if (name === 'a mutation') {
        expect([mine.status, again.status, theirs.status], name).toEqual([200, 200, 200]);
        expect(JSON.parse(again.body).errors[0].extensions.code, name).toBe('CONFLICT');
        continue;
      }
      expect(mine, name).toEqual(theirs);
      expect(again, name).toEqual(theirs);
    }
  });

  it('refuses an oversized body by its declared length before reading it', async () => {
    const body = query(`${S1} ${'#'.repeat(1_100_000)}`);
    const mine = await send(fastUrl, body, { authorization: `Bearer ${token}` });
    expect(mine.status).toBe(413);
    expect(mine).toEqual(await send(referenceUrl, body, { authorization: `Bearer ${token}` }));
  });

  it('leaves a cross-origin request to yoga when CORS is on, for its headers', async () => {
    const env = { CORS_ORIGINS: 'https://app.example.com' };
    const withCors = await createTestApp({ database: fast.database, env });
    const referenceWithCors = await createTestApp({ database: fast.database, env: { ...env, DIRECT_READS: 'off' } });
    try {
      const url = await serve(withCors.yoga.httpListener);
      const referenceCorsUrl = await serve(referenceWithCors.yoga.httpListener);
      const headers = { authorization: `Bearer ${token}`, origin: 'https://app.example.com' };
      await send(url, query(S1), headers);
      const mine = await send(url, query(S1), headers);
      expect(mine.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(mine).toEqual(await send(referenceCorsUrl, query(S1), headers));
      expect(await answeredBeforeYoga(withCors)).toBe(0);
    } finally {
      await withCors.close();
      await referenceWithCors.close();
    }
  });

  it('counts the request in the request histogram as yoga does', async () => {
    const count = () => metric(fast, 'graphql_yoga_http_duration_count{operationName="S1",operationType="query",method="POST",statusCode="200"}');
    const before = await count();
    const skippedBefore = await answeredBeforeYoga(fast);
    await send(fastUrl, query(S1), { authorization: `Bearer ${token}` });
    expect((await answeredBeforeYoga(fast)) - skippedBefore).toBe(1);
    expect((await count()) - before).toBe(1);
  });

  it('reports a database failure as yoga does, without running the read twice', async () => {
    let runs = 0;
    const unavailable = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    const failing = await createTestApp({ database: fast.database, runStatement: () => ((runs += 1), unavailable()) });
    const failingReference = await createTestApp({ database: fast.database, env: { DIRECT_READS: 'off' }, runStatement: unavailable });
    try {
      const url = await serve(failing.yoga.httpListener);
      const referenceFailingUrl = await serve(failingReference.yoga.httpListener);
      const headers = { authorization: `Bearer ${token}` };
      await send(url, query(S1), headers);
      runs = 0;
      const mine = await send(url, query(S1), headers);
      expect(runs).toBe(1);
      expect(JSON.parse(mine.body).errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect(mine).toEqual(await send(referenceFailingUrl, query(S1), headers));
    } finally {
      await failing.close();
      await failingReference.close();
    }
  });
});
