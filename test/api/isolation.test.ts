import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddReminderDocument,
  DeleteReminderDocument,
  SnoozeReminderDocument,
  ArchiveListDocument,
  CompleteTasksDocument,
  CreateListDocument,
  CreateTreeTaskDocument,
  DeleteListDocument,
  DeleteTasksDocument,
  ListDocument,
  ListsDocument,
  MoveListDocument,
  MoveTaskDocument,
  MoveTasksDocument,
  UnarchiveListDocument,
  UpdateListDocument,
  UpdateTasksDocument,
  CompleteTaskDocument,
  CreateTagDocument,
  CreateTaskDocument,
  DeleteTagDocument,
  DeleteTaskDocument,
  NodeDocument,
  NodesDocument,
  SetTaskTagsDocument,
  TagDocument,
  TaskDocument,
  TasksDocument,
  QuickAddTaskDocument,
  SkipOccurrenceDocument,
  UncompleteTaskDocument,
  UpdateTagDocument,
  UpdateTaskDocument,
  TagsDocument,
  TrashTaskDocument,
  CompleteTaskAtVersionDocument,
  UncompleteTaskAtVersionDocument,
  MoveTaskAtVersionDocument,
  RestoreTaskDocument,
  TrashDocument,
  CreateWebhookDocument,
  DeleteWebhookDocument,
  UpdateWebhookDocument,
  WebhookNodeDocument,
  WebhooksDocument,
} from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';

// Mallory holds valid global IDs of Alice's task, tag and account, and tries every root field and
// every ID-taking argument with them. Each attempt must look exactly like a missing ID (null or
// NOT_FOUND, never FORBIDDEN) and must change nothing in Alice's data.

let app: TestApp;
let alice: Awaited<ReturnType<TestApp['signUp']>>;
let mallory: Awaited<ReturnType<TestApp['signUp']>>;
let aliceTask: string;
let aliceReminder: string;
let aliceWebhook: string;
let aliceTag: string;
let malloryTask: string;
let malloryTag: string;
let aliceList: string;
let aliceInbox: string;
let malloryInbox: string;
const MISSING_LIST = Buffer.from('List:00000000-0000-4000-8000-000000000000').toString('base64');
/** Messages name the ids they were given; apart from those, another user's id reads like a missing one. */
const withoutIds = (message: string | undefined) => message?.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>');
const MISSING_TASK = Buffer.from('Task:00000000-0000-4000-8000-000000000000').toString('base64');
const MISSING_TAG = Buffer.from('Tag:00000000-0000-4000-8000-000000000000').toString('base64');

async function snapshot() {
  const tasks = await app.pool.query(
    `SELECT t.id, t.title, t.completed, t.version, t.updated_at, array_agg(tt.tag_id ORDER BY tt.tag_id) AS tags
       FROM tasks t LEFT JOIN task_tags tt ON tt.task_id = t.id GROUP BY t.id ORDER BY t.id`,
  );
  const tags = await app.pool.query('SELECT id, name, color FROM tags ORDER BY id');
  const lists = await app.pool.query('SELECT id, user_id, name, color, position, archived_at, version FROM lists ORDER BY id');
  const places = await app.pool.query('SELECT id, list_id, parent_id, position FROM tasks ORDER BY id');
  const users = await app.pool.query('SELECT id, email, name, updated_at FROM users ORDER BY id');
  const reminders = await app.pool.query('SELECT id, task_id, at, minutes_before, fire_at, sent_at FROM reminders ORDER BY id');
  const webhooks = await app.pool.query('SELECT * FROM webhooks ORDER BY id');
  return { tasks: tasks.rows, tags: tags.rows, users: users.rows, lists: lists.rows, places: places.rows, reminders: reminders.rows, webhooks: webhooks.rows };
}

