import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddReminderDocument,
  CompleteTaskAtVersionDocument,
  CreateListDocument,
  CreateTaskDocument,
  MoveTaskAtVersionDocument,
  TaskDocument,
  TaskRemindersDocument,
  UncompleteTaskAtVersionDocument,
  UpdateTaskDocument,
} from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';

// Writes a device queued offline: each names the version it last read and is refused with CONFLICT
// (and the current version) when the task moved on, changing nothing; a create retried with its
// idempotency key answers the first result.

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const dueTomorrow = () => new Date(Date.now() + 86_400_000).toISOString();

async function taskOf(token: string, input: Record<string, unknown> = {}) {
  return (await app.graphql(CreateTaskDocument, { input: { title: 'water plants', ...input } }, { token })).data!.createTask;
}

const read = async (token: string, id: string) => (await app.graphql(TaskDocument, { id }, { token })).data!.task!;

describe('expectedVersion', () => {
  it('completeTask: CONFLICT when stale, nothing completed and no next occurrence; done when current', async () => {
    const { token } = await app.signUp('ann');
    const task = await taskOf(token, { dueAt: dueTomorrow(), recurrence: 'FREQ=DAILY' });
    await app.graphql(UpdateTaskDocument, { input: { id: task.id, title: 'water the plants' } }, { token });

    const stale = await app.graphql(CompleteTaskAtVersionDocument, { id: task.id, expectedVersion: 1 }, { token });
    expect(errorCodes(stale)).toEqual(['CONFLICT']);
    expect(stale.errors![0]!.extensions!.currentVersion).toBe(2);
    expect(await read(token, task.id)).toMatchObject({ completed: false, version: 2 });
    const count = await app.pool.query('SELECT count(*)::int AS n FROM tasks WHERE series_id IS NOT NULL AND title = $1', ['water the plants']);
    expect(count.rows[0].n).toBe(1);

    const done = await app.graphql(CompleteTaskAtVersionDocument, { id: task.id, expectedVersion: 2 }, { token });
    expect(done.data!.completeTask).toMatchObject({ task: { completed: true }, nextOccurrence: { id: expect.any(String) } });
  });

  it('uncompleteTask: CONFLICT when stale, still completed; reopened when current', async () => {
    const { token } = await app.signUp('ben');
    const task = await taskOf(token);
    const completed = (await app.graphql(CompleteTaskAtVersionDocument, { id: task.id }, { token })).data!.completeTask.task;
    const stale = await app.graphql(UncompleteTaskAtVersionDocument, { id: task.id, expectedVersion: completed.version - 1 }, { token });
    expect(errorCodes(stale)).toEqual(['CONFLICT']);
    expect(stale.errors![0]!.extensions!.currentVersion).toBe(completed.version);
    expect((await read(token, task.id)).completed).toBe(true);
    const reopened = await app.graphql(UncompleteTaskAtVersionDocument, { id: task.id, expectedVersion: completed.version }, { token });
    expect(reopened.data!.uncompleteTask.completed).toBe(false);
  });

  it('moveTask: CONFLICT when stale, nothing moved; moved when current', async () => {
    const { token } = await app.signUp('cid');
    const list = (await app.graphql(CreateListDocument, { input: { name: 'Garden' } }, { token })).data!.createList;
    const task = await taskOf(token);
    await app.graphql(UpdateTaskDocument, { input: { id: task.id, priority: 'HIGH' } }, { token });
    const stale = await app.graphql(MoveTaskAtVersionDocument, { input: { id: task.id, listId: list.id, expectedVersion: 1 } }, { token });
    expect(errorCodes(stale)).toEqual(['CONFLICT']);
    expect(stale.errors![0]!.extensions!.currentVersion).toBe(2);
    const unmoved = (await app.graphql(TaskDocument, { id: task.id }, { token })).data!.task!;
    expect(unmoved.version).toBe(2);
    const moved = await app.graphql(MoveTaskAtVersionDocument, { input: { id: task.id, listId: list.id, expectedVersion: 2 } }, { token });
    expect(moved.data!.moveTask.list.id).toBe(list.id);
    expect(errorCodes(await app.graphql(MoveTaskAtVersionDocument, { input: { id: task.id, expectedVersion: 0 } }, { token }))).toEqual(['BAD_USER_INPUT']);
  });

  it("answers NOT_FOUND, never CONFLICT, for another user's task: no version leaks", async () => {
    const dee = await app.signUp('dee');
    const eve = await app.signUp('eve');
    const task = await taskOf(dee.token);
    for (const result of [
      await app.graphql(CompleteTaskAtVersionDocument, { id: task.id, expectedVersion: 7 }, { token: eve.token }),
      await app.graphql(UncompleteTaskAtVersionDocument, { id: task.id, expectedVersion: 7 }, { token: eve.token }),
      await app.graphql(MoveTaskAtVersionDocument, { input: { id: task.id, expectedVersion: 7 } }, { token: eve.token }),
    ]) {
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.errors![0]!.extensions!.currentVersion).toBeUndefined();
    }
    expect((await read(dee.token, task.id)).version).toBe(1);
  });

  it('lets exactly one of five concurrent completions at the same version through', async () => {
    const { token } = await app.signUp('fay');
    const task = await taskOf(token, { dueAt: dueTomorrow(), recurrence: 'FREQ=WEEKLY' });
    const results = await Promise.all(Array.from({ length: 5 }, () => app.graphql(CompleteTaskAtVersionDocument, { id: task.id, expectedVersion: 1 }, { token })));
    expect(results.filter((result) => !result.errors)).toHaveLength(1);
    expect(results.filter((result) => result.errors).map((result) => errorCodes(result)[0])).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT']);
    const occurrences = await app.pool.query('SELECT count(*)::int AS n FROM tasks WHERE generated_from_id = (SELECT id FROM tasks WHERE title = $1 AND completed LIMIT 1)', ['water plants']);
    expect(occurrences.rows[0].n).toBe(1);
  });
});

describe('addReminder idempotencyKey', () => {
  it('answers a retry with the first reminder and adds nothing; keys are per user', async () => {
    const gus = await app.signUp('gus');
    const hal = await app.signUp('hal');
    const task = await taskOf(gus.token, { dueAt: dueTomorrow() });
    const input = { taskId: task.id, minutesBefore: 30, idempotencyKey: 'device-1:reminder-1' };
    const first = (await app.graphql(AddReminderDocument, { input }, { token: gus.token })).data!.addReminder;
    const retried = (await app.graphql(AddReminderDocument, { input: { ...input, minutesBefore: 10 } }, { token: gus.token })).data!.addReminder;
    expect(retried.id).toBe(first.id);
    const reminders = (await app.graphql(TaskRemindersDocument, { id: task.id }, { token: gus.token })).data!.task!.reminders;
    expect(reminders.map((reminder) => reminder.id)).toEqual([first.id]);

    const halTask = await taskOf(hal.token, { dueAt: dueTomorrow() });
    const halReminder = (await app.graphql(AddReminderDocument, { input: { ...input, taskId: halTask.id } }, { token: hal.token })).data!.addReminder;
    expect(halReminder.id).not.toBe(first.id);
    expect(errorCodes(await app.graphql(AddReminderDocument, { input: { ...input, idempotencyKey: 'k'.repeat(129) } }, { token: gus.token }))).toEqual(['BAD_USER_INPUT']);
  });
});
