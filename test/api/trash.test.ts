import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { purgeTrash } from '../../src/tasks/trash.js';
import { startReminderWorker, type ReminderWorker } from '../../src/tasks/reminders.js';
import {
  CreateListDocument,
  CreateTagDocument,
  CreateTaskDocument,
  CreateTreeTaskDocument,
  DeleteListDocument,
  DeleteTasksDocument,
  EmptyTrashDocument,
  ListDocument,
  NodeDocument,
  RestoreTaskDocument,
  TagDocument,
  TaskDocument,
  TasksDocument,
  TrashDocument,
  TrashTaskDocument,
  UpdateTaskDocument,
} from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';
import { recordingPubSub, uuidOf } from '../support/events.js';

// The trash through the server's socket: a deleted task (with its subtree) is gone from every read but
// `trash`, comes back whole, is purged by emptyTrash or after the retention, and its reminders wait.

let app: TestApp;
let worker: ReminderWorker;
beforeAll(async () => {
  const { pubsub } = recordingPubSub();
  app = await createTestApp({ pubsub });
  worker = startReminderWorker({ prisma: app.prisma, pubsub, logger: createLogger('silent'), pollMs: 3_600_000 });
});
afterAll(async () => {
  await worker?.stop();
  await app?.close();
});

async function setUp(name: string) {
  const user = await app.signUp(name);
  const as = { token: user.token };
  const list = (await app.graphql(CreateListDocument, { input: { name: 'Errands' } }, as)).data!.createList;
  const tag = (await app.graphql(CreateTagDocument, { input: { name: `tag-${name}` } }, as)).data!.createTag;
  const parent = (await app.graphql(CreateTreeTaskDocument, { input: { title: 'Move house', listId: list.id, tagIds: [tag.id] } }, as)).data!.createTask;
  const child = (await app.graphql(CreateTreeTaskDocument, { input: { title: 'Pack books', parentId: parent.id } }, as)).data!.createTask;
  const other = (await app.graphql(CreateTreeTaskDocument, { input: { title: 'Buy milk', listId: list.id } }, as)).data!.createTask;
  return { user, as, list, tag, parent, child, other };
}

const liveIds = async (as: { token: string }) =>
  ((await app.graphql(TasksDocument, { first: 100 }, as)).data!.tasks.edges.map((edge) => edge.node.id));

