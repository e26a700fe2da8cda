import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArchiveListDocument,
  CompleteTaskDocument,
  CreateListDocument,
  CreateTagDocument,
  CreateTaskDocument,
  CreateTreeTaskDocument,
  DeleteListDocument,
  DeleteTaskDocument,
  ListDocument,
  ListsDocument,
  MoveListDocument,
  MoveTaskDocument,
  MoveTaskPositionDocument,
  TreeTaskDocument,
  UnarchiveListDocument,
  UncompleteTaskDocument,
  UpdateListDocument,
} from '../generated/graphql.js';
import { MAX_POSITION_LENGTH } from '../../src/tasks/positions.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';

let app: TestApp;
let token: string;
let otherToken: string;

beforeAll(async () => {
  app = await createTestApp();
  ({ token } = await app.signUp('lister'));
  ({ token: otherToken } = await app.signUp('stranger'));
});
afterAll(() => app?.close());

const as = (who: string) => ({ token: who });
const problemPaths = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) =>
  (result.errors?.[0]?.extensions?.fields as { path: string }[] | undefined)?.map((field) => field.path);

async function createList(name: string, who = token) {
  const result = await app.graphql(CreateListDocument, { input: { name } }, as(who));
  expect(result.errors).toBeUndefined();
  return result.data!.createList;
}

async function createTask(input: { title: string; listId?: string; parentId?: string }, who = token) {
  const result = await app.graphql(CreateTreeTaskDocument, { input }, as(who));
  expect(result.errors).toBeUndefined();
  return result.data!.createTask;
}

async function topLevelTitles(listId: string): Promise<string[]> {
  const result = await app.graphql(ListDocument, { id: listId, first: 100, filter: { topLevel: true } }, as(token));
  expect(result.errors).toBeUndefined();
  return result.data!.list!.tasks.edges.map((edge) => edge.node.title);
}

