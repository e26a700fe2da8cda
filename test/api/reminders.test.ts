import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddReminderDocument,
  CompleteDatedTaskDocument,
  CreateDatedTaskDocument,
  DeleteReminderDocument,
  SkipOccurrenceDocument,
  SnoozeReminderDocument,
  TaskRemindersDocument,
  UpdateDatedTaskDocument,
  UpdateMeDocument,
} from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';

// Several reminders per task, through the API. Delivery (once each, across workers) is
// test/reminders/worker.test.ts. Tokyo has no DST: 09:00 there is 00:00 UTC.

let app: TestApp;
let token: string;
let otherToken: string;

beforeAll(async () => {
  app = await createTestApp();
  ({ token } = await app.signUp('reminded', { timeZone: 'Asia/Tokyo' }));
  ({ token: otherToken } = await app.signUp('reminded-other'));
});
afterAll(() => app?.close());

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

async function task(input: Record<string, unknown>) {
  const result = await app.graphql(CreateDatedTaskDocument, { input: { title: 'x', ...input } as never }, { token });
  expect(result.errors).toBeUndefined();
  return result.data!.createTask.id;
}
async function add(taskId: string, when: { at?: string; minutesBefore?: number }, who = token) {
  return app.graphql(AddReminderDocument, { input: { taskId, ...when } }, { token: who });
}
async function reminders(taskId: string) {
  const result = await app.graphql(TaskRemindersDocument, { id: taskId }, { token });
  return result.data!.task!;
}

