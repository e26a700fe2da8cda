import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeId } from '../../src/schema/global-id.js';
import type { TaskFilterArgs, TaskOrder } from '../../src/reads/task-list.js';
import { CompleteTaskDocument, CreateTagDocument, CreateTaskDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';

// Task lists are read by the read compiler (src/reads/task-list.ts). The reference here is the
// contract written out in plain TypeScript over the viewer's raw rows: every list is walked page by
// page through GraphQL and must give exactly the ids the contract's rules give, and every field must
// read as the row holds it.

interface TaskListArgs {
  filter?: Omit<TaskFilterArgs, 'dueBefore' | 'dueAfter'> & { dueBefore?: string; dueAfter?: string };
  orderBy?: TaskOrder[];
}

let app: TestApp;
let token: string;
let viewerId: string;
let otherToken: string;
let otherTaskId: string;
const tags: Record<'work' | 'home' | 'errand', string> = { work: '', home: '', errand: '' };
const DAY = 86_400_000;
const NOW = Date.now();

beforeAll(async () => {
  app = await createTestApp();
  const viewer = await app.signUp('compiled');
  token = viewer.token;
  viewerId = decodeId(viewer.userId, 'User', 'userId');
  tags.work = (await app.graphql(CreateTagDocument, { input: { name: 'work', color: '#aa0000' } }, { token })).data!.createTag.id;
  tags.home = (await app.graphql(CreateTagDocument, { input: { name: 'Home' } }, { token })).data!.createTag.id;
  tags.errand = (await app.graphql(CreateTagDocument, { input: { name: 'errand', color: '#00aa00' } }, { token })).data!.createTag.id;
  const priorities = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT'] as const;
  for (let i = 0; i < 36; i++) {
    const dueAt = i % 4 === 0 ? null : new Date(NOW + ((i % 5) - 2) * DAY).toISOString();
    const created = await app.graphql(
      CreateTaskDocument,
      {
        input: {
          title: i % 6 === 0 ? `Pay 100% of_bill ${i}` : `Task ${String(i % 9).padStart(2, '0')}`,
          description: i % 5 === 0 ? 'ring the PLUMBER' : '',
          priority: priorities[i % 5],
          dueAt,
          remindAt: i % 7 === 0 && dueAt ? dueAt : undefined,
          recurrence: i % 8 === 1 && dueAt ? 'FREQ=WEEKLY' : undefined,
          tagIds: [i % 2 === 0 ? tags.work : null, i % 3 === 0 ? tags.home : null, i % 5 === 0 ? tags.errand : null].filter((id): id is string => id !== null),
        },
      },
      { token },
    );
    expect(created.errors).toBeUndefined();
    if (i % 3 === 1) await app.graphql(CompleteTaskDocument, { id: created.data!.createTask.id }, { token });
  }
  const other = await app.signUp('compiled-other');
  otherToken = other.token;
  const otherTag = (await app.graphql(CreateTagDocument, { input: { name: 'work' } }, { token: otherToken })).data!.createTag.id;
  otherTaskId = (await app.graphql(CreateTaskDocument, { input: { title: 'Task 01 (not yours)', tagIds: [otherTag] } }, { token: otherToken })).data!.createTask.id;
}, 60_000);
afterAll(() => app?.close());

const WALK = `query Walk($first: Int, $after: String, $filter: TaskFilter, $orderBy: [TaskOrder!]) {
  tasks(first: $first, after: $after, filter: $filter, orderBy: $orderBy) { edges { node { id } } pageInfo { hasNextPage endCursor } }
}`;

interface Page {
  edges: { node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

async function request<Data>(query: string, variables: object, as = token): Promise<Data> {
  const response = await app.post({ query, variables }, { authorization: `Bearer ${as}` });
  const body = (await response.json()) as { data?: Data; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data!;
}

/** Every id of a list, 4 at a time through the cursors. */
async function walk(args: TaskListArgs): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 50; guard++) {
    const { tasks }: { tasks: Page } = await request<{ tasks: Page }>(WALK, { first: 4, after, filter: args.filter, orderBy: args.orderBy });
    ids.push(...tasks.edges.map((edge) => decodeId(edge.node.id, 'Task', 'id')));
    if (!tasks.pageInfo.hasNextPage) return ids;
    after = tasks.pageInfo.endCursor;
  }
  throw new Error('the walk did not end');
}

const RANK = { NONE: 0, LOW: 1, MEDIUM: 2, HIGH: 3, URGENT: 4 } as const;

/** The list as the contract defines it, from the viewer's raw rows. */
async function reference(args: TaskListArgs, tagId?: string): Promise<string[]> {
  const rows = await app.prisma.task.findMany({ where: { userId: viewerId }, include: { taskTags: true } });
  const filter = args.filter ?? {};
  const now = Date.now();
  const tagIds = filter.tagIds?.map((id) => decodeId(id, 'Tag', 'tagIds'));
  const search = filter.search?.trim().toLowerCase();
  const kept = rows.filter(
    (row) =>
      (tagId === undefined || row.taskTags.some((link) => link.tagId === tagId)) &&
      (filter.completed == null || row.completed === filter.completed) &&
      (!filter.priorityIn || filter.priorityIn.includes(row.priority)) &&
      (!tagIds || row.taskTags.some((link) => tagIds.includes(link.tagId))) &&
      (!filter.dueAfter || (row.dueAt !== null && row.dueAt.getTime() >= Date.parse(filter.dueAfter))) &&
      (!filter.dueBefore || (row.dueAt !== null && row.dueAt.getTime() < Date.parse(filter.dueBefore))) &&
      (filter.hasDueDate == null || (row.dueAt !== null) === filter.hasDueDate) &&
      (filter.recurring == null || (row.recurrence !== null) === filter.recurring) &&
      (filter.overdue == null || (!row.completed && row.dueAt !== null && row.dueAt.getTime() < now) === filter.overdue) &&
      (!search || row.title.toLowerCase().includes(search) || row.description.toLowerCase().includes(search)),
  );
  const seen = new Set<string>();
  const keys = (args.orderBy?.length ? args.orderBy : [{ field: 'CREATED_AT', direction: 'DESC' }]).filter(({ field }) => !seen.has(field) && seen.add(field));
  const valueOf = (row: (typeof rows)[number], field: string): number | string | null =>
    field === 'DUE_AT' ? (row.dueAt?.getTime() ?? null) : field === 'PRIORITY' ? RANK[row.priority] : field === 'TITLE' ? row.title : field === 'CREATED_AT' ? row.createdAt.getTime() : row.updatedAt.getTime();
  kept.sort((a, b) => {
    for (const { field, direction } of keys) {
      const [x, y] = [valueOf(a, field), valueOf(b, field)];
      if (x === y) continue;
      // Tasks without a due date come last in either direction.
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * (direction === 'DESC' ? -1 : 1);
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  return kept.map((row) => row.id);
}

describe('task lists answer as the contract says', () => {
  const filters: Record<string, object | undefined> = {
    none: undefined,
    open: { completed: false },
    done: { completed: true },
    priorities: { priorityIn: ['HIGH', 'URGENT'] },
    'no due date': { hasDueDate: false },
    'has due date': { hasDueDate: true },
    recurring: { recurring: true },
    'one-off': { recurring: false },
    overdue: { overdue: true },
    'not overdue': { overdue: false },
    window: { dueAfter: new Date(NOW - DAY).toISOString(), dueBefore: new Date(NOW + 2 * DAY).toISOString() },
    'search with wildcards': { search: '100%' },
    'search underscore': { search: 'of_b' },
    'search description': { search: 'plumber' },
    'search backslash': { search: 'a\\b' },
    'nothing matches': { search: 'xylophone' },
  };
  const orderings: Record<string, object[] | undefined> = {
    default: undefined,
    'due asc': [{ field: 'DUE_AT', direction: 'ASC' }],
    'due desc': [{ field: 'DUE_AT', direction: 'DESC' }],
    'priority desc, due asc': [{ field: 'PRIORITY', direction: 'DESC' }, { field: 'DUE_AT', direction: 'ASC' }],
    'title asc, due desc': [{ field: 'TITLE', direction: 'ASC' }, { field: 'DUE_AT', direction: 'DESC' }],
    'updated desc': [{ field: 'UPDATED_AT', direction: 'DESC' }],
    'created asc, repeated': [{ field: 'CREATED_AT', direction: 'ASC' }, { field: 'CREATED_AT', direction: 'DESC' }],
  };

  it.each(Object.entries(filters))('filter %s, in every ordering', async (_name, filter) => {
    for (const orderBy of Object.values(orderings)) {
      const args = { filter, orderBy } as TaskListArgs;
      const expected = await reference(args);
      expect(await walk(args)).toEqual(expected);
    }
  });

  it('tag filters and a tag list (Tag.tasks), open tasks by due date', async () => {
    const tagFilters = [[tags.work], [tags.home, tags.errand]];
    for (const tagIds of tagFilters) {
      const args = { filter: { tagIds, completed: false }, orderBy: [{ field: 'DUE_AT', direction: 'ASC' }] } as TaskListArgs;
      const expected = await reference(args);
      expect(expected.length).toBeGreaterThan(0);
      expect(await walk(args)).toEqual(expected);
    }
    const { tag } = await request<{ tag: { tasks: Page } }>(
      `query($id: ID!) { tag(id: $id) { tasks(first: 100, filter: { search: "task" }, orderBy: [{ field: PRIORITY, direction: ASC }]) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`,
      { id: tags.home },
    );
    const args = { filter: { search: 'task' }, orderBy: [{ field: 'PRIORITY', direction: 'ASC' }] } as TaskListArgs;
    expect(tag.tasks.edges.map((edge) => decodeId(edge.node.id, 'Task', 'id'))).toEqual(await reference(args, decodeId(tags.home, 'Tag', 'id')));
  });

  it('reads every field as the row holds it, in a list and by id', async () => {
    const fields = 'id title description completed completedAt priority dueAt remindAt reminderSentAt recurrence seriesId version createdAt updatedAt overdue tags { id name color createdAt }';
    const { tasks } = await request<{ tasks: { edges: { node: Record<string, unknown> }[] } }>(`{ tasks(first: 100) { edges { node { ${fields} } } } }`, {});
    const rows = await app.prisma.task.findMany({
      where: { userId: viewerId },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      include: { taskTags: { include: { tag: true }, orderBy: { tag: { name: 'asc' } } } },
    });
    const iso = (date: Date | null) => date?.toISOString() ?? null;
    const expected = rows.map((row) => ({
      id: Buffer.from(`Task:${row.id}`).toString('base64'),
      title: row.title,
      description: row.description,
      completed: row.completed,
      completedAt: iso(row.completedAt),
      priority: row.priority,
      dueAt: iso(row.dueAt),
      remindAt: iso(row.remindAt),
      reminderSentAt: iso(row.reminderSentAt),
      recurrence: row.recurrence,
      seriesId: row.seriesId,
      version: row.version,
      createdAt: iso(row.createdAt),
      updatedAt: iso(row.updatedAt),
      overdue: !row.completed && row.dueAt !== null && row.dueAt.getTime() < Date.now(),
      tags: row.taskTags.map(({ tag }) => ({ id: Buffer.from(`Tag:${tag.id}`).toString('base64'), name: tag.name, color: tag.color, createdAt: iso(tag.createdAt) })),
    }));
    // 36 created, plus the next occurrences completing recurring ones made.
    expect(expected.length).toBeGreaterThan(36);
    for (const present of [(task: (typeof expected)[number]) => task.tags.length > 1, (task: (typeof expected)[number]) => task.recurrence !== null, (task: (typeof expected)[number]) => task.remindAt !== null]) {
      expect(expected.some(present)).toBe(true);
    }
    expect(tasks.edges.map((edge) => edge.node)).toEqual(expected);

    for (const task of expected.filter((_, index) => index % 5 === 0)) {
      const { task: byId } = await request<{ task: unknown }>(`query($id: ID!) { task(id: $id) { ${fields} } }`, { id: task.id });
      expect(byId).toEqual(task);
    }
  });

  it('pages on from a cursor whose task has since left the list, or no longer exists', async () => {
    const owner = await app.signUp('compiled-cursor');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const dueAt = new Date(NOW + (i + 1) * DAY).toISOString();
      ids.push((await app.graphql(CreateTaskDocument, { input: { title: `step ${i}`, dueAt } }, { token: owner.token })).data!.createTask.id);
    }
    const open = { completed: false };
    const byDue = [{ field: 'DUE_AT', direction: 'ASC' }];
    const first = await request<{ tasks: Page }>(WALK, { first: 3, filter: open, orderBy: byDue }, owner.token);
    expect(first.tasks.edges.map((edge) => edge.node.id)).toEqual(ids.slice(0, 3));
    // The page's last task is completed before the next page is asked for: the next page still
    // starts right after its position (step 3), skipping nothing.
    await app.graphql(CompleteTaskDocument, { id: ids[2]! }, { token: owner.token });
    const next = await request<{ tasks: Page }>(WALK, { first: 3, after: first.tasks.pageInfo.endCursor, filter: open, orderBy: byDue }, owner.token);
    expect(next.tasks.edges.map((edge) => edge.node.id)).toEqual(ids.slice(3, 6));
    // A deleted task is no position: an empty page, not an error.
    await app.post({ query: 'mutation($id: ID!) { deleteTask(id: $id) }', variables: { id: ids[2] } }, { authorization: `Bearer ${owner.token}` });
    const gone = await request<{ tasks: Page }>(WALK, { first: 3, after: first.tasks.pageInfo.endCursor, filter: open, orderBy: byDue }, owner.token);
    expect(gone.tasks.edges).toEqual([]);
    expect(gone.tasks.pageInfo.hasNextPage).toBe(false);
  });

  it("never reads another user's rows: not by id, not as a cursor, not through a tag", async () => {
    const { task } = await request<{ task: unknown }>('query($id: ID!) { task(id: $id) { id title } }', { id: otherTaskId });
    expect(task).toBeNull();
    // A cursor on the other user's task is no position in the viewer's list.
    const cursor = Buffer.from(`GPC:S:${decodeId(otherTaskId, 'Task', 'id')}`).toString('base64');
    const { tasks } = await request<{ tasks: Page }>(WALK, { first: 10, after: cursor });
    expect(tasks.edges).toEqual([]);
    // The other user's list holds only their own task, whatever the viewer's tags are called.
    const theirs = await request<{ tasks: { edges: { node: { title: string; tags: { name: string }[] } }[] } }>(
      '{ tasks(first: 100) { edges { node { title tags { name } } } } }',
      {},
      otherToken,
    );
    expect(theirs.tasks.edges.map((edge) => edge.node)).toEqual([{ title: 'Task 01 (not yours)', tags: [{ name: 'work' }] }]);
  });
});
