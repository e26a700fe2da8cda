import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTagDocument, CreateTaskDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';

let app: TestApp;
let token: string;
beforeAll(async () => {
  app = await createTestApp();
  ({ token } = await app.signUp('retrying'));
});
afterAll(() => app?.close());

const rows = async (table: 'tasks' | 'tags', key: string) =>
  Number((await app.pool.query(`SELECT count(*) AS n FROM ${table} WHERE idempotency_key = $1`, [key])).rows[0].n);

describe('idempotent creates', () => {
  it('a retried createTask with the same key returns the first task and creates nothing', async () => {
    const input = { title: 'Pay rent', idempotencyKey: 'rent-2026-12' };
    const first = await app.graphql(CreateTaskDocument, { input }, { token });
    const retry = await app.graphql(CreateTaskDocument, { input }, { token });
    expect(retry.data!.createTask.id).toBe(first.data!.createTask.id);
    expect(await rows('tasks', 'rent-2026-12')).toBe(1);
  });

  it('the same key arriving many times at once still creates one task', async () => {
    const input = { title: 'Concurrent', idempotencyKey: 'burst-1' };
    const results = await Promise.all(Array.from({ length: 10 }, () => app.graphql(CreateTaskDocument, { input }, { token })));
    for (const result of results) expect(result.errors).toBeUndefined();
    expect(new Set(results.map((result) => result.data!.createTask.id)).size).toBe(1);
    expect(await rows('tasks', 'burst-1')).toBe(1);
  });

  it('keys are per user: another user with the same key gets their own task', async () => {
    const other = await app.signUp('retrying-too');
    const mine = await app.graphql(CreateTaskDocument, { input: { title: 'a', idempotencyKey: 'shared-key' } }, { token });
    const theirs = await app.graphql(CreateTaskDocument, { input: { title: 'b', idempotencyKey: 'shared-key' } }, { token: other.token });
    expect(theirs.data!.createTask.id).not.toBe(mine.data!.createTask.id);
    expect(theirs.data!.createTask.title).toBe('b');
  });

  it('createTag is idempotent too, also concurrently', async () => {
    const input = { name: 'retry-tag', idempotencyKey: 'tag-key' };
    const results = await Promise.all(Array.from({ length: 6 }, () => app.graphql(CreateTagDocument, { input }, { token })));
    for (const result of results) expect(result.errors).toBeUndefined();
    expect(new Set(results.map((result) => result.data!.createTag.id)).size).toBe(1);
    expect(await rows('tags', 'tag-key')).toBe(1);
  });
});
