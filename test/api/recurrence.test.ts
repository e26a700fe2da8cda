import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompleteTaskDocument, CreateTagDocument, CreateTaskDocument, TaskDocument, UncompleteTaskDocument, UpdateTaskDocument } from '../generated/graphql.js';
import { createTestApp, type TestApp } from '../support/app.js';

let app: TestApp;
let token: string;

beforeAll(async () => {
  app = await createTestApp();
  ({ token } = await app.signUp('recurring', { timeZone: 'Europe/Berlin' }));
});
afterAll(() => app?.close());

async function createRecurring(recurrence: string, dueAt: string, extra: Record<string, unknown> = {}) {
  const result = await app.graphql(CreateTaskDocument, { input: { title: 'Standup', recurrence, dueAt, ...extra } }, { token });
  expect(result.errors).toBeUndefined();
  return result.data!.createTask;
}
const occurrencesOf = async (seriesId: string) =>
  (await app.pool.query('SELECT id, due_at, completed FROM tasks WHERE series_id = $1 ORDER BY due_at', [seriesId])).rows;

describe('recurring tasks', () => {
  it("completing creates the next occurrence at the same local time across DST, with tags, priority and a shifted reminder", async () => {
    const tag = (await app.graphql(CreateTagDocument, { input: { name: 'daily' } }, { token })).data!.createTag;
    // 09:00 in Berlin on the Saturday before clocks go forward (2026-03-29): 08:00Z, then 07:00Z.
    const task = await createRecurring('FREQ=DAILY', '2026-03-28T08:00:00.000Z', {
      remindAt: '2026-03-28T07:45:00.000Z',
      priority: 'HIGH',
      description: 'Talk briefly',
      tagIds: [tag.id],
    });
    const done = await app.graphql(CompleteTaskDocument, { id: task.id }, { token });
    expect(done.errors).toBeUndefined();
    const next = done.data!.completeTask.nextOccurrence!;
    expect(done.data!.completeTask.task.completed).toBe(true);
    expect(next).toMatchObject({
      title: 'Standup',
      description: 'Talk briefly',
      priority: 'HIGH',
      dueAt: '2026-03-29T07:00:00.000Z',
      remindAt: '2026-03-29T06:45:00.000Z',
      completed: false,
      seriesId: task.seriesId,
      recurrence: 'FREQ=DAILY',
      tags: [{ id: tag.id, name: 'daily', color: null }],
    });
  });

  it('completing the same task twice creates one next occurrence and returns it both times', async () => {
    const task = await createRecurring('FREQ=WEEKLY;BYDAY=MO', '2026-06-01T07:00:00.000Z');
    const first = await app.graphql(CompleteTaskDocument, { id: task.id }, { token });
    const second = await app.graphql(CompleteTaskDocument, { id: task.id }, { token });
    expect(second.data!.completeTask.nextOccurrence!.id).toBe(first.data!.completeTask.nextOccurrence!.id);
    expect(await occurrencesOf(task.seriesId!)).toHaveLength(2);
  });

  it('concurrent completions create exactly one next occurrence', async () => {
    const task = await createRecurring('FREQ=DAILY', '2026-07-01T07:00:00.000Z');
    const results = await Promise.all(Array.from({ length: 8 }, () => app.graphql(CompleteTaskDocument, { id: task.id }, { token })));
    for (const result of results) expect(result.errors).toBeUndefined();
    const nextIds = new Set(results.map((result) => result.data!.completeTask.nextOccurrence?.id));
    expect(nextIds.size).toBe(1);
    expect(await occurrencesOf(task.seriesId!)).toHaveLength(2);
  });

  it('stops when COUNT runs out', async () => {
    let task = await createRecurring('FREQ=DAILY;COUNT=3', '2026-08-01T07:00:00.000Z');
    const dues: string[] = [task.dueAt!];
    for (let i = 0; i < 3; i++) {
      const next = (await app.graphql(CompleteTaskDocument, { id: task.id }, { token })).data!.completeTask.nextOccurrence;
      if (!next) break;
      dues.push(next.dueAt!);
      task = next;
    }
    expect(dues).toEqual(['2026-08-01T07:00:00.000Z', '2026-08-02T07:00:00.000Z', '2026-08-03T07:00:00.000Z']);
  });

  it('stops at UNTIL', async () => {
    const task = await createRecurring('FREQ=WEEKLY;UNTIL=20260905T000000Z', '2026-09-01T07:00:00.000Z');
    const done = await app.graphql(CompleteTaskDocument, { id: task.id }, { token });
    expect(done.data!.completeTask.nextOccurrence).toBeNull();
  });

  it('uncompleting undoes the generated occurrence while it is untouched, and keeps it once edited', async () => {
    const task = await createRecurring('FREQ=DAILY', '2026-10-01T07:00:00.000Z');
    const next = (await app.graphql(CompleteTaskDocument, { id: task.id }, { token })).data!.completeTask.nextOccurrence!;
    await app.graphql(UncompleteTaskDocument, { id: task.id }, { token });
    expect((await app.graphql(TaskDocument, { id: next.id }, { token })).data!.task).toBeNull();
    expect(await occurrencesOf(task.seriesId!)).toHaveLength(1);

    // Completing again creates a fresh occurrence; once edited, uncompleting leaves it alone.
    const again = (await app.graphql(CompleteTaskDocument, { id: task.id }, { token })).data!.completeTask.nextOccurrence!;
    await app.graphql(UpdateTaskDocument, { input: { id: again.id, title: 'Standup (moved)' } }, { token });
    await app.graphql(UncompleteTaskDocument, { id: task.id }, { token });
    expect((await app.graphql(TaskDocument, { id: again.id }, { token })).data!.task!.title).toBe('Standup (moved)');
  });

  it('completing again after an edited occurrence was kept answers that occurrence and makes no second one', async () => {
    const task = await createRecurring('FREQ=DAILY', '2026-11-01T07:00:00.000Z');
    const next = (await app.graphql(CompleteTaskDocument, { id: task.id }, { token })).data!.completeTask.nextOccurrence!;
    await app.graphql(UpdateTaskDocument, { input: { id: next.id, title: 'Standup (edited)' } }, { token });
    await app.graphql(UncompleteTaskDocument, { id: task.id }, { token });

    const again = await app.graphql(CompleteTaskDocument, { id: task.id }, { token });
    expect(again.errors).toBeUndefined();
    expect(again.data!.completeTask.task.completed).toBe(true);
    expect(again.data!.completeTask.nextOccurrence!.id).toBe(next.id);
    expect(await occurrencesOf(task.seriesId!)).toHaveLength(2);
  });

  it('refuses an unsupported or malformed rule with the reason', async () => {
    const result = await app.graphql(CreateTaskDocument, { input: { title: 'x', dueAt: '2026-01-01T00:00:00Z', recurrence: 'FREQ=MINUTELY' } }, { token });
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ path: 'input.recurrence' }] });
    expect((result.errors![0]!.extensions!.fields as { message: string }[])[0]!.message).toMatch(/MINUTELY/);
  });
});
