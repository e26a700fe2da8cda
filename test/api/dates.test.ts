import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompleteDatedTaskDocument, CreateDatedTaskDocument, DueTasksDocument, SkipOccurrenceDocument, TodayDocument, UpdateDatedTaskDocument, UpdateMeDocument } from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';

// All-day tasks beside timed ones, in the viewer's calendar. The zones have no DST (Tokyo UTC+9,
// Pago Pago UTC-11), so a local time is a fixed offset from UTC; what is expected of a timed task's
// day is worked out with Intl, independently of the server.

let app: TestApp;
let token: string;
const ZONES = { tokyo: { name: 'Asia/Tokyo', offsetHours: 9 }, pagoPago: { name: 'Pacific/Pago_Pago', offsetHours: -11 } };

beforeAll(async () => {
  app = await createTestApp();
  ({ token } = await app.signUp('calendar', { timeZone: ZONES.tokyo.name }));
});
afterAll(() => app?.close());

const addDays = (day: string, days: number) => new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const localInstant = (day: string, time: string, offsetHours: number) => new Date(Date.parse(`${day}T${time}:00Z`) - offsetHours * 3_600_000).toISOString();
const localDay = (instant: string, zone: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date(instant));

async function today(): Promise<string> {
  const result = await app.graphql(TodayDocument, {}, { token });
  return result.data!.me.today as string;
}

async function create(input: Record<string, unknown>) {
  const result = await app.graphql(CreateDatedTaskDocument, { input: { title: 'x', ...input } as never }, { token });
  expect(result.errors).toBeUndefined();
  return result.data!.createTask;
}

async function titles(filter: Record<string, unknown>, orderBy = [{ field: 'DUE_AT', direction: 'ASC' }], first = 100): Promise<string[]> {
  const page = (after: string | null) => app.graphql(DueTasksDocument, { filter: filter as never, orderBy: orderBy as never, first, after }, { token });
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const result: Awaited<ReturnType<typeof page>> = await page(after);
    expect(result.errors).toBeUndefined();
    seen.push(...result.data!.tasks.edges.map((edge) => edge.node.title));
    if (!result.data!.tasks.pageInfo.hasNextPage) return seen;
    after = result.data!.tasks.pageInfo.endCursor!;
  }
}

