import ICAL from 'ical.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CalendarFeedUrlDocument,
  CompleteTaskDocument,
  CreateTaskDocument,
  EnableCalendarFeedDocument,
  RevokeCalendarFeedDocument,
  TrashTaskDocument,
  UpdateTaskDocument,
} from '../generated/graphql.js';
import { createTestApp, errorCodes, type TestApp } from '../support/app.js';
import { uuidOf } from '../support/events.js';

// The calendar feed over the server's socket, read back with an independent iCalendar parser
// (ical.js): every open dated task as an event, in two time zones; ETag/304; revocation.

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app?.close();
});

const LONG_TITLE = 'Plan the trip; book flights, hotel, car\nand ask Ana about the dates — ' + 'très bien '.repeat(8);

async function user(name: string, timeZone: string) {
  const signedUp = await app.signUp(name, { timeZone });
  const as = { token: signedUp.token };
  const create = async (input: Record<string, unknown>) => (await app.graphql(CreateTaskDocument, { input: { title: name, ...input } }, as)).data!.createTask;
  const tasks = {
    allDay: await create({ title: LONG_TITLE, dueDate: '2026-12-10', description: 'bring the passport, please' }),
    timed: await create({ title: 'Dentist', dueAt: '2026-12-11T15:00:00.000Z' }),
    weekly: await create({ title: 'Team call', dueAt: '2026-12-14T14:30:00.000Z', recurrence: 'FREQ=WEEKLY;BYDAY=MO' }),
    monthly: await create({ title: 'Pay rent', dueDate: '2026-12-31', recurrence: 'FREQ=MONTHLY;BYMONTHDAY=-1' }),
    undated: await create({ title: 'Someday' }),
    completed: await create({ title: 'Done already', dueAt: '2026-12-09T10:00:00.000Z' }),
    trashed: await create({ title: 'Deleted', dueDate: '2026-12-12' }),
  };
  await app.graphql(CompleteTaskDocument, { id: tasks.completed.id }, as);
  await app.graphql(TrashTaskDocument, { id: tasks.trashed.id }, as);
  return { ...signedUp, as, tasks };
}

async function events(url: string) {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
  const text = await response.text();
  expect(text.split('\r\n').every((line) => Buffer.byteLength(line) <= 75)).toBe(true);
  const calendar = new ICAL.Component(ICAL.parse(text));
  const byTask = new Map<string, ICAL.Component>();
  for (const event of calendar.getAllSubcomponents('vevent')) byTask.set(String(event.getFirstPropertyValue('uid')).replace(/@tasks-api$/, ''), event);
  return { byTask, etag: response.headers.get('etag')! };
}

const dtstart = (event: ICAL.Component) => {
  const property = event.getFirstProperty('dtstart')!;
  const value = property.getFirstValue() as ICAL.Time;
  return { tzid: property.getParameter('tzid') ?? null, isDate: value.isDate, local: value.toString() };
};

