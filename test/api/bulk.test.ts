import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteTasksDocument,
  CreateListDocument,
  CreateTagDocument,
  CreateTaskDocument,
  CreateTreeTaskDocument,
  DeleteTasksDocument,
  ListDocument,
  MoveTasksDocument,
  TreeTaskDocument,
  UpdateTasksDocument,
} from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';
import { countStatements } from '../support/sql-counter.js';

// Bulk operations: all or none, and a number of statements that does not grow with the number of ids.

let app: TestApp;
let token: string;
let userId: string;
let otherToken: string;
let counter: ReturnType<typeof countStatements>;

const uuidOf = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;
const taskGlobalId = (id: string) => Buffer.from(`Task:${id}`).toString('base64');
const as = (who: string) => ({ token: who });

beforeAll(async () => {
  app = await createTestApp();
  const user = await app.signUp('bulk');
  token = user.token;
  userId = uuidOf(user.userId);
  ({ token: otherToken } = await app.signUp('bulk-other'));
  counter = countStatements(app.pool);
});
afterAll(() => app?.close());

/** `n` of the user's tasks, inserted in SQL (the database places them at the end of the Inbox). */
async function tasks(n: number, title = 'bulk'): Promise<string[]> {
  const { rows } = await app.pool.query<{ id: string }>(
    `INSERT INTO tasks (user_id, title, due_at, recurrence) SELECT $1, $2 || ' ' || g, CASE WHEN g % 2 = 0 THEN now() + interval '1 day' END, CASE WHEN g % 2 = 0 THEN 'FREQ=DAILY' END
       FROM generate_series(1, $3::int) g RETURNING id`,
    [userId, title, n],
  );
  return rows.map((row) => taskGlobalId(row.id));
}

async function statementsOf(run: () => Promise<{ errors?: unknown }>): Promise<number> {
  counter.reset();
  const result = await run();
  expect(result.errors).toBeUndefined();
  return counter.count;
}