describe('lists', () => {
  it('gives every user exactly one Inbox from sign-up on, first in their lists', async () => {
    const { token: fresh } = await app.signUp('fresh');
    const result = await app.graphql(ListsDocument, {}, as(fresh));
    expect(result.errors).toBeUndefined();
    expect(result.data!.lists).toHaveLength(1);
    expect(result.data!.lists[0]).toMatchObject({ name: 'Inbox', isInbox: true, archived: false, taskCount: 0 });
    expect(result.data!.inbox.id).toBe(result.data!.lists[0]!.id);
    expect(result.data!.me.inbox.id).toBe(result.data!.lists[0]!.id);
  });

  it('appends new lists after the last one and moves them between neighbours', async () => {
    const a = await createList('A');
    const b = await createList('B');
    const c = await createList('C');
    const names = async () => (await app.graphql(ListsDocument, {}, as(token))).data!.lists.map((list) => list.name);
    expect(await names()).toEqual(['Inbox', 'A', 'B', 'C']);
    await app.graphql(MoveListDocument, { input: { id: c.id, afterId: a.id } }, as(token));
    expect(await names()).toEqual(['Inbox', 'A', 'C', 'B']);
    await app.graphql(MoveListDocument, { input: { id: a.id, beforeId: b.id } }, as(token));
    expect(await names()).toEqual(['Inbox', 'C', 'A', 'B']);
    const self = await app.graphql(MoveListDocument, { input: { id: a.id, afterId: a.id } }, as(token));
    expect(errorCodes(self)).toEqual(['BAD_USER_INPUT']);
    for (const list of [a, b, c]) await app.graphql(DeleteListDocument, { id: list.id }, as(token));
  });

  it('renames with expectedVersion, answering CONFLICT with the current version when stale', async () => {
    const list = await createList('Errands');
    const renamed = await app.graphql(UpdateListDocument, { input: { id: list.id, name: 'Shopping', color: '#AABBCC', expectedVersion: list.version } }, as(token));
    expect(renamed.data!.updateList).toMatchObject({ name: 'Shopping', color: '#aabbcc', version: list.version + 1 });
    const stale = await app.graphql(UpdateListDocument, { input: { id: list.id, name: 'Stale', expectedVersion: list.version } }, as(token));
    expect(errorCodes(stale)).toEqual(['CONFLICT']);
    expect(stale.errors![0]!.extensions!.currentVersion).toBe(list.version + 1);
    const blank = await app.graphql(UpdateListDocument, { input: { id: list.id, name: '  ' } }, as(token));
    expect(errorCodes(blank)).toEqual(['BAD_USER_INPUT']);
    expect(problemPaths(blank)).toEqual(['input.name']);
    const after = await app.graphql(ListDocument, { id: list.id }, as(token));
    expect(after.data!.list).toMatchObject({ name: 'Shopping', version: list.version + 1 });
  });

  it('refuses bad input with the field path and creates nothing', async () => {
    const before = (await app.graphql(ListsDocument, { archived: null }, as(token))).data!.lists.length;
    for (const input of [{ name: '' }, { name: 'x'.repeat(101) }, { name: 'ok', color: 'red' }]) {
      const result = await app.graphql(CreateListDocument, { input }, as(token));
      expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      expect(problemPaths(result)![0]).toMatch(/^input\.(name|color)$/);
    }
    expect((await app.graphql(ListsDocument, { archived: null }, as(token))).data!.lists).toHaveLength(before);
  });

  it('answers a retried createList with the first result', async () => {
    const input = { name: 'Once', idempotencyKey: 'list-key-1' };
    const [first, second] = await Promise.all([app.graphql(CreateListDocument, { input }, as(token)), app.graphql(CreateListDocument, { input }, as(token))]);
    expect(first.data!.createList.id).toBe(second.data!.createList.id);
    const names = (await app.graphql(ListsDocument, {}, as(token))).data!.lists.filter((list) => list.name === 'Once');
    expect(names).toHaveLength(1);
  });

  it('archives and unarchives; the Inbox can be neither archived nor deleted', async () => {
    const list = await createList('Someday');
    const archived = await app.graphql(ArchiveListDocument, { id: list.id }, as(token));
    expect(archived.data!.archiveList.archived).toBe(true);
    expect(archived.data!.archiveList.archivedAt).not.toBeNull();
    const active = (await app.graphql(ListsDocument, {}, as(token))).data!.lists.map((l) => l.id);
    expect(active).not.toContain(list.id);
    expect((await app.graphql(ListsDocument, { archived: true }, as(token))).data!.lists.map((l) => l.id)).toEqual([list.id]);
    const back = await app.graphql(UnarchiveListDocument, { id: list.id }, as(token));
    expect(back.data!.unarchiveList).toMatchObject({ archived: false, archivedAt: null });

    const inbox = (await app.graphql(ListsDocument, {}, as(token))).data!.inbox.id;
    expect(errorCodes(await app.graphql(ArchiveListDocument, { id: inbox }, as(token)))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await app.graphql(DeleteListDocument, { id: inbox }, as(token)))).toEqual(['BAD_USER_INPUT']);
  });

  it('deletes a list with its tasks', async () => {
    const list = await createList('Doomed');
    const task = await createTask({ title: 'goes with it', listId: list.id });
    expect((await app.graphql(DeleteListDocument, { id: list.id }, as(token))).data!.deleteList).toBe(list.id);
    expect((await app.graphql(TreeTaskDocument, { id: task.id }, as(token))).data!.task).toBeNull();
    expect(errorCodes(await app.graphql(DeleteListDocument, { id: list.id }, as(token)))).toEqual(['NOT_FOUND']);
  });
});