describe('reminders', () => {
  it('fires an absolute reminder at its instant and a relative one before the due instant, listed with remindAt', async () => {
    const due = Date.parse('2030-05-06T10:00:00.000Z');
    const id = await task({ dueAt: iso(due), remindAt: iso(due - 60 * MINUTE) });
    const absolute = await add(id, { at: iso(due - 24 * 60 * MINUTE) });
    const relative = await add(id, { minutesBefore: 15 });
    expect(absolute.data!.addReminder).toMatchObject({ at: iso(due - 24 * 60 * MINUTE), minutesBefore: null, fireAt: iso(due - 24 * 60 * MINUTE), sentAt: null, task: { id } });
    expect(relative.data!.addReminder).toMatchObject({ at: null, minutesBefore: 15, fireAt: iso(due - 15 * MINUTE) });
    const read = await reminders(id);
    expect(read.remindAt).toBe(iso(due - 60 * MINUTE));
    expect(read.reminders.map((reminder) => reminder.fireAt)).toEqual([iso(due - 24 * 60 * MINUTE), iso(due - 60 * MINUTE), iso(due - 15 * MINUTE)]);
  });

  it('moves relative reminders with the due date, before 09:00 of an all-day task\'s day in the viewer\'s zone, and with the zone', async () => {
    const id = await task({ dueDate: '2030-05-06' });
    const reminder = (await add(id, { minutesBefore: 60 })).data!.addReminder;
    // 08:00 in Tokyo is 23:00 UTC the day before.
    expect(reminder.fireAt).toBe('2030-05-05T23:00:00.000Z');
    await app.graphql(UpdateDatedTaskDocument, { input: { id, dueAt: '2030-05-07T12:00:00.000Z' } }, { token });
    expect((await reminders(id)).reminders[0]).toMatchObject({ id: reminder.id, fireAt: '2030-05-07T11:00:00.000Z' });
    await app.graphql(UpdateDatedTaskDocument, { input: { id, dueDate: '2030-05-08' } }, { token });
    await app.graphql(UpdateMeDocument, { input: { timeZone: 'Europe/London' } }, { token });
    try {
      // 08:00 in London (BST, UTC+1) is 07:00 UTC.
      expect((await reminders(id)).reminders[0]!.fireAt).toBe('2030-05-08T07:00:00.000Z');
    } finally {
      await app.graphql(UpdateMeDocument, { input: { timeZone: 'Asia/Tokyo' } }, { token });
    }
  });

  it('refuses a sixth reminder, both kinds at once, and a relative reminder without a due date, changing nothing', async () => {
    const id = await task({ dueAt: '2030-05-06T10:00:00.000Z', remindAt: '2030-05-06T09:00:00.000Z' });
    for (const minutes of [5, 10, 15, 20]) expect((await add(id, { minutesBefore: minutes })).errors).toBeUndefined();
    expect(errorCodes(await add(id, { minutesBefore: 25 }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await add(id, { at: '2030-05-06T08:00:00.000Z', minutesBefore: 5 }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await add(id, {}))).toEqual(['BAD_USER_INPUT']);
    expect((await reminders(id)).reminders).toHaveLength(5);
    const undated = await task({});
    expect(errorCodes(await add(undated, { minutesBefore: 5 }))).toEqual(['BAD_USER_INPUT']);
    expect((await reminders(undated)).reminders).toHaveLength(0);
  });

  it("answers NOT_FOUND for another user's task or reminder, exactly as for a missing one", async () => {
    const id = await task({ dueAt: '2030-05-06T10:00:00.000Z' });
    const mine = (await add(id, { minutesBefore: 5 })).data!.addReminder.id;
    expect(errorCodes(await add(id, { minutesBefore: 5 }, otherToken))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await app.graphql(DeleteReminderDocument, { id: mine }, { token: otherToken }))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await app.graphql(SnoozeReminderDocument, { id: mine, until: '2031-01-01T00:00:00.000Z' }, { token: otherToken }))).toEqual(['NOT_FOUND']);
    expect((await reminders(id)).reminders).toMatchObject([{ id: mine, fireAt: '2030-05-06T09:55:00.000Z' }]);
    expect(await app.graphql(DeleteReminderDocument, { id: mine }, { token })).toMatchObject({ data: { deleteReminder: mine } });
    expect((await reminders(id)).reminders).toHaveLength(0);
  });

  it('snoozes a reminder to a later instant, once more, and refuses a time in the past', async () => {
    const id = await task({ dueAt: '2030-05-06T10:00:00.000Z' });
    const reminder = (await add(id, { minutesBefore: 5 })).data!.addReminder;
    const snoozed = await app.graphql(SnoozeReminderDocument, { id: reminder.id, until: '2030-05-06T10:30:00.000Z' }, { token });
    expect(snoozed.data!.snoozeReminder).toMatchObject({ minutesBefore: 5, fireAt: '2030-05-06T10:30:00.000Z', sentAt: null });
    expect(errorCodes(await app.graphql(SnoozeReminderDocument, { id: reminder.id, until: '2020-01-01T00:00:00.000Z' }, { token }))).toEqual(['BAD_USER_INPUT']);
  });

  it('copies reminders to the next occurrence and moves them when an occurrence is skipped', async () => {
    const due = Date.parse('2030-05-06T10:00:00.000Z');
    const id = await task({ dueAt: iso(due), remindAt: iso(due - 60 * MINUTE), recurrence: 'FREQ=WEEKLY' });
    await add(id, { at: iso(due - 24 * 60 * MINUTE) });
    await add(id, { minutesBefore: 10 });
    const week = 7 * 24 * 60 * MINUTE;
    const next = (await app.graphql(CompleteDatedTaskDocument, { id }, { token })).data!.completeTask.nextOccurrence!;
    const copied = await reminders(next.id);
    expect(copied.remindAt).toBe(iso(due + week - 60 * MINUTE));
    expect(copied.reminders.map((reminder) => [reminder.at, reminder.minutesBefore, reminder.fireAt])).toEqual([
      [iso(due + week - 24 * 60 * MINUTE), null, iso(due + week - 24 * 60 * MINUTE)],
      [iso(due + week - 60 * MINUTE), null, iso(due + week - 60 * MINUTE)],
      [null, 10, iso(due + week - 10 * MINUTE)],
    ]);
    await app.graphql(SkipOccurrenceDocument, { id: next.id }, { token });
    const skipped = await reminders(next.id);
    expect(skipped.reminders.map((reminder) => reminder.fireAt)).toEqual([iso(due + 2 * week - 24 * 60 * MINUTE), iso(due + 2 * week - 60 * MINUTE), iso(due + 2 * week - 10 * MINUTE)]);
  });
});