beforeAll(async () => {
  app = await createTestApp();
  alice = await app.signUp('alice');
  mallory = await app.signUp('mallory');
  aliceTag = (await app.graphql(CreateTagDocument, { input: { name: 'secret' } }, { token: alice.token })).data!.createTag.id;
  aliceTask = (
    await app.graphql(
      CreateTaskDocument,
      { input: { title: 'Alice only', dueAt: '2030-01-01T09:00:00Z', recurrence: 'FREQ=DAILY', tagIds: [aliceTag] } },
      { token: alice.token },
    )
  ).data!.createTask.id;
  aliceWebhook = (await app.graphql(CreateWebhookDocument, { input: { url: 'https://93.184.216.34/alice', events: ['*'] } }, { token: alice.token })).data!.createWebhook.webhook.id;
  aliceReminder = (await app.graphql(AddReminderDocument, { input: { taskId: aliceTask, minutesBefore: 30 } }, { token: alice.token })).data!.addReminder.id;
  malloryTag = (await app.graphql(CreateTagDocument, { input: { name: 'mine' } }, { token: mallory.token })).data!.createTag.id;
  malloryTask = (await app.graphql(CreateTaskDocument, { input: { title: 'Mallory' } }, { token: mallory.token })).data!.createTask.id;
  aliceList = (await app.graphql(CreateListDocument, { input: { name: 'Alice list' } }, { token: alice.token })).data!.createList.id;
  aliceInbox = (await app.graphql(ListsDocument, {}, { token: alice.token })).data!.inbox.id;
  malloryInbox = (await app.graphql(ListsDocument, {}, { token: mallory.token })).data!.inbox.id;
});
afterAll(() => app?.close());

