import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompleteTaskDocument, CreateTagDocument, CreateTaskDocument, DeleteTaskDocument, TasksDocument, type TaskOrder, type TasksQuery } from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';

// 40 tasks with many ties and gaps (same due dates, no due date, equal priorities) so that paging by
// each ordering would skip or repeat rows if the order were not total.

let app: TestApp;
let token: string;
const titles: string[] = [];
let workTagId: string;
let homeTagId: string;
const PRIORITIES = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT'] as const;
const DAY = 86_400_000;
const BASE = Date.parse('2031-06-01T12:00:00.000Z');

beforeAll(async () => {
  app = await createTestApp();
  ({ token } = await app.signUp('lists'));
  workTagId = (await app.graphql(CreateTagDocument, { input: { name: 'work' } }, { token })).data!.createTag.id;
  homeTagId = (await app.graphql(CreateTagDocument, { input: { name: 'home' } }, { token })).data!.createTag.id;
  for (let i = 0; i < 40; i++) {
    const title = `${i % 7 === 0 ? 'Pay the 100% Invoice' : 'task'} ${String(i).padStart(2, '0')}`;
    titles.push(title);
    const created = await app.graphql(
      CreateTaskDocument,
      {
        input: {
          title,
          description: i % 5 === 0 ? 'call the PLUMBER' : '',
          priority: PRIORITIES[i % 5],
          // Every third task has no due date; the others share only four distinct dates.
          dueAt: i % 3 === 0 ? null : new Date(BASE + ((i % 4) - 1) * DAY).toISOString(),
          tagIds: i % 2 === 0 ? [workTagId] : i % 3 === 0 ? [homeTagId] : [],
        },
      },
      { token },
    );
    if (i % 4 === 0) await app.graphql(CompleteTaskDocument, { id: created.data!.createTask.id }, { token });
  }
  // Someone else's tasks never show up.
  const other = await app.signUp('lists-other');
  await app.graphql(CreateTaskDocument, { input: { title: 'Pay the 100% Invoice (not yours)' } }, { token: other.token });
});
afterAll(() => app?.close());

type Node = TasksQuery['tasks']['edges'][number]['node'];

async function page(variables: Parameters<TestApp['graphql']>[1] & object) {
  const result = await app.graphql(TasksDocument, variables as never, { token });
  expect(result.errors).toBeUndefined();
  return result.data!.tasks;
}

async function walkForward(orderBy: TaskOrder[], size: number, filter?: object): Promise<Node[]> {
  const seen: Node[] = [];
  let after: string | null | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const tasks = await page({ first: size, after, orderBy, filter });
    seen.push(...tasks.edges.map((edge) => edge.node));
    if (!tasks.pageInfo.hasNextPage) return seen;
    after = tasks.pageInfo.endCursor;
  }
  throw new Error('did not finish');
}

async function walkBackward(orderBy: TaskOrder[], size: number): Promise<Node[]> {
  const seen: Node[] = [];
  let before: string | null | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const tasks = await page({ last: size, before, orderBy });
    seen.unshift(...tasks.edges.map((edge) => edge.node));
    if (!tasks.pageInfo.hasPreviousPage) return seen;
    before = tasks.pageInfo.startCursor;
  }
  throw new Error('did not finish');
}