describe('tasks in lists and subtasks', () => {
  it('puts a task without a list in the Inbox, at the end, and a subtask in its parent list', async () => {
    const inbox = (await app.graphql(ListsDocument, {}, as(token))).data!.inbox.id;
    const first = await createTask({ title: 'inbox 1' });
    const second = await createTask({ title: 'inbox 2' });
    expect(first.list.id).toBe(inbox);
    expect(second.position > first.position).toBe(true);
    const work = await createList('Work');
    const parent = await createTask({ title: 'report', listId: work.id });
    const child = await createTask({ title: 'outline', parentId: parent.id });
    expect(child.list.id).toBe(work.id);
    expect(child.parent!.id).toBe(parent.id);
    const wrongList = await app.graphql(CreateTreeTaskDocument, { input: { title: 'x', parentId: parent.id, listId: inbox } }, as(token));
    expect(errorCodes(wrongList)).toEqual(['BAD_USER_INPUT']);
    expect(problemPaths(wrongList)).toEqual(['input.listId']);
  });

  it('puts a new task at the true end of the Inbox when another server added one after it', async () => {
    const other = await createTestApp({ database: app.database });
    try {
      const { token: both } = await app.signUp('two-servers');
      const viaThis = async (title: string) => (await app.graphql(CreateTreeTaskDocument, { input: { title } }, as(both))).data!.createTask;
      await viaThis('one');
      await viaThis('two');
      await other.graphql(CreateTreeTaskDocument, { input: { title: 'three (elsewhere)' } }, as(both));
      const four = await viaThis('four');
      const inbox = (await app.graphql(ListsDocument, {}, as(both))).data!.inbox.id;
      const page = await app.graphql(ListDocument, { id: inbox, first: 10 }, as(both));
      expect(page.data!.list!.tasks.edges.map((edge) => edge.node.title)).toEqual(['one', 'two', 'three (elsewhere)', 'four']);
      expect(four.title).toBe('four');
    } finally {
      await other.close();
    }
  });

  it('refuses a move that names both neighbours, changing nothing', async () => {
    const list = await createList('Both sides');
    const [a, b, c] = [await createTask({ title: 'a', listId: list.id }), await createTask({ title: 'b', listId: list.id }), await createTask({ title: 'c', listId: list.id })];
    const both = await app.graphql(MoveTaskDocument, { input: { id: c!.id, afterId: a!.id, beforeId: b!.id } }, as(token));
    expect(errorCodes(both)).toEqual(['BAD_USER_INPUT']);
    expect(problemPaths(both)).toEqual(['input.beforeId']);
    expect(await topLevelTitles(list.id)).toEqual(['a', 'b', 'c']);
    const lists = await app.graphql(MoveListDocument, { input: { id: list.id, afterId: list.id, beforeId: list.id } }, as(token));
    expect(errorCodes(lists)).toEqual(['BAD_USER_INPUT']);
  });

  it('orders a list by position and places moved tasks between their neighbours', async () => {
    const list = await createList('Ordered');
    const [a, b, c, d] = [await createTask({ title: 'a', listId: list.id }), await createTask({ title: 'b', listId: list.id }), await createTask({ title: 'c', listId: list.id }), await createTask({ title: 'd', listId: list.id })];
    expect(await topLevelTitles(list.id)).toEqual(['a', 'b', 'c', 'd']);
    await app.graphql(MoveTaskDocument, { input: { id: d!.id, afterId: a!.id } }, as(token));
    expect(await topLevelTitles(list.id)).toEqual(['a', 'd', 'b', 'c']);
    await app.graphql(MoveTaskDocument, { input: { id: a!.id, beforeId: c!.id } }, as(token));
    expect(await topLevelTitles(list.id)).toEqual(['d', 'b', 'a', 'c']);
    await app.graphql(MoveTaskDocument, { input: { id: d!.id } }, as(token));
    expect(await topLevelTitles(list.id)).toEqual(['b', 'a', 'c', 'd']);
    const page = await app.graphql(ListDocument, { id: list.id, first: 2, filter: { topLevel: true } }, as(token));
    const rest = await app.graphql(ListDocument, { id: list.id, first: 2, after: page.data!.list!.tasks.pageInfo.endCursor, filter: { topLevel: true } }, as(token));
    expect([...page.data!.list!.tasks.edges, ...rest.data!.list!.tasks.edges].map((edge) => edge.node.title)).toEqual(['b', 'a', 'c', 'd']);
    expect(b).toBeDefined();
  });

  it('moves a parent to another list with its whole subtree, and reads subtasks and counts', async () => {
    const from = await createList('From');
    const to = await createList('To');
    const parent = await createTask({ title: 'parent', listId: from.id });
    const child = await createTask({ title: 'child', parentId: parent.id });
    const grandchild = await createTask({ title: 'grandchild', parentId: child.id });
    const moved = await app.graphql(MoveTaskDocument, { input: { id: parent.id, listId: to.id } }, as(token));
    expect(moved.errors).toBeUndefined();
    expect(moved.data!.moveTask.list.id).toBe(to.id);
    for (const id of [child.id, grandchild.id]) {
      expect((await app.graphql(TreeTaskDocument, { id }, as(token))).data!.task!.list.id).toBe(to.id);
    }
    const read = await app.graphql(ListDocument, { id: to.id, filter: { topLevel: true } }, as(token));
    const node = read.data!.list!.tasks.edges[0]!.node;
    expect(node).toMatchObject({ title: 'parent', subtaskCount: 1 });
    expect(node.subtasks.map((task) => task.title)).toEqual(['child']);
    expect(read.data!.list!.taskCount).toBe(3);
    expect((await app.graphql(ListDocument, { id: from.id }, as(token))).data!.list!.taskCount).toBe(0);
  });

  it('refuses a fifth level and a task under its own descendant, changing nothing', async () => {
    const top = await createTask({ title: 'level 1' });
    const two = await createTask({ title: 'level 2', parentId: top.id });
    const three = await createTask({ title: 'level 3', parentId: two.id });
    const four = await createTask({ title: 'level 4', parentId: three.id });
    const five = await app.graphql(CreateTreeTaskDocument, { input: { title: 'level 5', parentId: four.id } }, as(token));
    expect(errorCodes(five)).toEqual(['BAD_USER_INPUT']);
    expect(problemPaths(five)).toEqual(['input.parentId']);
    const cycle = await app.graphql(MoveTaskDocument, { input: { id: top.id, parentId: three.id } }, as(token));
    expect(errorCodes(cycle)).toEqual(['BAD_USER_INPUT']);
    // two carries three levels (two, three, four): under a second-level task it would reach a fifth.
    const other = await createTask({ title: 'other top' });
    const otherChild = await createTask({ title: 'other child', parentId: other.id });
    const tooDeep = await app.graphql(MoveTaskDocument, { input: { id: two.id, parentId: otherChild.id } }, as(token));
    expect(errorCodes(tooDeep)).toEqual(['BAD_USER_INPUT']);
    const after = await app.graphql(TreeTaskDocument, { id: two.id }, as(token));
    expect(after.data!.task!.parent!.id).toBe(top.id);
    expect(after.data!.task!.version).toBe(two.version);
    const fits = await app.graphql(MoveTaskDocument, { input: { id: two.id, parentId: null, listId: undefined } }, as(token));
    expect(fits.data!.moveTask.parent).toBeNull();
  });

  it('completes open descendants with a parent, reopens ancestors with a child, and deletes a subtree', async () => {
    const parent = await createTask({ title: 'trip' });
    const child = await createTask({ title: 'pack', parentId: parent.id });
    const grandchild = await createTask({ title: 'socks', parentId: child.id });
    await app.graphql(CompleteTaskDocument, { id: parent.id }, as(token));
    for (const id of [child.id, grandchild.id]) expect((await app.graphql(TreeTaskDocument, { id }, as(token))).data!.task!.completed).toBe(true);
    await app.graphql(UncompleteTaskDocument, { id: grandchild.id }, as(token));
    for (const id of [parent.id, child.id, grandchild.id]) expect((await app.graphql(TreeTaskDocument, { id }, as(token))).data!.task!.completed).toBe(false);
    expect((await app.graphql(DeleteTaskDocument, { id: parent.id }, as(token))).data!.deleteTask).toBe(parent.id);
    for (const id of [child.id, grandchild.id]) expect((await app.graphql(TreeTaskDocument, { id }, as(token))).data!.task).toBeNull();
  });
});

