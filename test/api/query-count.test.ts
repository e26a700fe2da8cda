import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteTaskColumnsDocument,
  CompleteTaskDocument,
  ListDocument,
  ListsDocument,
  MoveTaskPositionDocument, CreateTagDocument, CreateTaskDocument, TagsDocument, TaskDocument, TaskListDocument, TasksDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { countStatements } from '../support/sql-counter.js';

// The number of SQL statements a request sends must not grow with the page size: a planned read is
// one statement, and under graphql-js relations and counts are loaded in batches, never one query
// per row.

let app: TestApp;
let token: string;
let sql: ReturnType<typeof countStatements>;
let firstTaskId: string;
let tagIds: string[];

beforeAll(async () => {
  app = await createTestApp();
  ({ token } = await app.signUp('counting'));
  tagIds = [];
  for (const name of ['a', 'b', 'c', 'd']) tagIds.push((await app.graphql(CreateTagDocument, { input: { name } }, { token })).data!.createTag.id);
  for (let i = 0; i < 60; i++) {
    const task = await app.graphql(CreateTaskDocument, { input: { title: `Task ${i} report`, dueAt: new Date(Date.now() + i * 3_600_000).toISOString(), tagIds: [tagIds[i % 4]!, tagIds[(i + 1) % 4]!] } }, { token });
    firstTaskId ??= task.data!.createTask.id;
  }
  sql = countStatements(app.pool);
});
afterAll(() => app?.close());

async function statementsFor(run: () => Promise<{ errors?: unknown }>): Promise<number> {
  sql.reset();
  const result = await run();
  expect(result.errors).toBeUndefined();
  return sql.count;
}

describe('SQL statements per request', () => {
  it('S1: a page of tasks with their tags costs the same for 5 and for 50 tasks', async () => {
    const five = await statementsFor(() => app.graphql(TaskListDocument, { first: 5 }, { token }));
    const fifty = await statementsFor(() => app.graphql(TaskListDocument, { first: 50 }, { token }));
    expect(fifty).toBe(five);
    // One statement: tasks with their tags folded in (Prisma's relation joins).
    expect(five).toBe(1);
  });

  it('with totalCount and every field, still constant', async () => {
    const five = await statementsFor(() => app.graphql(TasksDocument, { first: 5 }, { token }));
    const fifty = await statementsFor(() => app.graphql(TasksDocument, { first: 50 }, { token }));
    expect(fifty).toBe(five);
  });

  it('S2: one task with its tags', async () => {
    expect(await statementsFor(() => app.graphql(TaskDocument, { id: firstTaskId }, { token }))).toBe(1);
  });

  it('S5: search and tag filter page is constant in page size', async () => {
    const filter = { search: 'report', tagIds: [tagIds[0]!] };
    const five = await statementsFor(() => app.graphql(TasksDocument, { first: 5, filter }, { token }));
    const fifty = await statementsFor(() => app.graphql(TasksDocument, { first: 50, filter }, { token }));
    expect(fifty).toBe(five);
    // The page and its totalCount, in one statement.
    expect(five).toBe(1);
  });

  it('S3: creating a task is one INSERT once the server knows where the Inbox ends; a read of where it goes first', async () => {
    const { token: fresh } = await app.signUp('s3');
    // The first: the Inbox and its last position, then INSERT ... RETURNING with every field, the (empty) tags included.
    expect(await statementsFor(() => app.graphql(CreateTaskDocument, { input: { title: 'first' } }, { token: fresh }))).toBe(2);
    // Then the INSERT alone, which checks that nothing sorts after the new task.
    expect(await statementsFor(() => app.graphql(CreateTaskDocument, { input: { title: 'second' } }, { token: fresh }))).toBe(1);
    // The place and the tags check, INSERT task with its links, then its tags.
    const withTags = await statementsFor(() => app.graphql(CreateTaskDocument, { input: { title: 'tagged', tagIds: tagIds.slice(0, 2) } }, { token }));
    expect(withTags).toBe(3);
  });

  it('a page of 50 tasks of a list with their tags, subtasks and subtask counts is one statement', async () => {
    const list = (await app.graphql(ListsDocument, {}, { token })).data!.inbox.id;
    expect(await statementsFor(() => app.graphql(ListDocument, { id: list, first: 50, filter: { topLevel: true } }, { token }))).toBe(1);
  });

  it('a move is a read of its neighbours and one UPDATE, however long the list', async () => {
    const page = await app.graphql(ListDocument, { id: (await app.graphql(ListsDocument, {}, { token })).data!.inbox.id, first: 3, filter: { topLevel: true } }, { token });
    const [first, second] = page.data!.list!.tasks.edges.map((edge) => edge.node.id);
    expect(await statementsFor(() => app.graphql(MoveTaskPositionDocument, { input: { id: first!, afterId: second! } }, { token }))).toBe(2);
  });

  it('S4: completing a recurring task is a read and one statement that writes both tasks; tags are read again only when asked for', async () => {
    const recurring = async () =>
      (await app.graphql(CreateTaskDocument, { input: { title: 'weekly', dueAt: '2030-01-07T09:00:00.000Z', recurrence: 'FREQ=WEEKLY', tagIds: tagIds.slice(0, 1) } }, { token })).data!
        .createTask.id;
    // The task with its tags and its owner's zone, then the claim with the next occurrence and its tag link.
    const first = await recurring();
    expect(await statementsFor(() => app.graphql(CompleteTaskColumnsDocument, { id: first }, { token }))).toBe(2);
    // Every field with tags: the tags of both tasks in one more statement.
    const second = await recurring();
    expect(await statementsFor(() => app.graphql(CompleteTaskDocument, { id: second }, { token }))).toBe(2 + 1);
  });

  it('tags with their counts are one statement; under graphql-js one batched statement per place in the query', async () => {
    expect(await statementsFor(() => app.graphql(TagsDocument, {}, { token }))).toBe(1);
    const resolved = await createTestApp({ database: app.database, env: { DIRECT_READS: 'off' } });
    try {
      const counter = countStatements(resolved.pool);
      const result = await resolved.graphql(TagsDocument, {}, { token });
      expect(result.errors).toBeUndefined();
      // tags + taskCount batch + taskCount(completed: false) batch
      expect(counter.count).toBe(3);
    } finally {
      await resolved.close();
    }
  });

  it('under graphql-js, a page of tasks with tags and counts stays constant in page size', async () => {
    const resolved = await createTestApp({ database: app.database, env: { DIRECT_READS: 'off' } });
    try {
      const counter = countStatements(resolved.pool);
      const run = async (first: number) => {
        counter.reset();
        const result = await resolved.graphql(TasksDocument, { first }, { token });
        expect(result.errors).toBeUndefined();
        return counter.count;
      };
      const five = await run(5);
      expect(await run(50)).toBe(five);
      // The page, its tags, and totalCount.
      expect(five).toBe(3);
    } finally {
      await resolved.close();
    }
  });
});