describe('all-day tasks and the calendar', () => {
  let day: string;
  const made: { title: string; dueAt?: string; dueDate?: string }[] = [];

  beforeAll(async () => {
    day = await today();
    const tokyo = ZONES.tokyo.offsetHours;
    const plan = [
      { title: 'yesterday all-day', dueDate: addDays(day, -1) },
      { title: 'yesterday 23:30', dueAt: localInstant(addDays(day, -1), '23:30', tokyo) },
      { title: 'today all-day', dueDate: day },
      { title: 'today 00:00', dueAt: localInstant(day, '00:00', tokyo) },
      { title: 'today 23:30', dueAt: localInstant(day, '23:30', tokyo) },
      { title: 'tomorrow all-day', dueDate: addDays(day, 1) },
      { title: 'tomorrow 00:30', dueAt: localInstant(addDays(day, 1), '00:30', tokyo) },
      { title: 'undated' },
    ];
    // Created in another order than they sort in.
    for (const task of [...plan].reverse()) await create({ ...task, listId: undefined, tagIds: undefined });
    made.push(...plan);
  });

  it("answers today's date in the viewer's zone", async () => {
    const expected = [localDay(new Date(Date.now() - 5_000).toISOString(), ZONES.tokyo.name), localDay(new Date().toISOString(), ZONES.tokyo.name)];
    expect(expected).toContain(day);
  });

  it('orders by DUE_AT with an all-day task before the timed tasks of its day, across pages, in both directions', async () => {
    const ascending = made.map((task) => task.title);
    expect(await titles({})).toEqual(ascending);
    expect(await titles({}, undefined, 3)).toEqual(ascending);
    const dated = ascending.slice(0, -1);
    expect(await titles({}, [{ field: 'DUE_AT', direction: 'DESC' }], 2)).toEqual([...dated].reverse().concat('undated'));
  });

  it('finds the Today view (overdue included) and a range of days with dueOn, in the viewer\'s calendar', async () => {
    expect(await titles({ dueOn: { to: day }, completed: false })).toEqual(['yesterday all-day', 'yesterday 23:30', 'today all-day', 'today 00:00', 'today 23:30']);
    expect(await titles({ dueOn: { from: day, to: day } })).toEqual(['today all-day', 'today 00:00', 'today 23:30']);
    expect(await titles({ dueOn: { from: addDays(day, 1) } })).toEqual(['tomorrow all-day', 'tomorrow 00:30']);
    expect(await titles({ hasDueDate: false })).toEqual(['undated']);
  });

  it('makes an all-day task overdue only from the next day', async () => {
    const result = await app.graphql(DueTasksDocument, { filter: { dueOn: { to: addDays(day, 1) } }, first: 50, orderBy: [{ field: 'DUE_AT', direction: 'ASC' }] }, { token });
    const overdue = Object.fromEntries(result.data!.tasks.edges.map((edge) => [edge.node.title, edge.node.overdue]));
    expect(overdue).toMatchObject({ 'yesterday all-day': true, 'yesterday 23:30': true, 'today all-day': false, 'today 00:00': true, 'tomorrow all-day': false, 'tomorrow 00:30': false });
    const filtered = await titles({ overdue: true });
    expect(filtered).toContain('yesterday all-day');
    expect(filtered).not.toContain('today all-day');
    expect(await titles({ overdue: false })).toEqual(expect.arrayContaining(['today all-day', 'tomorrow all-day', 'undated']));
  });

  it('keeps dates as dates and instants as instants when the viewer moves to another zone, and follows the new calendar', async () => {
    const before = await app.graphql(DueTasksDocument, { first: 50 }, { token });
    const moved = await app.graphql(UpdateMeDocument, { input: { timeZone: ZONES.pagoPago.name } }, { token });
    expect(moved.errors).toBeUndefined();
    try {
      const after = await app.graphql(DueTasksDocument, { first: 50 }, { token });
      // Same dates, same instants, same versions: nothing stored about a task changed (whether it is
      // overdue follows the new calendar).
      const stored = (edges: NonNullable<typeof before.data>['tasks']['edges']) => edges.map(({ node: { overdue: _overdue, ...node } }) => node);
      expect(stored(after.data!.tasks.edges)).toEqual(stored(before.data!.tasks.edges));
      const newToday = await today();
      expect(newToday).toBe(localDay(new Date().toISOString(), ZONES.pagoPago.name));
      for (const range of [{ from: addDays(day, -1), to: addDays(day, -1) }, { from: day, to: day }]) {
        const expected = made
          .filter((task) => (task.dueDate ? task.dueDate >= range.from && task.dueDate <= range.to : task.dueAt && localDay(task.dueAt, ZONES.pagoPago.name) >= range.from && localDay(task.dueAt, ZONES.pagoPago.name) <= range.to))
          .map((task) => task.title);
        expect((await titles({ dueOn: range })).sort()).toEqual(expected.sort());
      }
    } finally {
      await app.graphql(UpdateMeDocument, { input: { timeZone: ZONES.tokyo.name } }, { token });
    }
  });
});