describe('recurring tasks in lists', () => {
  it('put the next occurrence in the same list, right after the completed one', async () => {
    const list = await createList('Chores');
    const first = await createTask({ title: 'first', listId: list.id });
    const weekly = await app.graphql(CreateTaskDocument, { input: { title: 'weekly', listId: list.id, dueAt: '2031-01-06T09:00:00.000Z', recurrence: 'FREQ=WEEKLY' } }, as(token));
    const last = await createTask({ title: 'last', listId: list.id });
    const done = await app.graphql(CompleteTaskDocument, { id: weekly.data!.createTask.id }, as(token));
    expect(done.errors).toBeUndefined();
    expect(await topLevelTitles(list.id)).toEqual(['first', 'weekly', 'weekly', 'last']);
    const next = await app.graphql(TreeTaskDocument, { id: done.data!.completeTask.nextOccurrence!.id }, as(token));
    expect(next.data!.task).toMatchObject({ completed: false, list: { id: list.id }, parent: null });
    expect(first.position < next.data!.task!.position && next.data!.task!.position < last.position).toBe(true);
  });
});

describe('recurring tasks with subtasks', () => {
  it('give the next occurrence open copies of the subtree, in order, and leave the completed one completed', async () => {
    const weekly = (await app.graphql(CreateTaskDocument, { input: { title: 'clean', dueAt: '2031-02-03T09:00:00.000Z', recurrence: 'FREQ=WEEKLY' } }, as(token))).data!.createTask;
    const kitchen = await createTask({ title: 'kitchen', parentId: weekly.id });
    await createTask({ title: 'bath', parentId: weekly.id });
    await createTask({ title: 'oven', parentId: kitchen.id });
    await app.graphql(CompleteTaskDocument, { id: kitchen.id }, as(token));
    const done = await app.graphql(CompleteTaskDocument, { id: weekly.id }, as(token));
    const next = await app.graphql(TreeTaskDocument, { id: done.data!.completeTask.nextOccurrence!.id }, as(token));
    const copies = next.data!.task!.subtasks;
    expect(copies.map((task) => [task.title, task.completed, task.subtaskCount])).toEqual([
      ['kitchen', false, 1],
      ['bath', false, 0],
    ]);
    expect(copies.map((task) => task.id)).not.toContain(kitchen.id);
    const original = await app.graphql(TreeTaskDocument, { id: weekly.id }, as(token));
    expect(original.data!.task!.subtasks.every((task) => task.completed)).toBe(true);
  });
});