describe('trash', () => {
  it('takes a task with its subtree out of every read but trash', async () => {
    const { as, list, tag, parent, child, other } = await setUp('ann');
    expect((await app.graphql(TrashTaskDocument, { id: parent.id }, as)).errors).toBeUndefined();

    expect(await liveIds(as)).toEqual([other.id]);
    expect((await app.graphql(TaskDocument, { id: parent.id }, as)).data!.task).toBeNull();
    expect((await app.graphql(NodeDocument, { id: child.id }, as)).data!.node).toBeNull();
    const listRead = (await app.graphql(ListDocument, { id: list.id, first: 10 }, as)).data!.list!;
    expect(listRead.taskCount).toBe(1);
    expect(listRead.tasks.edges.map((edge) => edge.node.id)).toEqual([other.id]);
    const tagRead = (await app.graphql(TagDocument, { id: tag.id }, as)).data!.tag!;
    expect([tagRead.taskCount, tagRead.tasks.totalCount]).toEqual([0, 0]);
    const search = await app.graphql(TasksDocument, { first: 10, filter: { search: 'Pack' } }, as);
    expect(search.data!.tasks.edges).toEqual([]);
    // Writes see it as missing.
    expect(errorCodes(await app.graphql(UpdateTaskDocument, { input: { id: child.id, title: 'x' } }, as))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await app.graphql(TrashTaskDocument, { id: parent.id }, as))).toEqual(['NOT_FOUND']);

    const trash = (await app.graphql(TrashDocument, { first: 10 }, as)).data!.trash;
    expect(trash.totalCount).toBe(2);
    expect(trash.edges.map((edge) => edge.node.id).sort()).toEqual([parent.id, child.id].sort());
    const parentInTrash = trash.edges.find((edge) => edge.node.id === parent.id)!.node;
    expect(parentInTrash).toMatchObject({ title: 'Move house', list: { id: list.id }, tags: [{ id: tag.id }] });
    expect(parentInTrash.deletedAt).toEqual(expect.any(String));
  });

  it('lists the trash most recently deleted first, paged', async () => {
    const { as } = await setUp('ben');
    const titles = ['first', 'second', 'third'];
    for (const title of titles) {
      const task = (await app.graphql(CreateTaskDocument, { input: { title } }, as)).data!.createTask;
      await app.graphql(TrashTaskDocument, { id: task.id }, as);
    }
    const page1 = (await app.graphql(TrashDocument, { first: 2 }, as)).data!.trash;
    expect(page1.edges.map((edge) => edge.node.title)).toEqual(['third', 'second']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await app.graphql(TrashDocument, { first: 2, after: page1.pageInfo.endCursor }, as)).data!.trash;
    expect(page2.edges.map((edge) => edge.node.title)).toEqual(['first']);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    expect(errorCodes(await app.graphql(TrashDocument, { after: 'bm90IGEgY3Vyc29y' }, as))).toEqual(['BAD_USER_INPUT']);
  });

  it('restores a task whole: subtree, tags, list and place', async () => {
    const { as, list, tag, parent, child, other } = await setUp('cid');
    await app.graphql(TrashTaskDocument, { id: parent.id }, as);
    const restored = (await app.graphql(RestoreTaskDocument, { id: parent.id }, as)).data!.restoreTask;
    expect(restored).toMatchObject({ id: parent.id, deletedAt: null, list: { id: list.id }, tags: [{ id: tag.id }], subtasks: [{ id: child.id }], position: parent.position });
    expect((await liveIds(as)).sort()).toEqual([parent.id, child.id, other.id].sort());
    expect((await app.graphql(TrashDocument, {}, as)).data!.trash.totalCount).toBe(0);
    expect(errorCodes(await app.graphql(RestoreTaskDocument, { id: parent.id }, as))).toEqual(['NOT_FOUND']);
  });

  it('restores a subtask with its deleted parent, and to the end when its place was taken', async () => {
    const { as, list, parent, child } = await setUp('dee');
    await app.graphql(TrashTaskDocument, { id: child.id }, as);
    await app.graphql(TrashTaskDocument, { id: parent.id }, as);
    // A new task takes the parent's old key meanwhile (positions are unique among live tasks only).
    const newcomer = (await app.graphql(CreateTreeTaskDocument, { input: { title: 'newcomer', listId: list.id } }, as)).data!.createTask;
    await app.pool.query('UPDATE tasks SET position = $2 WHERE id = $1', [uuidOf(newcomer.id), parent.position]);
    const restored = (await app.graphql(RestoreTaskDocument, { id: child.id }, as)).data!.restoreTask;
    expect(restored).toMatchObject({ id: child.id, parent: { id: parent.id }, deletedAt: null });
    const order = (await app.graphql(ListDocument, { id: list.id, first: 10, filter: { topLevel: true } }, as)).data!.list!.tasks.edges.map((edge) => edge.node.id);
    expect(order).toContain(parent.id);
    expect(order.indexOf(parent.id)).toBeGreaterThan(order.indexOf(newcomer.id));
  });

  it('sends the tasks of a deleted list to the trash, and restores them into the Inbox', async () => {
    const { as, list, parent, child } = await setUp('eve');
    expect((await app.graphql(DeleteListDocument, { id: list.id }, as)).errors).toBeUndefined();
    expect(await liveIds(as)).toEqual([]);
    const restored = (await app.graphql(RestoreTaskDocument, { id: parent.id }, as)).data!.restoreTask;
    const inbox = await app.pool.query('SELECT id FROM lists WHERE user_id = (SELECT user_id FROM tasks WHERE id = $1) AND is_inbox', [uuidOf(parent.id)]);
    expect(uuidOf(restored.list.id)).toBe(inbox.rows[0].id);
    expect(restored.subtasks).toEqual([{ id: child.id }]);
  });

  it('answers CONFLICT to a stale expectedVersion, and deletes nothing', async () => {
    const { as, other } = await setUp('fay');
    await app.graphql(UpdateTaskDocument, { input: { id: other.id, title: 'Buy oat milk' } }, as);
    const stale = await app.graphql(TrashTaskDocument, { id: other.id, expectedVersion: 1 }, as);
    expect(errorCodes(stale)).toEqual(['CONFLICT']);
    expect(stale.errors![0]!.extensions!.currentVersion).toBe(2);
    expect(await liveIds(as)).toContain(other.id);
    expect((await app.graphql(TrashTaskDocument, { id: other.id, expectedVersion: 2 }, as)).errors).toBeUndefined();
    expect(errorCodes(await app.graphql(TrashTaskDocument, { id: other.id, expectedVersion: 0 }, as))).toEqual(['BAD_USER_INPUT']);
  });

  it("refuses another user's ids: NOT_FOUND and nothing changed", async () => {
    const gus = await setUp('gus');
    const hal = await setUp('hal');
    await app.graphql(TrashTaskDocument, { id: gus.other.id }, gus.as);
    expect(errorCodes(await app.graphql(TrashTaskDocument, { id: gus.parent.id }, hal.as))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await app.graphql(RestoreTaskDocument, { id: gus.other.id }, hal.as))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await app.graphql(DeleteTasksDocument, { ids: [hal.other.id, gus.parent.id] }, hal.as))).toEqual(['NOT_FOUND']);
    expect((await app.graphql(EmptyTrashDocument, {}, hal.as)).data!.emptyTrash).toBe(0);
    expect((await app.graphql(TrashDocument, {}, hal.as)).data!.trash.totalCount).toBe(0);
    expect((await app.graphql(TrashDocument, {}, gus.as)).data!.trash.totalCount).toBe(1);
    expect((await liveIds(gus.as)).sort()).toEqual([gus.parent.id, gus.child.id].sort());
    expect((await liveIds(hal.as)).length).toBe(3);
  });

  it('empties the trash for good, and the worker purges what is older than the retention', async () => {
    const { as, parent, other } = await setUp('ida');
    await app.graphql(TrashTaskDocument, { id: parent.id }, as);
    expect((await app.graphql(EmptyTrashDocument, {}, as)).data!.emptyTrash).toBe(2);
    const gone = await app.pool.query('SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[])', [[parent.id].map(uuidOf)]);
    expect(gone.rows[0].n).toBe(0);

    await app.graphql(TrashTaskDocument, { id: other.id }, as);
    expect((await purgeTrash(app.pool, 30)).purged).toBe(0);
    await app.pool.query("UPDATE tasks SET deleted_at = now() - interval '31 days' WHERE id = $1", [uuidOf(other.id)]);
    const owner = (await app.pool.query('SELECT user_id FROM tasks WHERE id = $1', [uuidOf(other.id)])).rows[0].user_id;
    const { purged, users } = await purgeTrash(app.pool, 30);
    expect(purged).toBe(1);
    expect(users).toEqual([owner]);
    expect((await app.pool.query('SELECT count(*)::int AS n FROM tasks WHERE id = $1', [uuidOf(other.id)])).rows[0].n).toBe(0);
  });

  it('does not deliver the reminder of a task in the trash, and does after its restore', async () => {
    const { as } = await setUp('jon');
    const due = (await app.graphql(CreateTaskDocument, { input: { title: 'call the bank', remindAt: new Date(Date.now() - 60_000).toISOString() } }, as)).data!.createTask;
    await app.graphql(TrashTaskDocument, { id: due.id }, as);
    expect(await worker.runOnce()).toBe(0);
    await app.graphql(RestoreTaskDocument, { id: due.id }, as);
    expect(await worker.runOnce()).toBe(1);
  });
});