describe('bulk operations', () => {
  it('complete 5 and 500 tasks in the same number of statements, creating each recurring one its next occurrence', async () => {
    const five = await tasks(5);
    const many = await tasks(500);
    const small = await statementsOf(() => app.graphql(CompleteTasksDocument, { ids: five }, as(token)));
    counter.reset();
    const result = await app.graphql(CompleteTasksDocument, { ids: many }, as(token));
    expect(result.errors).toBeUndefined();
    expect(counter.count).toBe(small);
    expect(result.data!.completeTasks.map((payload) => payload.task.id)).toEqual(many);
    expect(result.data!.completeTasks.every((payload) => payload.task.completed)).toBe(true);
    expect(result.data!.completeTasks.filter((payload) => payload.nextOccurrence).length).toBe(250);
  });

  it('complete none when one id is missing or not the viewer\'s', async () => {
    const mine = await tasks(4);
    const theirs = (await app.graphql(CreateTaskDocument, { input: { title: 'theirs' } }, as(otherToken))).data!.createTask.id;
    const refused = await app.graphql(CompleteTasksDocument, { ids: [...mine, theirs] }, as(token));
    expect(errorCodes(refused)).toEqual(['NOT_FOUND']);
    for (const id of mine) expect((await app.graphql(TreeTaskDocument, { id }, as(token))).data!.task!.completed).toBe(false);
    expect((await app.graphql(TreeTaskDocument, { id: theirs }, as(otherToken))).data!.task!.completed).toBe(false);
  });

  it('refuse an empty list and more than 500 ids', async () => {
    expect(errorCodes(await app.graphql(DeleteTasksDocument, { ids: [] }, as(token)))).toEqual(['BAD_USER_INPUT']);
    const tooMany = Array.from({ length: 501 }, (_, index) => taskGlobalId(`00000000-0000-4000-8000-${String(index).padStart(12, '0')}`));
    const result = await app.graphql(CompleteTasksDocument, { ids: tooMany }, as(token));
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
  });

  it('update priority and tags of 5 and 500 tasks in the same number of statements', async () => {
    const tag = (await app.graphql(CreateTagDocument, { input: { name: 'bulk-tag' } }, as(token))).data!.createTag.id;
    const old = (await app.graphql(CreateTagDocument, { input: { name: 'old-tag' } }, as(token))).data!.createTag.id;
    const five = await tasks(5, 'upd');
    const many = await tasks(500, 'upd');
    const input = (ids: string[]) => ({ input: { ids, priority: 'HIGH' as const, addTagIds: [tag], removeTagIds: [old] } });
    const small = await statementsOf(() => app.graphql(UpdateTasksDocument, input(five), as(token)));
    const large = await statementsOf(() => app.graphql(UpdateTasksDocument, input(many), as(token)));
    expect(large).toBe(small);
    const result = await app.graphql(UpdateTasksDocument, input(five), as(token));
    expect(result.data!.updateTasks.every((task) => task.priority === 'HIGH' && task.tags.map((t) => t.name).join() === 'bulk-tag')).toBe(true);
  });

  it('update none when a tag is not the viewer\'s, or when a recurring task would lose its due date', async () => {
    const theirTag = (await app.graphql(CreateTagDocument, { input: { name: 'their-tag' } }, as(otherToken))).data!.createTag.id;
    const ids = await tasks(4, 'guard');
    const foreign = await app.graphql(UpdateTasksDocument, { input: { ids, priority: 'URGENT', addTagIds: [theirTag] } }, as(token));
    expect(errorCodes(foreign)).toEqual(['NOT_FOUND']);
    const cleared = await app.graphql(UpdateTasksDocument, { input: { ids, priority: 'URGENT', dueAt: null } }, as(token));
    expect(errorCodes(cleared)).toEqual(['BAD_USER_INPUT']);
    const { rows } = await app.pool.query(`SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) AND priority = 'URGENT'`, [ids.map(uuidOf)]);
    expect(rows[0].n).toBe(0);
  });

  it('move tasks to the end of another list in the order given, with their subtasks, in the same number of statements for 5 and 500', async () => {
    const list = (await app.graphql(CreateListDocument, { input: { name: 'Bulk target' } }, as(token))).data!.createList.id;
    const five = await tasks(5, 'mv');
    const parent = five[0]!;
    const child = (await app.graphql(CreateTreeTaskDocument, { input: { title: 'child', parentId: parent } }, as(token))).data!.createTask.id;
    const reversed = [...five].reverse();
    const small = await statementsOf(() => app.graphql(MoveTasksDocument, { input: { ids: reversed, listId: list } }, as(token)));
    const page = await app.graphql(ListDocument, { id: list, first: 100, filter: { topLevel: true } }, as(token));
    expect(page.data!.list!.tasks.edges.map((edge) => edge.node.id)).toEqual(reversed);
    expect((await app.graphql(TreeTaskDocument, { id: child }, as(token))).data!.task!.list.id).toBe(list);
    const many = await tasks(500, 'mv');
    expect(await statementsOf(() => app.graphql(MoveTasksDocument, { input: { ids: many, listId: list } }, as(token)))).toBe(small);
  });

  it('move none when one would go under itself', async () => {
    const list = (await app.graphql(CreateListDocument, { input: { name: 'Cycle target' } }, as(token))).data!.createList.id;
    const [a] = await tasks(1, 'cyc');
    const child = (await app.graphql(CreateTreeTaskDocument, { input: { title: 'c', parentId: a! } }, as(token))).data!.createTask.id;
    const result = await app.graphql(MoveTasksDocument, { input: { ids: [a!], listId: list, parentId: child } }, as(token));
    expect(errorCodes(result).length).toBe(1);
    expect((await app.graphql(TreeTaskDocument, { id: a! }, as(token))).data!.task!.parent).toBeNull();
  });

  it('delete 5 and 500 tasks in the same number of statements, and none when one id is foreign', async () => {
    const theirs = (await app.graphql(CreateTaskDocument, { input: { title: 'keep' } }, as(otherToken))).data!.createTask.id;
    const guarded = await tasks(3, 'del');
    expect(errorCodes(await app.graphql(DeleteTasksDocument, { ids: [...guarded, theirs] }, as(token)))).toEqual(['NOT_FOUND']);
    const { rows } = await app.pool.query(`SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL`, [[...guarded, theirs].map(uuidOf)]);
    expect(rows[0].n).toBe(4);
    const small = await statementsOf(() => app.graphql(DeleteTasksDocument, { ids: guarded }, as(token)));
    const many = await tasks(500, 'del');
    expect(await statementsOf(() => app.graphql(DeleteTasksDocument, { ids: many }, as(token)))).toBe(small);
    const left = await app.pool.query(`SELECT count(*) FILTER (WHERE deleted_at IS NULL)::int AS live, count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[])`, [many.map(uuidOf)]);
    expect(left.rows[0]).toEqual({ live: 0, n: 500 });
  });
});