describe('writing due dates', () => {
  it('refuses dueAt and dueDate together, and a recurrence with neither, changing nothing', async () => {
    const before = (await app.graphql(DueTasksDocument, { first: 100 }, { token })).data!.tasks.edges.length;
    const both = await app.graphql(CreateDatedTaskDocument, { input: { title: 'both', dueAt: '2030-01-01T09:00:00.000Z', dueDate: '2030-01-01' } }, { token });
    expect(errorCodes(both)).toEqual(['BAD_USER_INPUT']);
    expect(both.errors![0]!.extensions!.fields).toEqual([{ path: 'input.dueDate', message: expect.stringMatching(/not both/) }]);
    const bad = await app.graphql(CreateDatedTaskDocument, { input: { title: 'bad', dueDate: '2030-02-30' } }, { token });
    expect(bad.errors).toBeDefined();
    expect(bad.data ?? null).toBeNull();
    expect((await app.graphql(DueTasksDocument, { first: 100 }, { token })).data!.tasks.edges.length).toBe(before);
  });

  it('switches a task between a day and an instant, and clears either', async () => {
    const task = await create({ title: 'switch', dueAt: '2030-01-01T09:00:00.000Z' });
    const toDay = await app.graphql(UpdateDatedTaskDocument, { input: { id: task.id, dueDate: '2030-01-02' } }, { token });
    expect(toDay.data!.updateTask).toMatchObject({ dueAt: null, dueDate: '2030-01-02', version: 2 });
    const toInstant = await app.graphql(UpdateDatedTaskDocument, { input: { id: task.id, dueAt: '2030-01-03T10:00:00.000Z' } }, { token });
    expect(toInstant.data!.updateTask).toMatchObject({ dueAt: '2030-01-03T10:00:00.000Z', dueDate: null });
    const both = await app.graphql(UpdateDatedTaskDocument, { input: { id: task.id, dueAt: '2030-01-03T10:00:00.000Z', dueDate: '2030-01-04' } }, { token });
    expect(errorCodes(both)).toEqual(['BAD_USER_INPUT']);
    await app.graphql(UpdateDatedTaskDocument, { input: { id: task.id, dueDate: '2030-01-05' } }, { token });
    const cleared = await app.graphql(UpdateDatedTaskDocument, { input: { id: task.id, dueDate: null } }, { token });
    expect(cleared.data!.updateTask).toMatchObject({ dueAt: null, dueDate: null });
  });

  it('repeats an all-day task by days: the next occurrence is a date', async () => {
    const monthly = await create({ title: 'rent', dueDate: '2026-01-31', recurrence: 'FREQ=MONTHLY;BYMONTHDAY=-1' });
    const done = await app.graphql(CompleteDatedTaskDocument, { id: monthly.id }, { token });
    expect(done.errors).toBeUndefined();
    expect(done.data!.completeTask.nextOccurrence).toMatchObject({ title: 'rent', dueDate: '2026-02-28', dueAt: null });
    const weekly = await create({ title: 'bins', dueDate: '2026-03-02', recurrence: 'FREQ=WEEKLY;BYDAY=MO,TH' });
    const next = (await app.graphql(CompleteDatedTaskDocument, { id: weekly.id }, { token })).data!.completeTask.nextOccurrence!;
    expect(next).toMatchObject({ dueDate: '2026-03-05', dueAt: null });
    expect((await app.graphql(CompleteDatedTaskDocument, { id: next.id }, { token })).data!.completeTask.nextOccurrence).toMatchObject({ dueDate: '2026-03-09' });
  });
});

describe('skipping an occurrence', () => {
  it('moves a timed series to its next occurrence with its reminder, without completing it', async () => {
    const task = await create({ title: 'standup', dueAt: '2030-01-07T09:00:00.000Z', remindAt: '2030-01-07T08:45:00.000Z', recurrence: 'FREQ=WEEKLY' });
    const skipped = await app.graphql(SkipOccurrenceDocument, { id: task.id }, { token });
    expect(skipped.errors).toBeUndefined();
    expect(skipped.data!.skipOccurrence).toMatchObject({ id: task.id, dueAt: '2030-01-14T09:00:00.000Z', remindAt: '2030-01-14T08:45:00.000Z', completed: false, version: 2 });
  });

  it('moves an all-day series by days, and refuses at the end of the series or for a one-off task, changing nothing', async () => {
    const task = await create({ title: 'twice', dueDate: '2030-03-30', recurrence: 'FREQ=DAILY;COUNT=2' });
    const skipped = await app.graphql(SkipOccurrenceDocument, { id: task.id }, { token });
    expect(skipped.data!.skipOccurrence).toMatchObject({ dueDate: '2030-03-31', dueAt: null, recurrence: 'FREQ=DAILY;COUNT=1' });
    const ended = await app.graphql(SkipOccurrenceDocument, { id: task.id }, { token });
    expect(errorCodes(ended)).toEqual(['BAD_USER_INPUT']);
    const oneOff = await create({ title: 'once', dueDate: '2030-03-30' });
    expect(errorCodes(await app.graphql(SkipOccurrenceDocument, { id: oneOff.id }, { token }))).toEqual(['BAD_USER_INPUT']);
    const after = await app.graphql(DueTasksDocument, { filter: { dueOn: { from: '2030-03-30', to: '2030-03-31' } }, first: 10 }, { token });
    expect(after.data!.tasks.edges.map((edge) => [edge.node.title, edge.node.dueDate, edge.node.version]).sort()).toEqual([
      ['once', '2030-03-30', 1],
      ['twice', '2030-03-31', 2],
    ]);
  });
});
