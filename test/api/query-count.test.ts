import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompleteTaskColumnsDocument, CompleteTaskDocument, CreateTagDocument, CreateTaskDocument, TagsDocument, TaskDocument, TaskListDocument, TasksDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { countStatements } from '../support/sql-counter.js';

// The number of SQL statements a request sends must not grow with the page size: relations and
// counts are loaded in batches (plugin-prisma selections, DataLoaders), never one query per row.

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
    // The page, and its totalCount because the document asks for it.
    expect(five).toBe(2);
  });

  it('S3: creating a task without tags is one INSERT; with tags one transaction and a read', async () => {
    // INSERT ... RETURNING answers every field, the (empty) tags included.
    expect(await statementsFor(() => app.graphql(CreateTaskDocument, { input: { title: 'one statement' } }, { token }))).toBe(1);
    // The tags check, INSERT task, INSERT links (in one transaction), then the task with its tags.
    const withTags = await statementsFor(() => app.graphql(CreateTaskDocument, { input: { title: 'tagged', tagIds: tagIds.slice(0, 2) } }, { token }));
    expect(withTags).toBe(4);
  });

  it('S4: completing a recurring task is a read and one statement that writes both tasks; tags are read again only when asked for', async () => {
    const recurring = async () =>
      (await app.graphql(CreateTaskDocument, { input: { title: 'weekly', dueAt: '2030-01-07T09:00:00.000Z', recurrence: 'FREQ=WEEKLY', tagIds: tagIds.slice(0, 1) } }, { token })).data!
        .createTask.id;
    // The task with its tags and its owner's zone, then the claim with the next occurrence and its tag link.
    const first = await recurring();
    expect(await statementsFor(() => app.graphql(CompleteTaskColumnsDocument, { id: first }, { token }))).toBe(2);
    // Every field with tags: both tasks are read again with their tags, in one statement (Prisma
    // batches the findUnique calls of one tick).
    const second = await recurring();
    expect(await statementsFor(() => app.graphql(CompleteTaskDocument, { id: second }, { token }))).toBe(2 + 1);
  });

  it('taskCount of every tag is one batched statement per place in the query', async () => {
    const statements = await statementsFor(() => app.graphql(TagsDocument, {}, { token }));
    // tags + taskCount batch + taskCount(completed: false) batch
    expect(statements).toBe(3);
  });
});