describe('task lists', () => {
  const orderings: TaskOrder[][] = [
    [{ field: 'DUE_AT', direction: 'ASC' }],
    [{ field: 'DUE_AT', direction: 'DESC' }],
    [{ field: 'PRIORITY', direction: 'DESC' }, { field: 'DUE_AT', direction: 'ASC' }],
    [{ field: 'CREATED_AT', direction: 'DESC' }],
    [{ field: 'TITLE', direction: 'ASC' }],
    [{ field: 'UPDATED_AT', direction: 'ASC' }],
  ];

  it.each(orderings)('pages forward and backward through %j without skipping or repeating a task', async (...order) => {
    const everything = (await page({ first: 100, orderBy: order })).edges.map((edge) => edge.node);
    expect(everything).toHaveLength(40);
    const forward = await walkForward(order, 7);
    const backward = await walkBackward(order, 6);
    expect(forward.map((task) => task.id)).toEqual(everything.map((task) => task.id));
    expect(backward.map((task) => task.id)).toEqual(everything.map((task) => task.id));
  });

  it('orders by due date with tasks without one last, ties broken by id', async () => {
    const nodes = (await page({ first: 100, orderBy: [{ field: 'DUE_AT', direction: 'ASC' }] })).edges.map((edge) => edge.node);
    const dated = nodes.filter((node) => node.dueAt);
    expect(nodes.slice(0, dated.length)).toEqual(dated);
    expect(dated.map((node) => node.dueAt)).toEqual([...dated.map((node) => node.dueAt)].sort());
  });

  it('orders PRIORITY by rank, not by name', async () => {
    const nodes = (await page({ first: 100, orderBy: [{ field: 'PRIORITY', direction: 'ASC' }] })).edges.map((edge) => edge.node);
    const ranks = nodes.map((node) => PRIORITIES.indexOf(node.priority));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(nodes[0]!.priority).toBe('NONE');
    expect(nodes.at(-1)!.priority).toBe('URGENT');
  });

  it('caps a page at 100 and counts all matches', async () => {
    const tasks = await page({ first: 500 });
    expect(tasks.edges.length).toBe(40);
    expect(tasks.totalCount).toBe(40);
    const capped = await app.graphql(TasksDocument, { first: 101 }, { token });
    // Asking for more than 100 is answered with at most 100 (Pothos caps), never an unbounded scan.
    expect(capped.data?.tasks.edges.length ?? 0).toBeLessThanOrEqual(100);
  });

  it('filters: completed, priorities, tags (any of), due window, due date presence, search', async () => {
    const count = async (filter: object) => (await page({ first: 100, filter })).totalCount;
    expect(await count({ completed: true })).toBe(10);
    expect(await count({ completed: false })).toBe(30);
    expect(await count({ priorityIn: ['HIGH', 'URGENT'] })).toBe(16);
    expect(await count({ tagIds: [workTagId] })).toBe(20);
    expect(await count({ tagIds: [workTagId, homeTagId] })).toBe(20 + 7);
    expect(await count({ hasDueDate: false })).toBe(14);
    expect(await count({ hasDueDate: true })).toBe(26);
    // Half-open window [dueAfter, dueBefore): BASE - DAY .. BASE + DAY covers two of the four dates.
    const window = { dueAfter: new Date(BASE - DAY).toISOString(), dueBefore: new Date(BASE + DAY).toISOString() };
    const inWindow = (await page({ first: 100, filter: window })).edges.map((edge) => Date.parse(edge.node.dueAt!));
    expect(inWindow.length).toBeGreaterThan(0);
    expect(inWindow.every((due) => due >= BASE - DAY && due < BASE + DAY)).toBe(true);
    expect(await count({ search: 'plumber' })).toBe(8);
    expect(await count({ search: '100%' })).toBe(6);
    expect(await count({ search: '100_' })).toBe(0);
    expect(await count({ search: 'invoice', completed: false, tagIds: [workTagId] })).toBeGreaterThan(0);
  });

  it('dueAfter includes a task due exactly then, dueBefore excludes it (half-open windows)', async () => {
    const edge = '2040-02-29T12:00:00.000Z';
    const created = await app.graphql(CreateTaskDocument, { input: { title: 'On the edge', dueAt: edge } }, { token });
    const id = created.data!.createTask.id;
    const ids = async (filter: object) => (await page({ first: 100, filter })).edges.map((entry) => entry.node.id);
    expect(await ids({ dueAfter: edge })).toContain(id);
    expect(await ids({ dueBefore: edge })).not.toContain(id);
    expect(await ids({ dueAfter: edge, dueBefore: '2040-02-29T12:00:00.001Z' })).toEqual([id]);
    // The same instant written with another offset is the same instant.
    expect(await ids({ dueAfter: '2040-02-29T13:00:00.000+01:00', dueBefore: '2040-02-29T13:00:00.001+01:00' })).toEqual([id]);
    await app.graphql(DeleteTaskDocument, { id }, { token });
  });

  it('overdue means open and due before now; a completed task never is', async () => {
    const created = await app.graphql(CreateTaskDocument, { input: { title: 'Late', dueAt: '2001-01-01T00:00:00.000Z' } }, { token });
    const late = created.data!.createTask.id;
    const overdue = (await page({ first: 100, filter: { overdue: true } })).edges.map((edge) => edge.node.id);
    expect(overdue).toContain(late);
    await app.graphql(CompleteTaskDocument, { id: late }, { token });
    expect((await page({ first: 100, filter: { overdue: true } })).edges.map((edge) => edge.node.id)).not.toContain(late);
    expect((await page({ first: 100, filter: { overdue: false } })).edges.map((edge) => edge.node.id)).toContain(late);
  });

  it('refuses a malformed tag id in a filter, and a search over 200 characters', async () => {
    expect(errorCodes(await app.graphql(TasksDocument, { first: 5, filter: { tagIds: ['nope'] } }, { token }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await app.graphql(TasksDocument, { first: 5, filter: { search: 'x'.repeat(201) } }, { token }))).toEqual(['BAD_USER_INPUT']);
  });
});
