import { Writable } from 'node:stream';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskError } from '../../src/http/errors.js';
import { createLogger } from '../../src/logger.js';
import { CreateTaskDocument, MeDocument, SignInDocument, TasksDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ logger: createLogger('debug', sink) });
});
afterAll(() => app?.close());

const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('logs', () => {
  it('write one JSON line per operation with request id, operation name, duration and error codes', async () => {
    const { token } = await app.signUp('logged');
    const response = await app.post({ query: 'query Mine { me { id } }', operationName: 'Mine' }, { authorization: `Bearer ${token}`, 'x-request-id': 'req-12345' });
    expect(response.headers.get('x-request-id')).toBe('req-12345');
    await app.graphql(SignInDocument, { input: { email: 'nobody@example.com', password: 'wrong password' } });
    const operations = logged().filter((line) => line.msg === 'graphql operation');
    expect(operations).toContainEqual(expect.objectContaining({ requestId: 'req-12345', operationName: 'Mine', errorCodes: [], durationMs: expect.any(Number) }));
    expect(operations).toContainEqual(expect.objectContaining({ operationName: 'SignIn', errorCodes: ['UNAUTHENTICATED'] }));
  });

  it('never contain passwords, tokens or password hashes', async () => {
    const secretPassword = 'hunter2-very-secret-password';
    const user = await app.graphql(
      { ...(await import('../generated/graphql.js')).SignUpDocument },
      { input: { email: `secret-${Date.now()}@example.com`, password: secretPassword } },
    );
    const token = user.data!.signUp.token;
    await app.graphql(SignInDocument, { input: { email: 'x@example.com', password: secretPassword } });
    await app.graphql(MeDocument, {}, { token });
    await app.graphql(CreateTaskDocument, { input: { title: 'logged task' } }, { token });
    await app.graphql(TasksDocument, { first: 5 }, { token: `${token}tampered` });
    const hash = (await app.pool.query('SELECT password_hash FROM users WHERE password_hash IS NOT NULL LIMIT 1')).rows[0].password_hash as string;
    // Even when a caller logs whole objects carrying secrets, pino redacts them.
    app.logger.info({ password: secretPassword, token, user: { passwordHash: hash }, headers: { authorization: `Bearer ${token}` } }, 'careless');
    const everything = lines.join('\n');
    expect(lines.length).toBeGreaterThan(3);
    expect(everything).not.toContain(secretPassword);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(hash);
    expect(everything).toContain('[redacted]');
  });
});

describe('error masking', () => {
  it('passes expected errors through and masks the unexpected with a generic message', () => {
    const expected = new GraphQLError('Task not found', { extensions: { code: 'NOT_FOUND' } });
    expect(maskError(expected)).toBe(expected);
    const bug = maskError(new GraphQLError('boom', { originalError: new TypeError("Cannot read properties of undefined (reading 'x')") }));
    expect(bug.message).toMatch(/^Unexpected error/);
    expect((bug as GraphQLError).extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(bug.message).not.toContain('Cannot read');
    const down = maskError(new GraphQLError('x', { originalError: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }) }));
    expect((down as GraphQLError).extensions.code).toBe('SERVICE_UNAVAILABLE');
  });
});

describe('metrics', () => {
  it('exposes request counts and durations per operation, errors, pool and process metrics', async () => {
    const { token } = await app.signUp('measured');
    await app.graphql(TasksDocument, { first: 3 }, { token });
    await app.graphql(TasksDocument, { first: 3, filter: { tagIds: ['bad'] } }, { token });
    const response = await app.fetch('/metrics');
    expect(response.status).toBe(200);
    const text = await response.text();
    // Labels in any order: each (?=...) looks inside one series' braces.
    expect(text).toMatch(/graphql_yoga_http_duration_count\{(?=[^}]*operationName="Tasks")(?=[^}]*statusCode="200")[^}]*\} [1-9]/);
    expect(text).toMatch(/graphql_envelop_error_result\{(?=[^}]*operationName="Tasks")(?=[^}]*phase="execute")[^}]*\} [1-9]/);
    expect(text).toMatch(/tasks_api_db_pool_connections\{state="total"\} [0-9]/);
    expect(text).toMatch(/process_resident_memory_bytes/);
    expect(text).toMatch(/tasks_api_db_statements_total [1-9]/);
  });

  it('keep a bounded number of series however many operation names, aliases and URLs clients send', async () => {
    const { token } = await app.signUp('many-names');
    for (let i = 0; i < 300; i++) {
      // A new operation name, an erroring alias and a query string each time: as labels, each would be a
      // new series kept for the life of the process.
      const query = `query Op${i} { a${i}: task(id: "bad-${i}") { id } }`;
      await app.fetch(`/graphql?n=${i}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
    }
    const text = await (await app.fetch('/metrics')).text();
    const series = (name: string) => text.split('\n').filter((line) => line.startsWith(`${name}{`));
    expect(series('graphql_yoga_http_duration_count').length).toBeLessThanOrEqual(110);
    expect(series('graphql_envelop_error_result').length).toBeLessThanOrEqual(110);
    expect(text).not.toMatch(/n=2\d\d/);
    expect(text).toMatch(/operationName="other"/);
  });
});