describe("another user's IDs behave exactly like missing IDs", () => {
  it('reads: task, tag, node and nodes answer null; lists never include them', async () => {
    const as = { token: mallory.token };
    for (const [theirs, missing] of [
      [aliceTask, MISSING_TASK],
      [aliceTag, MISSING_TAG],
    ] as const) {
      const node = await app.graphql(NodeDocument, { id: theirs }, as);
      expect(node).toMatchObject({ data: { node: null } });
      expect(node.errors).toBeUndefined();
      expect(await app.graphql(NodeDocument, { id: theirs }, as)).toEqual(await app.graphql(NodeDocument, { id: missing }, as));
    }
    expect((await app.graphql(NodeDocument, { id: alice.userId }, as)).data!.node).toBeNull();
    expect((await app.graphql(TaskDocument, { id: aliceTask }, as)).data!.task).toBeNull();
    expect((await app.graphql(TagDocument, { id: aliceTag }, as)).data!.tag).toBeNull();
    expect((await app.graphql(NodesDocument, { ids: [aliceTask, malloryTask, aliceTag, malloryTag, alice.userId] }, as)).data!.nodes).toEqual([
      null,
      { id: malloryTask, __typename: 'Task' },
      null,
      { id: malloryTag, __typename: 'Tag' },
      null,
    ]);
    const list = await app.graphql(TasksDocument, { first: 100, filter: { tagIds: [aliceTag] } }, as);
    expect(list.data!.tasks.totalCount).toBe(0);
    const all = await app.graphql(TasksDocument, { first: 100 }, as);
    expect(all.data!.tasks.edges.map((edge) => edge.node.id)).toEqual([malloryTask]);
    expect((await app.graphql(TagsDocument, {}, as)).data!.tags.map((tag) => tag.id)).toEqual([malloryTag]);
  });

  it('writes: every mutation taking an ID answers NOT_FOUND, the same as for a missing ID, and changes nothing', async () => {
    const as = { token: mallory.token };
    const attempts = [
      (task: string) => app.graphql(UpdateTaskDocument, { input: { id: task, title: 'pwned' } }, as),
      (task: string) => app.graphql(UpdateTaskDocument, { input: { id: task, title: 'pwned', expectedVersion: 1 } }, as),
      (task: string) => app.graphql(DeleteTaskDocument, { id: task }, as),
      (task: string) => app.graphql(CompleteTaskDocument, { id: task }, as),
      (task: string) => app.graphql(UncompleteTaskDocument, { id: task }, as),
      (task: string) => app.graphql(SkipOccurrenceDocument, { id: task }, as),
      (task: string) => app.graphql(AddReminderDocument, { input: { taskId: task, minutesBefore: 5 } }, as),
      (task: string) => app.graphql(SetTaskTagsDocument, { taskId: task, tagIds: [] }, as),
      (task: string) => app.graphql(MoveTaskDocument, { input: { id: task } }, as),
      (task: string) => app.graphql(MoveTaskDocument, { input: { id: malloryTask, afterId: task } }, as),
      (task: string) => app.graphql(MoveTaskDocument, { input: { id: malloryTask, beforeId: task } }, as),
      (task: string) => app.graphql(MoveTaskDocument, { input: { id: malloryTask, parentId: task } }, as),
      (task: string) => app.graphql(CreateTreeTaskDocument, { input: { title: 'under', parentId: task } }, as),
      (task: string) => app.graphql(CompleteTasksDocument, { ids: [malloryTask, task] }, as),
      (task: string) => app.graphql(DeleteTasksDocument, { ids: [malloryTask, task] }, as),
      (task: string) => app.graphql(UpdateTasksDocument, { input: { ids: [malloryTask, task], priority: 'URGENT' } }, as),
      (task: string) => app.graphql(MoveTasksDocument, { input: { ids: [malloryTask, task], listId: malloryInbox } }, as),
      (task: string) => app.graphql(MoveTasksDocument, { input: { ids: [malloryTask], listId: malloryInbox, parentId: task } }, as),
      (task: string) => app.graphql(TrashTaskDocument, { id: task, expectedVersion: 1 }, as),
      (task: string) => app.graphql(CompleteTaskAtVersionDocument, { id: task, expectedVersion: 1 }, as),
      (task: string) => app.graphql(UncompleteTaskAtVersionDocument, { id: task, expectedVersion: 1 }, as),
      (task: string) => app.graphql(MoveTaskAtVersionDocument, { input: { id: task, expectedVersion: 1 } }, as),
      (task: string) => app.graphql(RestoreTaskDocument, { id: task }, as),
    ];
    // Alice's task in her trash is as missing to Mallory as her live one.
    const aliceTrashed = (await app.graphql(CreateTaskDocument, { input: { title: 'alice, deleted' } }, { token: alice.token })).data!.createTask.id;
    await app.graphql(TrashTaskDocument, { id: aliceTrashed }, { token: alice.token });
    const theirsInTrash = await app.graphql(RestoreTaskDocument, { id: aliceTrashed }, as);
    expect(errorCodes(theirsInTrash)).toEqual(['NOT_FOUND']);
    expect((await app.graphql(TrashDocument, {}, as)).data!.trash.edges).toEqual([]);
    const before = await snapshot();
    for (const attempt of attempts) {
      const theirs = await attempt(aliceTask);
      const missing = await attempt(MISSING_TASK);
      expect(errorCodes(theirs)).toEqual(['NOT_FOUND']);
      expect(withoutIds(theirs.errors![0]!.message)).toBe(withoutIds(missing.errors![0]!.message));
    }
    const listAttempts = [
      (list: string) => app.graphql(UpdateListDocument, { input: { id: list, name: 'pwned' } }, as),
      (list: string) => app.graphql(UpdateListDocument, { input: { id: list, name: 'pwned', expectedVersion: 1 } }, as),
      (list: string) => app.graphql(ArchiveListDocument, { id: list }, as),
      (list: string) => app.graphql(UnarchiveListDocument, { id: list }, as),
      (list: string) => app.graphql(DeleteListDocument, { id: list }, as),
      (list: string) => app.graphql(MoveListDocument, { input: { id: list } }, as),
      (list: string) => app.graphql(MoveListDocument, { input: { id: malloryInbox, afterId: list } }, as),
      (list: string) => app.graphql(CreateTreeTaskDocument, { input: { title: 'in', listId: list } }, as),
      (list: string) => app.graphql(QuickAddTaskDocument, { input: { text: 'in tomorrow', listId: list } }, as),
      (list: string) => app.graphql(MoveTaskDocument, { input: { id: malloryTask, listId: list } }, as),
      (list: string) => app.graphql(MoveTasksDocument, { input: { ids: [malloryTask], listId: list } }, as),
    ];
    for (const list of [aliceList, aliceInbox]) {
      for (const attempt of listAttempts) {
        const theirs = await attempt(list);
        const missing = await attempt(MISSING_LIST);
        expect(errorCodes(theirs)).toEqual(['NOT_FOUND']);
        expect(withoutIds(theirs.errors![0]!.message)).toBe(withoutIds(missing.errors![0]!.message));
      }
      expect((await app.graphql(ListDocument, { id: list }, as)).data!.list).toBeNull();
      expect((await app.graphql(TasksDocument, { first: 10, filter: { listIds: [list] } }, as)).data!.tasks.edges).toEqual([]);
    }
    const MISSING_REMINDER = Buffer.from('Reminder:00000000-0000-4000-8000-000000000000').toString('base64');
    const reminderAttempts = [
      (reminder: string) => app.graphql(DeleteReminderDocument, { id: reminder }, as),
      (reminder: string) => app.graphql(SnoozeReminderDocument, { id: reminder, until: '2031-01-01T00:00:00.000Z' }, as),
    ];
    for (const attempt of reminderAttempts) {
      const theirs = await attempt(aliceReminder);
      expect(errorCodes(theirs)).toEqual(['NOT_FOUND']);
      expect(withoutIds(theirs.errors![0]!.message)).toBe(withoutIds((await attempt(MISSING_REMINDER)).errors![0]!.message));
    }
    expect((await app.graphql(NodesDocument, { ids: [aliceReminder] }, as)).data!.nodes).toEqual([null]);
    const MISSING_WEBHOOK = Buffer.from('Webhook:00000000-0000-4000-8000-000000000000').toString('base64');
    const webhookAttempts = [
      (webhook: string) => app.graphql(UpdateWebhookDocument, { input: { id: webhook, url: 'https://93.184.216.34/mallory', active: true } }, as),
      (webhook: string) => app.graphql(DeleteWebhookDocument, { id: webhook }, as),
    ];
    for (const attempt of webhookAttempts) {
      const theirs = await attempt(aliceWebhook);
      expect(errorCodes(theirs)).toEqual(['NOT_FOUND']);
      expect(withoutIds(theirs.errors![0]!.message)).toBe(withoutIds((await attempt(MISSING_WEBHOOK)).errors![0]!.message));
    }
    expect((await app.graphql(WebhookNodeDocument, { id: aliceWebhook }, as)).data!.node).toBeNull();
    expect((await app.graphql(WebhooksDocument, {}, as)).data!.webhooks).toEqual([]);
    expect((await app.graphql(WebhookNodeDocument, { id: aliceWebhook }, { token: alice.token })).data!.node).toMatchObject({ id: aliceWebhook, url: 'https://93.184.216.34/alice' });
    const tagAttempts = [
      (tag: string) => app.graphql(UpdateTagDocument, { input: { id: tag, name: 'pwned' } }, as),
      (tag: string) => app.graphql(DeleteTagDocument, { id: tag }, as),
    ];
    for (const attempt of tagAttempts) {
      expect(errorCodes(await attempt(aliceTag))).toEqual(['NOT_FOUND']);
    }
    // Alice's tag on Mallory's own task, through every path that takes tag ids.
    const crossTag = [
      await app.graphql(SetTaskTagsDocument, { taskId: malloryTask, tagIds: [aliceTag] }, as),
      await app.graphql(CreateTaskDocument, { input: { title: 'x', tagIds: [aliceTag] } }, as),
      await app.graphql(UpdateTaskDocument, { input: { id: malloryTask, tagIds: [aliceTag] } }, as),
      await app.graphql(UpdateTasksDocument, { input: { ids: [malloryTask], addTagIds: [aliceTag] } }, as),
    ];
    for (const result of crossTag) expect(errorCodes(result)).toEqual(['NOT_FOUND']);
    // Alice's tag id as a list filter reveals nothing either.
    expect((await app.graphql(TasksDocument, { first: 10, filter: { tagIds: [aliceTag] } }, as)).data!.tasks.edges).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it("an ID of the wrong type is BAD_USER_INPUT, never a lookup of another type's row", async () => {
    const as = { token: mallory.token };
    expect(errorCodes(await app.graphql(TaskDocument, { id: malloryTag }, as))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await app.graphql(DeleteTagDocument, { id: malloryTask }, as))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await app.graphql(TaskDocument, { id: "Task:1' OR '1'='1" }, as))).toEqual(['BAD_USER_INPUT']);
  });

  it('without a token every field but signUp/signIn is UNAUTHENTICATED', async () => {
    for (const result of [
      await app.graphql(TaskDocument, { id: aliceTask }),
      await app.graphql(NodeDocument, { id: aliceTask }),
      await app.graphql(TasksDocument, { first: 1 }),
      await app.graphql(TagsDocument, {}),
      await app.graphql(DeleteTaskDocument, { id: aliceTask }),
      await app.graphql(CreateTagDocument, { input: { name: 'anon' } }),
      await app.graphql(WebhooksDocument, {}),
      await app.graphql(CreateWebhookDocument, { input: { url: 'https://93.184.216.34/anon', events: ['*'] } }),
    ]) {
      expect(errorCodes(result)).toContain('UNAUTHENTICATED');
      expect(Object.values(result.data ?? {}).every((value) => value === null)).toBe(true);
    }
  });
});