describe("another user's lists and tasks", () => {
  it('behave exactly like missing ones in every list and move operation', async () => {
    const theirs = await createList('Private', otherToken);
    const theirTask = await createTask({ title: 'private', listId: theirs.id }, otherToken);
    const mine = await createTask({ title: 'mine' });
    expect((await app.graphql(ListDocument, { id: theirs.id }, as(token))).data!.list).toBeNull();
    const attempts = [
      app.graphql(UpdateListDocument, { input: { id: theirs.id, name: 'taken' } }, as(token)),
      app.graphql(ArchiveListDocument, { id: theirs.id }, as(token)),
      app.graphql(DeleteListDocument, { id: theirs.id }, as(token)),
      app.graphql(MoveListDocument, { input: { id: theirs.id } }, as(token)),
      app.graphql(CreateTreeTaskDocument, { input: { title: 'in', listId: theirs.id } }, as(token)),
      app.graphql(CreateTreeTaskDocument, { input: { title: 'under', parentId: theirTask.id } }, as(token)),
      app.graphql(MoveTaskDocument, { input: { id: mine.id, listId: theirs.id } }, as(token)),
      app.graphql(MoveTaskDocument, { input: { id: mine.id, parentId: theirTask.id } }, as(token)),
      app.graphql(MoveTaskDocument, { input: { id: mine.id, afterId: theirTask.id } }, as(token)),
      app.graphql(MoveTaskDocument, { input: { id: theirTask.id } }, as(token)),
    ];
    for (const result of await Promise.all(attempts)) expect(errorCodes(result)).toEqual(['NOT_FOUND']);
    const still = await app.graphql(ListDocument, { id: theirs.id }, as(otherToken));
    expect(still.data!.list).toMatchObject({ name: 'Private', archived: false, taskCount: 1 });
  });
});

