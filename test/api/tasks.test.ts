import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteTaskDocument,
  CreateTagDocument,
  CreateTaskDocument,
  DeleteTagDocument,
  DeleteTaskDocument,
  SetTaskTagsDocument,
  TagDocument,
  TagsDocument,
  TaskDocument,
  UncompleteTaskDocument,
  UpdateTagDocument,
  UpdateTaskDocument,
} from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';

let app: TestApp;
let token: string;

beforeAll(async () => {
  app = await createTestApp();
  ({ token } = await app.signUp('tasks'));
});
afterAll(() => app?.close());

const countRows = async (table: 'tasks' | 'tags' | 'task_tags') =>
  Number((await app.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

async function createTag(name: string, color?: string) {
  const result = await app.graphql(CreateTagDocument, { input: { name, color } }, { token });
  expect(result.errors).toBeUndefined();
  return result.data!.createTag;
}

describe('tasks', () => {
  it('creates a task with every field and reads it back by global ID', async () => {
    const home = await createTag('Home', '#00aa00');
    const dueAt = '2030-01-02T09:00:00.000Z';
    const created = await app.graphql(
      CreateTaskDocument,
      {
        input: {
          title: '  Water the plants  ',
          description: 'Twice a week',
          priority: 'HIGH',
          dueAt,
          remindAt: '2030-01-02T08:30:00.000Z',
          recurrence: 'FREQ=WEEKLY;BYDAY=MO,TH',
          tagIds: [home.id],
        },
      },
      { token },
    );
    expect(created.errors).toBeUndefined();
    const task = created.data!.createTask;
    expect(task).toMatchObject({
      title: 'Water the plants',
      description: 'Twice a week',
      priority: 'HIGH',
      dueAt,
      completed: false,
      completedAt: null,
      recurrence: 'FREQ=WEEKLY;BYDAY=MO,TH',
      version: 1,
      overdue: false,
      tags: [{ id: home.id, name: 'Home', color: '#00aa00' }],
    });
    expect(task.seriesId).toBeTruthy();
    expect(Buffer.from(task.id, 'base64').toString()).toMatch(/^Task:/);

    const read = await app.graphql(TaskDocument, { id: task.id }, { token });
    expect(read.data!.task).toEqual(task);
    const row = await app.pool.query('SELECT title, priority, recurrence FROM tasks WHERE id = $1', [Buffer.from(task.id, 'base64').toString().slice(5)]);
    expect(row.rows[0]).toEqual({ title: 'Water the plants', priority: 'HIGH', recurrence: 'FREQ=WEEKLY;BYDAY=MO,TH' });
  });

  it('gives a task created with a title only the documented defaults, in the answer and in the table', async () => {
    const created = await app.graphql(CreateTaskDocument, { input: { title: 'Just a title' } }, { token });
    expect(created.errors).toBeUndefined();
    const task = created.data!.createTask;
    expect(task).toMatchObject({ description: '', priority: 'NONE', completed: false, dueAt: null, remindAt: null, recurrence: null, seriesId: null, version: 1 });
    const row = await app.pool.query('SELECT description, priority, due_at, remind_at, recurrence, series_id, idempotency_key FROM tasks WHERE id = $1', [
      Buffer.from(task.id, 'base64').toString().slice(5),
    ]);
    expect(row.rows[0]).toEqual({ description: '', priority: 'NONE', due_at: null, remind_at: null, recurrence: null, series_id: null, idempotency_key: null });
  });

  it('refuses bad input with the path of every bad field, and writes nothing', async () => {
    const before = await countRows('tasks');
    const result = await app.graphql(
      CreateTaskDocument,
      { input: { title: '   ', recurrence: 'FREQ=SOMETIMES', description: 'x'.repeat(20_001) } },
      { token },
    );
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    const fields = result.errors![0]!.extensions!.fields as { path: string; message: string }[];
    expect(fields.map((field) => field.path).sort()).toEqual(['input.description', 'input.recurrence', 'input.title']);
    expect(fields.find((field) => field.path === 'input.recurrence')!.message).toMatch(/FREQ|SOMETIMES/);
    expect(await countRows('tasks')).toBe(before);
  });

  it('refuses a recurrence without a due date', async () => {
    const result = await app.graphql(CreateTaskDocument, { input: { title: 'Daily', recurrence: 'FREQ=DAILY' } }, { token });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.extensions!.fields).toEqual([{ path: 'input.recurrence', message: 'a recurring task needs a due date (dueAt or dueDate)' }]);
  });

  it('refuses a malformed date and a wrong enum before running anything', async () => {
    const response = await app.post(
      { query: 'mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }', variables: { i: { title: 't', dueAt: 'tomorrow', priority: 'SOMEDAY' } } },
      { authorization: `Bearer ${token}` },
    );
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors.map((error) => error.extensions.code)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    const messages = body.errors.map((error) => error.message).join('\n');
    expect(messages).toMatch(/dueAt/);
    expect(messages).toMatch(/SOMEDAY/);
  });

  it('refuses instants PostgreSQL cannot store (year 0, year 10000) as bad input, in writes and in filters', async () => {
    const before = await countRows('tasks');
    for (const dueAt of ['0000-06-01T00:00:00Z', '0001-01-01T00:00:00+14:00', '+010000-01-01T00:00:00Z']) {
      const created = await app.post(
        { query: 'mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }', variables: { i: { title: 'ancient', dueAt } } },
        { authorization: `Bearer ${token}` },
      );
      expect(((await created.json()) as { errors: { extensions: { code: string } }[] }).errors.map((error) => error.extensions.code)).toEqual(['BAD_USER_INPUT']);
    }
    const listed = await app.post(
      { query: 'query($f: TaskFilter) { tasks(first: 3, filter: $f) { edges { node { id } } } }', variables: { f: { dueAfter: '0000-06-01T00:00:00Z' } } },
      { authorization: `Bearer ${token}` },
    );
    expect(((await listed.json()) as { errors: { extensions: { code: string } }[] }).errors.map((error) => error.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(await countRows('tasks')).toBe(before);
    // The edges of the range are stored and read back as given.
    const oldest = await app.graphql(CreateTaskDocument, { input: { title: 'oldest', dueAt: '0001-01-01T00:00:00.000Z' } }, { token });
    expect(oldest.data!.createTask.dueAt).toBe('0001-01-01T00:00:00.000Z');
  });

  it('updates only the given fields, clears with null and bumps the version', async () => {
    const task = (await app.graphql(CreateTaskDocument, { input: { title: 'Draft', dueAt: '2030-05-01T00:00:00.000Z', priority: 'LOW' } }, { token })).data!
      .createTask;
    const updated = await app.graphql(UpdateTaskDocument, { input: { id: task.id, title: 'Final', dueAt: null } }, { token });
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateTask).toMatchObject({ title: 'Final', dueAt: null, priority: 'LOW', version: 2 });
  });

  it('answers CONFLICT to a stale expectedVersion and keeps the newer write', async () => {
    const task = (await app.graphql(CreateTaskDocument, { input: { title: 'Shared' } }, { token })).data!.createTask;
    const first = await app.graphql(UpdateTaskDocument, { input: { id: task.id, title: 'First', expectedVersion: 1 } }, { token });
    expect(first.data!.updateTask.version).toBe(2);
    const stale = await app.graphql(UpdateTaskDocument, { input: { id: task.id, title: 'Second', expectedVersion: 1 } }, { token });
    expect(errorCodes(stale)).toEqual(['CONFLICT']);
    expect(stale.errors![0]!.extensions!.currentVersion).toBe(2);
    const read = await app.graphql(TaskDocument, { id: task.id }, { token });
    expect(read.data!.task).toMatchObject({ title: 'First', version: 2 });
  });

  it('re-arms a reminder when remindAt changes', async () => {
    const task = (await app.graphql(CreateTaskDocument, { input: { title: 'Call', remindAt: '2020-01-01T00:00:00.000Z' } }, { token })).data!.createTask;
    const id = Buffer.from(task.id, 'base64').toString().slice(5);
    await app.pool.query('UPDATE tasks SET reminder_sent_at = now() WHERE id = $1', [id]);
    const updated = await app.graphql(UpdateTaskDocument, { input: { id: task.id, remindAt: '2031-01-01T00:00:00.000Z' } }, { token });
    expect(updated.data!.updateTask).toMatchObject({ remindAt: '2031-01-01T00:00:00.000Z', reminderSentAt: null });
  });

  it('answers each mutation of one document with the task as that mutation left it', async () => {
    const id = (await app.graphql(CreateTaskDocument, { input: { title: 'first' } }, { token })).data!.createTask.id;
    const tag = (await createTag('serial')).id;
    const response = await app.post(
      {
        query: `mutation($id: ID!, $tag: ID!) {
          a: updateTask(input: { id: $id, title: "second" }) { title version tags { name } }
          b: setTaskTags(taskId: $id, tagIds: [$tag]) { title version tags { name } }
          c: updateTask(input: { id: $id, title: "third" }) { title version tags { name } }
        }`,
        variables: { id, tag },
      },
      { authorization: `Bearer ${token}` },
    );
    const { data } = (await response.json()) as { data: Record<'a' | 'b' | 'c', { title: string; version: number; tags: { name: string }[] }> };
    expect(data.a).toEqual({ title: 'second', version: 2, tags: [] });
    expect(data.b).toEqual({ title: 'second', version: 3, tags: [{ name: 'serial' }] });
    expect(data.c).toEqual({ title: 'third', version: 4, tags: [{ name: 'serial' }] });
  });

  it('deletes a task once; the second time it is NOT_FOUND', async () => {
    const task = (await app.graphql(CreateTaskDocument, { input: { title: 'Ephemeral' } }, { token })).data!.createTask;
    expect((await app.graphql(DeleteTaskDocument, { id: task.id }, { token })).data!.deleteTask).toBe(task.id);
    expect(errorCodes(await app.graphql(DeleteTaskDocument, { id: task.id }, { token }))).toEqual(['NOT_FOUND']);
    expect((await app.graphql(TaskDocument, { id: task.id }, { token })).data!.task).toBeNull();
  });

  it('completes and uncompletes a one-off task', async () => {
    const task = (await app.graphql(CreateTaskDocument, { input: { title: 'Once', dueAt: '2000-01-01T00:00:00.000Z' } }, { token })).data!.createTask;
    expect(task.overdue).toBe(true);
    const done = await app.graphql(CompleteTaskDocument, { id: task.id }, { token });
    expect(done.data!.completeTask.task).toMatchObject({ completed: true, overdue: false });
    expect(done.data!.completeTask.task.completedAt).toBeTruthy();
    expect(done.data!.completeTask.nextOccurrence).toBeNull();
    const reopened = await app.graphql(UncompleteTaskDocument, { id: task.id }, { token });
    expect(reopened.data!.uncompleteTask).toMatchObject({ completed: false, completedAt: null, overdue: true });
  });

  it('replaces tags with setTaskTags and refuses a tag that does not exist, changing nothing', async () => {
    const [a, b] = [await createTag('alpha'), await createTag('beta')];
    const task = (await app.graphql(CreateTaskDocument, { input: { title: 'Tagged', tagIds: [a.id] } }, { token })).data!.createTask;
    const set = await app.graphql(SetTaskTagsDocument, { taskId: task.id, tagIds: [b.id, a.id] }, { token });
    expect(set.data!.setTaskTags.tags.map((tag) => tag.name)).toEqual(['alpha', 'beta']);
    expect(set.data!.setTaskTags.version).toBe(2);

    const deleted = await app.graphql(DeleteTagDocument, { id: b.id }, { token });
    expect(deleted.errors).toBeUndefined();
    const refused = await app.graphql(SetTaskTagsDocument, { taskId: task.id, tagIds: [b.id] }, { token });
    expect(errorCodes(refused)).toEqual(['NOT_FOUND']);
    expect((await app.graphql(TaskDocument, { id: task.id }, { token })).data!.task!.tags.map((tag) => tag.name)).toEqual(['alpha']);
  });
});

describe('tags', () => {
  it('creates, renames, recolors and deletes a tag; counts its tasks', async () => {
    const tag = await createTag('Errands', '#FF0000');
    expect(tag.color).toBe('#ff0000');
    await app.graphql(CreateTaskDocument, { input: { title: 'Buy milk', tagIds: [tag.id] } }, { token });
    const done = (await app.graphql(CreateTaskDocument, { input: { title: 'Post letter', tagIds: [tag.id] } }, { token })).data!.createTask;
    await app.graphql(CompleteTaskDocument, { id: done.id }, { token });

    const read = await app.graphql(TagDocument, { id: tag.id, completed: true }, { token });
    expect(read.data!.tag).toMatchObject({ name: 'Errands', taskCount: 2, doneCount: 1, tasks: { totalCount: 2 } });

    const renamed = await app.graphql(UpdateTagDocument, { input: { id: tag.id, name: 'Shopping', color: null } }, { token });
    expect(renamed.data!.updateTag).toEqual({ id: tag.id, name: 'Shopping', color: null });
    expect((await app.graphql(DeleteTagDocument, { id: tag.id }, { token })).data!.deleteTag).toBe(tag.id);
    expect((await app.graphql(TagDocument, { id: tag.id }, { token })).data!.tag).toBeNull();
  });

  it('answers CONFLICT to a duplicate name in another case, on create and on rename', async () => {
    await createTag('Work');
    const before = await countRows('tags');
    expect(errorCodes(await app.graphql(CreateTagDocument, { input: { name: 'WORK' } }, { token }))).toEqual(['CONFLICT']);
    expect(await countRows('tags')).toBe(before);
    const other = await createTag('Play');
    expect(errorCodes(await app.graphql(UpdateTagDocument, { input: { id: other.id, name: 'work' } }, { token }))).toEqual(['CONFLICT']);
  });

  it('validates name and color', async () => {
    const result = await app.graphql(CreateTagDocument, { input: { name: 'x'.repeat(65), color: 'blue' } }, { token });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect((result.errors![0]!.extensions!.fields as { path: string }[]).map((field) => field.path).sort()).toEqual(['input.color', 'input.name']);
  });

  it('lists tags by name with task counts', async () => {
    const result = await app.graphql(TagsDocument, {}, { token });
    const names = result.data!.tags.map((tag) => tag.name);
    // Names are citext: they sort ignoring case, as they compare.
    expect(names).toEqual([...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)));
    expect(result.data!.tags.every((tag) => typeof tag.taskCount === 'number')).toBe(true);
  });
});