describe('calendar feed', () => {
  for (const [name, zone, weeklyLocal] of [
    ['ann', 'America/New_York', '2026-12-14T09:30:00'],
    ['ben', 'Europe/Berlin', '2026-12-14T15:30:00'],
  ] as const) {
    it(`holds every open dated task of a user in ${zone}, as the RFC says`, async () => {
      const { as, tasks } = await user(name, zone);
      expect((await app.graphql(CalendarFeedUrlDocument, {}, as)).data!.calendarFeedUrl).toBeNull();
      const url = (await app.graphql(EnableCalendarFeedDocument, {}, as)).data!.enableCalendarFeed;
      expect(url).toMatch(new RegExp(`^${app.origin}/calendar/[A-Za-z0-9_-]{43}\\.ics$`));
      expect((await app.graphql(CalendarFeedUrlDocument, {}, as)).data!.calendarFeedUrl).toBe(url);
      expect((await app.graphql(EnableCalendarFeedDocument, {}, as)).data!.enableCalendarFeed).toBe(url);

      const { byTask } = await events(url);
      expect([...byTask.keys()].sort()).toEqual([tasks.allDay, tasks.timed, tasks.weekly, tasks.monthly].map((task) => uuidOf(task.id)).sort());

      const allDay = byTask.get(uuidOf(tasks.allDay.id))!;
      expect(dtstart(allDay)).toEqual({ tzid: null, isDate: true, local: '2026-12-10' });
      expect((allDay.getFirstPropertyValue('dtend') as ICAL.Time).toString()).toBe('2026-12-11');
      expect(allDay.getFirstPropertyValue('summary')).toBe(LONG_TITLE.trim());
      expect(allDay.getFirstPropertyValue('description')).toBe('bring the passport, please');

      const timed = byTask.get(uuidOf(tasks.timed.id))!;
      expect(dtstart(timed)).toEqual({ tzid: null, isDate: false, local: '2026-12-11T15:00:00Z' });
      expect(String(timed.getFirstPropertyValue('duration'))).toBe('PT30M');
      expect(timed.getFirstPropertyValue('rrule')).toBeNull();

      const weekly = byTask.get(uuidOf(tasks.weekly.id))!;
      expect(dtstart(weekly)).toEqual({ tzid: zone, isDate: false, local: weeklyLocal });
      expect(String(weekly.getFirstPropertyValue('rrule'))).toBe('FREQ=WEEKLY;BYDAY=MO');

      const monthly = byTask.get(uuidOf(tasks.monthly.id))!;
      expect(dtstart(monthly)).toEqual({ tzid: null, isDate: true, local: '2026-12-31' });
      expect(String(monthly.getFirstPropertyValue('rrule'))).toBe('FREQ=MONTHLY;BYMONTHDAY=-1');
    });
  }

  it('answers 304 while nothing changed, and the new feed after a change', async () => {
    const { as, tasks } = await user('cid', 'UTC');
    const url = (await app.graphql(EnableCalendarFeedDocument, {}, as)).data!.enableCalendarFeed;
    const first = await events(url);
    const again = await fetch(url, { headers: { 'if-none-match': first.etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    await app.graphql(UpdateTaskDocument, { input: { id: tasks.timed.id, title: 'Dentist, moved' } }, as);
    const changed = await fetch(url, { headers: { 'if-none-match': first.etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(first.etag);
    expect(await changed.text()).toContain('SUMMARY:Dentist\\, moved');
  });

  it('stops working when revoked; a new feed has a new address; nothing else is reachable', async () => {
    const { as } = await user('dee', 'UTC');
    const other = await user('eve', 'UTC');
    const url = (await app.graphql(EnableCalendarFeedDocument, {}, as)).data!.enableCalendarFeed;
    const otherUrl = (await app.graphql(EnableCalendarFeedDocument, {}, other.as)).data!.enableCalendarFeed;
    expect((await events(url)).byTask.has(uuidOf(other.tasks.timed.id))).toBe(false);
    expect((await app.graphql(RevokeCalendarFeedDocument, {}, as)).data!.revokeCalendarFeed).toBe(true);
    expect((await fetch(url)).status).toBe(404);
    expect((await app.graphql(RevokeCalendarFeedDocument, {}, as)).data!.revokeCalendarFeed).toBe(false);
    const renewed = (await app.graphql(EnableCalendarFeedDocument, {}, as)).data!.enableCalendarFeed;
    expect(renewed).not.toBe(url);
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(renewed)).status).toBe(200);
    expect((await fetch(otherUrl)).status).toBe(200);
    for (const path of ['/calendar/nope.ics', `/calendar/${'A'.repeat(43)}.ics`, '/calendar/', `/calendar/${'A'.repeat(43)}.ics/../x`]) {
      expect((await app.fetch(path)).status).toBe(404);
    }
    expect((await fetch(renewed, { method: 'POST' })).status).toBe(405);
    expect(errorCodes(await app.graphql(EnableCalendarFeedDocument, {}))).toEqual(['UNAUTHENTICATED']);
  });

  it('gives the address clients reach, as a trusted proxy reports it', async () => {
    const proxied = await createTestApp({ env: { TRUST_PROXY: 'on' } });
    try {
      const { token } = await proxied.signUp('fay');
      const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'tasks.example.com' };
      const url = (await proxied.graphql(EnableCalendarFeedDocument, {}, { token, headers })).data!.enableCalendarFeed;
      expect(url).toMatch(/^https:\/\/tasks\.example\.com\/calendar\/[A-Za-z0-9_-]{43}\.ics$/);
      // Without TRUST_PROXY the headers are anyone's to send: ignored.
      const direct = (await app.graphql(EnableCalendarFeedDocument, {}, { token: (await app.signUp('gil')).token, headers })).data!.enableCalendarFeed;
      expect(direct.startsWith(`${app.origin}/calendar/`)).toBe(true);
    } finally {
      await proxied.close();
    }
  });

  it('limits how often one client may ask', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 65; attempt++) statuses.push((await app.fetch(`/calendar/${'B'.repeat(43)}.ics`)).status);
    expect(statuses).toContain(429);
    const limited = await app.fetch(`/calendar/${'B'.repeat(43)}.ics`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
