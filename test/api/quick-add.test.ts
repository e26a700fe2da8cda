import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateListDocument, CreateTagDocument, ParseQuickAddDocument, QuickAddTaskDocument, TagsDocument, TasksDocument, TodayDocument } from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';

// Quick add through the server: the reading itself is unit-tested (test/unit/quick-add.test.ts); here,
// the viewer's zone, their lists and tags, what is written and what is not. Tokyo has no DST, so a
// local time is UTC+9.

let app: TestApp;
let token: string;
let otherToken: string;
let home: string;

beforeAll(async () => {
  app = await createTestApp();
  ({ token } = await app.signUp('quick', { timeZone: 'Asia/Tokyo' }));
  ({ token: otherToken } = await app.signUp('quick-other'));
  home = (await app.graphql(CreateListDocument, { input: { name: 'Home' } }, { token })).data!.createList.id;
  await app.graphql(CreateTagDocument, { input: { name: 'Errands' } }, { token });
});
afterAll(() => app?.close());

const addDays = (day: string, days: number) => new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const tokyoNine = (day: string) => new Date(Date.parse(`${day}T09:00:00Z`) - 9 * 3_600_000).toISOString();

/** The first Monday 09:00 in Tokyo after now. */
function nextMondayNine(today: string): string {
  for (let offset = 0; ; offset++) {
    const day = addDays(today, offset);
    if (new Date(`${day}T00:00:00Z`).getUTCDay() === 1 && Date.parse(tokyoNine(day)) > Date.now()) return tokyoNine(day);
  }
}

const tagNames = async () => (await app.graphql(TagsDocument, {}, { token })).data!.tags.map((tag) => tag.name).sort();

describe('quick add', () => {
  it('previews a reading in the viewer\'s zone, matching their list and tags, and writes nothing', async () => {
    const before = await tagNames();
    const today = (await app.graphql(TodayDocument, {}, { token })).data!.me.today as string;
    const result = await app.graphql(ParseQuickAddDocument, { text: 'Water plants every monday 9am #home @garden @errands p2' }, { token });
    expect(result.errors).toBeUndefined();
    expect(result.data!.parseQuickAdd).toMatchObject({
      title: 'Water plants',
      dueAt: nextMondayNine(today),
      dueDate: null,
      recurrence: 'FREQ=WEEKLY;BYDAY=MO',
      priority: 'HIGH',
      list: { id: home, name: 'Home' },
      tags: [{ name: 'Errands' }],
      newTagNames: ['garden'],
    });
    expect(await tagNames()).toEqual(before);
  });

  it('creates the task it previewed, creating new tags once, in the named list', async () => {
    const today = (await app.graphql(TodayDocument, {}, { token })).data!.me.today as string;
    const created = await app.graphql(QuickAddTaskDocument, { input: { text: 'Water plants every monday 9am #Home @garden p2' } }, { token });
    expect(created.errors).toBeUndefined();
    expect(created.data!.quickAddTask).toMatchObject({
      title: 'Water plants',
      dueAt: nextMondayNine(today),
      recurrence: 'FREQ=WEEKLY;BYDAY=MO',
      priority: 'HIGH',
      list: { id: home },
      tags: [{ name: 'garden' }],
    });
    const again = await app.graphql(QuickAddTaskDocument, { input: { text: 'Rake leaves @Garden tomorrow' } }, { token });
    expect(again.data!.quickAddTask).toMatchObject({ title: 'Rake leaves', dueDate: addDays(today, 1), dueAt: null, tags: [{ name: 'garden' }] });
    expect((await tagNames()).filter((name) => name.toLowerCase() === 'garden')).toEqual(['garden']);
  });

  it('keeps what it does not understand in the title, a #Name that is no list included, and goes to the Inbox or the given list', async () => {
    const plain = await app.graphql(QuickAddTaskDocument, { input: { text: 'Buy 2 milk #Nowhere' } }, { token });
    expect(plain.data!.quickAddTask).toMatchObject({ title: 'Buy 2 milk #Nowhere', dueAt: null, dueDate: null, list: { name: 'Inbox' } });
    const given = await app.graphql(QuickAddTaskDocument, { input: { text: 'Call May', listId: home } }, { token });
    expect(given.data!.quickAddTask).toMatchObject({ title: 'Call May', dueDate: null, list: { id: home } });
  });

  it('answers a retry with the same idempotency key with the first task', async () => {
    const input = { text: 'Pay rent on the 1st', idempotencyKey: 'rent-once' };
    const first = await app.graphql(QuickAddTaskDocument, { input }, { token });
    const second = await app.graphql(QuickAddTaskDocument, { input }, { token });
    expect(second.data!.quickAddTask.id).toBe(first.data!.quickAddTask.id);
  });

  it('refuses blank or oversized text, and another user\'s list, changing nothing', async () => {
    const count = async () => (await app.graphql(TasksDocument, { first: 100 }, { token })).data!.tasks.totalCount;
    const before = await count();
    for (const text of ['   ', 'x'.repeat(501)]) {
      expect(errorCodes(await app.graphql(QuickAddTaskDocument, { input: { text } }, { token }))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await app.graphql(ParseQuickAddDocument, { text }, { token }))).toEqual(['BAD_USER_INPUT']);
    }
    expect(errorCodes(await app.graphql(QuickAddTaskDocument, { input: { text: 'sneak in', listId: home } }, { token: otherToken }))).toEqual(['NOT_FOUND']);
    // The other user's "#Home" is not this user's list: it stays text.
    const theirs = await app.graphql(ParseQuickAddDocument, { text: 'sneak #Home @errands' }, { token: otherToken });
    expect(theirs.data!.parseQuickAdd).toMatchObject({ title: 'sneak #Home', list: null, tags: [], newTagNames: ['errands'] });
    expect(await count()).toBe(before);
    expect(errorCodes(await app.graphql(ParseQuickAddDocument, { text: 'x' }))).toEqual(['UNAUTHENTICATED']);
  });
});