describe('positions over many moves', () => {
  it('stay short when tasks are dropped into the same spot 300 times, the list keeping the order the moves asked for', async () => {
    const list = await createList('Churn');
    const first = await createTask({ title: 'first', listId: list.id });
    const x = await createTask({ title: 'x', listId: list.id });
    const y = await createTask({ title: 'y', listId: list.id });
    const tail = await createTask({ title: 'tail', listId: list.id });
    let longest = 0;
    for (let move = 0; move < 300; move++) {
      const moved = move % 2 === 0 ? x : y;
      const result = await app.graphql(MoveTaskPositionDocument, { input: { id: moved.id, afterId: first.id } }, as(token));
      expect(result.errors).toBeUndefined();
      longest = Math.max(longest, result.data!.moveTask.position.length);
    }
    expect(longest).toBeLessThanOrEqual(MAX_POSITION_LENGTH);
    // The last move (y) went right after the first task.
    expect(await topLevelTitles(list.id)).toEqual(['first', 'y', 'x', 'tail']);
    // Rebalancing rewrote every sibling's key (parked, then spread), unseen: the tasks that were never
    // moved keep their version.
    for (const still of [first, tail]) expect((await app.graphql(TreeTaskDocument, { id: still.id }, as(token))).data!.task!.version).toBe(still.version);
  });
});

describe('under concurrency', () => {
  it('gives 20 concurrent moves into the same gap distinct positions in one total order', async () => {
    const list = await createList('Gap');
    const left = await createTask({ title: 'left', listId: list.id });
    const right = await createTask({ title: 'right', listId: list.id });
    const movers = [];
    for (let i = 0; i < 20; i++) movers.push(await createTask({ title: `m${i}` }));
    const results = await Promise.all(movers.map((task) => app.graphql(MoveTaskDocument, { input: { id: task.id, afterId: left.id } }, as(token))));
    for (const result of results) expect(result.errors).toBeUndefined();
    const positions = results.map((result) => result.data!.moveTask.position);
    expect(new Set(positions).size).toBe(20);
    const titles = await topLevelTitles(list.id);
    expect(titles[0]).toBe('left');
    expect(titles.at(-1)).toBe('right');
    expect(titles).toHaveLength(22);
    expect(right.position > left.position).toBe(true);
  });

  it('refuses one of two concurrent moves that would together make a cycle', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await createTask({ title: `a${round}` });
      const b = await createTask({ title: `b${round}` });
      const [first, second] = await Promise.all([
        app.graphql(MoveTaskDocument, { input: { id: a.id, parentId: b.id } }, as(token)),
        app.graphql(MoveTaskDocument, { input: { id: b.id, parentId: a.id } }, as(token)),
      ]);
      expect([errorCodes(first), errorCodes(second)].filter((codes) => codes.length === 0)).toHaveLength(1);
      expect([...errorCodes(first), ...errorCodes(second)]).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('keeps no open task under a completed one when a parent is completed while a child is reopened', async () => {
    for (let round = 0; round < 5; round++) {
      const parent = await createTask({ title: `p${round}` });
      const child = await createTask({ title: `c${round}`, parentId: parent.id });
      await app.graphql(CompleteTaskDocument, { id: child.id }, as(token));
      await Promise.all([app.graphql(CompleteTaskDocument, { id: parent.id }, as(token)), app.graphql(UncompleteTaskDocument, { id: child.id }, as(token))]);
      const states = await Promise.all([parent.id, child.id].map(async (id) => (await app.graphql(TreeTaskDocument, { id }, as(token))).data!.task!.completed));
      expect(states[0] && !states[1]).toBe(false);
    }
  });
});

describe('tags on tasks in lists', () => {
  it('creates a subtask with tags in one write, and refuses another user\'s tag writing nothing', async () => {
    const tag = (await app.graphql(CreateTagDocument, { input: { name: 'tree' } }, as(token))).data!.createTag;
    const theirTag = (await app.graphql(CreateTagDocument, { input: { name: 'theirs' } }, as(otherToken))).data!.createTag;
    const parent = await createTask({ title: 'tagged parent' });
    const ok = await app.graphql(CreateTreeTaskDocument, { input: { title: 'tagged child', parentId: parent.id, tagIds: [tag.id] } }, as(token));
    expect(ok.errors).toBeUndefined();
    const refused = await app.graphql(CreateTreeTaskDocument, { input: { title: 'not made', parentId: parent.id, tagIds: [tag.id, theirTag.id] } }, as(token));
    expect(errorCodes(refused)).toEqual(['NOT_FOUND']);
    expect((await app.graphql(TreeTaskDocument, { id: parent.id }, as(token))).data!.task!.subtaskCount).toBe(1);
  });
});
