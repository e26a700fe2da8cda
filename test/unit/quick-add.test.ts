import { describe, it, expect } from 'vitest';

import { parseQuickAdd, type QuickAddPriority, type QuickAddReading } from '../../src/quick-add/parse-quick-add.js';
import { nextOccurrence, parseRecurrence } from '../../src/tasks/recurrence.js';
import { localDateOf } from '../../src/time/wall-clock.js';

// Every expected value below was worked out by hand, not by running the parser. The fixed `now`:
//
//   2026-03-04T23:30:00Z   New York: Wednesday 4 March, 18:30 EST (-05)
//                          Berlin:   Thursday 5 March, 00:30 CET (+01)
//
// so "today" is Wednesday in one zone and Thursday in the other, and 5pm has passed in New York only.
// The 2026 DST changes the table crosses:
//   America/New_York  EST -05 -> EDT -04 on Sunday 2026-03-08 at 02:00; back on Sunday 2026-11-01 at 02:00
//   Europe/Berlin     CET +01 -> CEST +02 on Sunday 2026-03-29 at 02:00; back on Sunday 2026-10-25 at 03:00
// March 2026: Sun 1, Mon 2, Tue 3, Wed 4, Thu 5, Fri 6, Sat 7, Sun 8, Mon 9 ... Fri 27, Sun 29, Tue 31; April 1 is a Wednesday.

const NOW = new Date('2026-03-04T23:30:00Z');
const ZONES = { ny: 'America/New_York', berlin: 'Europe/Berlin' } as const;

/** A due instant ('2026-03-09T13:00Z'), an all-day date ('2026-03-09') or none. */
type Due = string | null;

interface Extras {
  /** Defaults to the text itself (nothing understood, or nothing left once the rest was read). */
  title?: string;
  recurrence?: string;
  list?: string;
  tags?: string[];
  priority?: QuickAddPriority;
}

// [text, due in New York, due in Berlin, the rest of the reading]
const table: [string, Due, Due, Extras?][] = [
  // The design doc's example: Monday 9 March is after New York's switch to EDT, before Berlin's.
  ['Water plants every monday 9am #Home @garden p2', '2026-03-09T13:00Z', '2026-03-09T08:00Z',
    { title: 'Water plants', recurrence: 'FREQ=WEEKLY;BYDAY=MO', list: 'Home', tags: ['garden'], priority: 'HIGH' }],

  // Not dates
  ['Buy 2 milk', null, null],
  ['Call May', null, null],
  ['Read 1984', null, null],
  ['Order 3 pizzas', null, null],
  ['Meet at 5 guys', null, null], // a bare hour is not a time
  ['Pick up kids at 3', null, null],
  ['Watch Friday Night Lights', null, null], // Title Case running into another capitalised word
  ['Buy sun cream', null, null],
  ['Buy 1/2 lb butter', null, null],
  ['Check every box', null, null],
  ['Run every hour', null, null],
  ['Pay tax before April 30', null, null],
  ['Plan June 2027', null, null], // a month without a day

  // Days
  ['Call May tomorrow', '2026-03-05', '2026-03-06', { title: 'Call May' }],
  ['Call Bob Tomorrow', '2026-03-05', '2026-03-06', { title: 'Call Bob' }],
  ['Call Sam, tomorrow', '2026-03-05', '2026-03-06', { title: 'Call Sam' }],
  ['Email boss today', '2026-03-04', '2026-03-05', { title: 'Email boss' }],
  ['Dinner tonight', '2026-03-04', '2026-03-05', { title: 'Dinner' }],
  ['Yoga tomorrow morning', '2026-03-05', '2026-03-06', { title: 'Yoga' }],
  ['Fix fence friday', '2026-03-06', '2026-03-06', { title: 'Fix fence' }],
  ['Standup wed', '2026-03-04', '2026-03-11', { title: 'Standup' }], // today is Wednesday in New York
  ['Standup thursday', '2026-03-05', '2026-03-05', { title: 'Standup' }], // and Thursday in Berlin
  ['Mow lawn on sat', '2026-03-07', '2026-03-07', { title: 'Mow lawn' }],
  ['Submit report next fri', '2026-03-13', '2026-03-13', { title: 'Submit report' }], // chrono: Friday of next week
  ['Clean garage this weekend', '2026-03-07', '2026-03-07', { title: 'Clean garage' }],
  ['Plan trip next week', '2026-03-11', '2026-03-12', { title: 'Plan trip' }],
  ['Review in 2 weeks', '2026-03-18', '2026-03-19', { title: 'Review' }],
  ['Renew insurance in 3 days', '2026-03-07', '2026-03-08', { title: 'Renew insurance' }],
  ['Budget review end of month', '2026-03-31', '2026-03-31', { title: 'Budget review' }],
  ['Pay bill on March 3', '2027-03-03', '2027-03-03', { title: 'Pay bill' }], // past this year
  ['Pay bill on March 5', '2026-03-05', '2026-03-05', { title: 'Pay bill' }], // today in Berlin still counts
  ['Taxes due April 15', '2026-04-15', '2026-04-15', { title: 'Taxes' }],
  ['Renew passport due on 3/5', '2026-03-05', '2026-03-05', { title: 'Renew passport' }],
  ['Visa appointment on 5 March 2027', '2027-03-05', '2027-03-05', { title: 'Visa appointment' }],
  ['Work for 2 hours tomorrow', '2026-03-05', '2026-03-06', { title: 'Work for 2 hours' }],
  ['Call bob at 5 tomorrow', '2026-03-05', '2026-03-06', { title: 'Call bob at 5' }], // the bare hour stays
  ['tomorrow', '2026-03-05', '2026-03-06'],

  // Times
  ['tomorrow 5pm', '2026-03-05T22:00Z', '2026-03-06T16:00Z'],
  ['Dentist tomorrow 5pm', '2026-03-05T22:00Z', '2026-03-06T16:00Z', { title: 'Dentist' }],
  ['Call bob at 5pm', '2026-03-05T22:00Z', '2026-03-05T16:00Z', { title: 'Call bob' }], // passed in New York
  ['Lunch at noon', '2026-03-05T17:00Z', '2026-03-05T11:00Z', { title: 'Lunch' }],
  ['Call at 17:00', '2026-03-05T22:00Z', '2026-03-05T16:00Z', { title: 'Call' }],
  ['Meeting 9:30', '2026-03-05T14:30Z', '2026-03-05T08:30Z', { title: 'Meeting' }],
  ['Mow lawn sat 10am', '2026-03-07T15:00Z', '2026-03-07T09:00Z', { title: 'Mow lawn' }],
  ['Finish report by Friday 3pm', '2026-03-06T20:00Z', '2026-03-06T14:00Z', { title: 'Finish report' }],
  ['Send invoice March 10 at 9am #Work p1', '2026-03-10T13:00Z', '2026-03-10T08:00Z',
    { title: 'Send invoice', list: 'Work', priority: 'URGENT' }],
  ['Flight 2026-04-02 10:15', '2026-04-02T14:15Z', '2026-04-02T08:15Z', { title: 'Flight' }],
  ['Concert Dec 24 8pm', '2026-12-25T01:00Z', '2026-12-24T19:00Z', { title: 'Concert' }],
  ['Call mom in 3 hours', '2026-03-05T02:30Z', '2026-03-05T02:30Z', { title: 'Call mom' }],
  ['Meeting at 9am PST', '2026-03-05T17:00Z', '2026-03-05T17:00Z', { title: 'Meeting' }],
  ['Dinner tonight with Anna and Bob p2 @social', '2026-03-04', '2026-03-05',
    { title: 'Dinner with Anna and Bob', tags: ['social'], priority: 'HIGH' }],

  // DST: a skipped time moves past the gap, a repeated one is the earlier instant
  ['Alarm test sunday 2:30am', '2026-03-08T07:30Z', '2026-03-08T01:30Z', { title: 'Alarm test' }],
  ['Backup March 29 2:30am', '2026-03-29T06:30Z', '2026-03-29T01:30Z', { title: 'Backup' }],
  ['Backup Oct 25 2:30am', '2026-10-25T06:30Z', '2026-10-25T00:30Z', { title: 'Backup' }],
  ['Backup Nov 1 1:30am', '2026-11-01T05:30Z', '2026-11-01T00:30Z', { title: 'Backup' }],
  ['Backup every sunday 2:30am', '2026-03-08T07:30Z', '2026-03-08T01:30Z', { title: 'Backup', recurrence: 'FREQ=WEEKLY;BYDAY=SU' }],

  // Repeats
  ['every day', '2026-03-04', '2026-03-05', { recurrence: 'FREQ=DAILY' }],
  ['Water plants every day', '2026-03-04', '2026-03-05', { title: 'Water plants', recurrence: 'FREQ=DAILY' }],
  ['Take pills daily 8am', '2026-03-05T13:00Z', '2026-03-05T07:00Z', { title: 'Take pills', recurrence: 'FREQ=DAILY' }],
  ['Practice every other day 6pm', '2026-03-05T23:00Z', '2026-03-05T17:00Z',
    { title: 'Practice', recurrence: 'FREQ=DAILY;INTERVAL=2' }],
  ['Stretch every 3 days starting tomorrow', '2026-03-05', '2026-03-06', { title: 'Stretch', recurrence: 'FREQ=DAILY;INTERVAL=3' }],
  ['Stretch every day until friday', '2026-03-04', '2026-03-05', { title: 'Stretch until friday', recurrence: 'FREQ=DAILY' }],
  ['Stretch every day for 3 weeks', '2026-03-04', '2026-03-05', { title: 'Stretch for 3 weeks', recurrence: 'FREQ=DAILY' }],
  ['Standup every day at 9', '2026-03-04', '2026-03-05', { title: 'Standup at 9', recurrence: 'FREQ=DAILY' }],
  ['Every Monday', '2026-03-09', '2026-03-09', { recurrence: 'FREQ=WEEKLY;BYDAY=MO' }],
  ['every weekday', '2026-03-04', '2026-03-05', { recurrence: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR' }],
  ['Stand-up every weekday 9am', '2026-03-05T14:00Z', '2026-03-05T08:00Z',
    { title: 'Stand-up', recurrence: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR' }],
  ['Weekend chores every weekend', '2026-03-07', '2026-03-07', { title: 'Weekend chores', recurrence: 'FREQ=WEEKLY;BYDAY=SA,SU' }],
  ['Gym every monday and thursday', '2026-03-05', '2026-03-05', { title: 'Gym', recurrence: 'FREQ=WEEKLY;BYDAY=MO,TH' }],
  ['Gym every mon, wed', '2026-03-04', '2026-03-09', { title: 'Gym', recurrence: 'FREQ=WEEKLY;BYDAY=MO,WE' }],
  ['Gym every mon, wed and fri at 7am', '2026-03-06T12:00Z', '2026-03-06T06:00Z',
    { title: 'Gym', recurrence: 'FREQ=WEEKLY;BYDAY=MO,WE,FR' }],
  ['Trash every tuesday 7pm', '2026-03-10T23:00Z', '2026-03-10T18:00Z', { title: 'Trash', recurrence: 'FREQ=WEEKLY;BYDAY=TU' }],
  ['Mop floor every other monday', '2026-03-09', '2026-03-09', { title: 'Mop floor', recurrence: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO' }],
  ['Check mail every 2 weeks', '2026-03-04', '2026-03-05', { title: 'Check mail', recurrence: 'FREQ=WEEKLY;INTERVAL=2' }],
  ['Mop floor every other week', '2026-03-04', '2026-03-05', { title: 'Mop floor', recurrence: 'FREQ=WEEKLY;INTERVAL=2' }],
  ['Mop floor every second week', '2026-03-04', '2026-03-05', { title: 'Mop floor', recurrence: 'FREQ=WEEKLY;INTERVAL=2' }],
  ['Sprint review every 2 weeks on friday', '2026-03-06', '2026-03-06',
    { title: 'Sprint review', recurrence: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=FR' }],
  ['Team sync weekly', '2026-03-04', '2026-03-05', { title: 'Team sync', recurrence: 'FREQ=WEEKLY' }],
  ['Prepare monthly report', null, null], // before a noun, "monthly" describes the task
  ['Weekly review on friday', '2026-03-06', '2026-03-06', { title: 'Weekly review' }],
  ['Stretch every day starting yesterday', '2026-03-04', '2026-03-05', { title: 'Stretch', recurrence: 'FREQ=DAILY' }],
  ['Backups monthly', '2026-03-04', '2026-03-05', { title: 'Backups', recurrence: 'FREQ=MONTHLY' }],
  ['Audit every third month', '2026-03-04', '2026-03-05', { title: 'Audit', recurrence: 'FREQ=MONTHLY;INTERVAL=3' }],
  ['Quarterly report every 3 months', '2026-03-04', '2026-03-05', { title: 'Quarterly report', recurrence: 'FREQ=MONTHLY;INTERVAL=3' }],
  ['Pay rent every month on the 1st', '2026-04-01', '2026-04-01', { title: 'Pay rent', recurrence: 'FREQ=MONTHLY;BYMONTHDAY=1' }],
  ['Invoice every 15th', '2026-03-15', '2026-03-15', { title: 'Invoice', recurrence: 'FREQ=MONTHLY;BYMONTHDAY=15' }],
  ['Pay card every month on the 15th and 30th', '2026-03-15', '2026-03-15',
    { title: 'Pay card', recurrence: 'FREQ=MONTHLY;BYMONTHDAY=15,30' }],
  // End of month: the last day of shorter months
  ['Pay rent every month on the 31st', '2026-03-31', '2026-03-31',
    { title: 'Pay rent', recurrence: 'FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1' }],
  ['Rent every month on the last day', '2026-03-31', '2026-03-31', { title: 'Rent', recurrence: 'FREQ=MONTHLY;BYMONTHDAY=-1' }],
  ['Board meeting every first monday', '2026-04-06', '2026-04-06', { title: 'Board meeting', recurrence: 'FREQ=MONTHLY;BYDAY=+1MO' }],
  ['Payday every last friday', '2026-03-27', '2026-03-27', { title: 'Payday', recurrence: 'FREQ=MONTHLY;BYDAY=-1FR' }],
  ['Review goals every year', '2026-03-04', '2026-03-05', { title: 'Review goals', recurrence: 'FREQ=YEARLY' }],
  ['Tax return yearly', '2026-03-04', '2026-03-05', { title: 'Tax return', recurrence: 'FREQ=YEARLY' }],
  ["Mom's birthday every jan 5", '2027-01-05', '2027-01-05', { title: "Mom's birthday", recurrence: 'FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=5' }],
  ['Anniversary every 14th of june', '2026-06-14', '2026-06-14', { title: 'Anniversary', recurrence: 'FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=14' }],
  ['Leap party every year on feb 29', '2028-02-29', '2028-02-29', { title: 'Leap party', recurrence: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29' }],

  // Priorities
  ['Fix bug p1', null, null, { title: 'Fix bug', priority: 'URGENT' }],
  ['p3 Fix bug', null, null, { title: 'Fix bug', priority: 'MEDIUM' }],
  ['Fix bug !high', null, null, { title: 'Fix bug', priority: 'HIGH' }],
  ['Fix bug !2', null, null, { title: 'Fix bug', priority: 'HIGH' }],
  ['Fix bug !low', null, null, { title: 'Fix bug', priority: 'LOW' }],
  ['Fix bug P4 !urgent', null, null, { title: 'Fix bug', priority: 'URGENT' }], // the last one wins
  ['Fix p5 and ap1', null, null],

  // Lists and tags
  ['Email bob@example.com about #Work', null, null, { title: 'Email bob@example.com about', list: 'Work' }],
  ['Plan #Home #Garden stuff', null, null, { title: 'Plan #Garden stuff', list: 'Home' }],
  ['Buy soil @garden @Garden @shopping', null, null, { title: 'Buy soil', tags: ['garden', 'shopping'] }],
  ['Fix issue #123', null, null],
  ['Price is 5# and foo#bar', null, null],
  ['# alone @ alone', null, null],
  ['Café run @café-bar #Über_list', null, null, { title: 'Café run', tags: ['café-bar'], list: 'Über_list' }],
];

function expectedReading(text: string, due: Due, extras: Extras = {}): QuickAddReading {
  return {
    title: extras.title ?? text,
    dueAt: due?.includes('T') ? new Date(due.replace('Z', ':00Z')) : null,
    dueDate: due !== null && !due.includes('T') ? due : null,
    recurrence: extras.recurrence ?? null,
    listName: extras.list ?? null,
    tagNames: extras.tags ?? [],
    priority: extras.priority ?? null,
  };
}

describe('localDateOf', () => {
  it('is the calendar day of the instant in the zone', () => {
    expect(localDateOf(NOW, ZONES.ny)).toBe('2026-03-04');
    expect(localDateOf(NOW, ZONES.berlin)).toBe('2026-03-05');
    expect(localDateOf(NOW, 'Pacific/Pago_Pago')).toBe('2026-03-04'); // -11
    expect(localDateOf(new Date('2026-03-04T10:00:00Z'), 'Pacific/Kiritimati')).toBe('2026-03-05'); // +14
  });
});

describe('parseQuickAdd', () => {
  it('has a large table', () => {
    expect(table.length).toBeGreaterThanOrEqual(80);
  });

  describe.each(Object.entries(ZONES))('in %s', (zoneKey, timeZone) => {
    it.each(table)('reads %j', (text, nyDue, berlinDue, extras) => {
      const reading = parseQuickAdd(text, { timeZone, now: NOW });
      expect(reading).toEqual(expectedReading(text, zoneKey === 'ny' ? nyDue : berlinDue, extras));
    });
  });

  it('writes every repeat as parseRecurrence spells it', () => {
    const rules = table.flatMap(([text]) =>
      Object.values(ZONES).map((timeZone) => parseQuickAdd(text, { timeZone, now: NOW }).recurrence),
    );
    const written = rules.filter((rule) => rule !== null);
    expect(written.length).toBeGreaterThan(50);
    for (const rule of written) expect(parseRecurrence(rule)).toEqual({ ok: true, rule });
  });

  it('keeps "every month on the 31st" on the last day of shorter months', () => {
    const { dueDate, recurrence } = parseQuickAdd('Pay rent every month on the 31st', { timeZone: 'UTC', now: NOW });
    const dueDates: string[] = [];
    let current = new Date(`${dueDate}T00:00:00Z`);
    for (let i = 0; i < 4; i++) {
      current = nextOccurrence({ rule: recurrence!, timeZone: 'UTC', seriesStart: new Date(`${dueDate}T00:00:00Z`), after: current })!;
      dueDates.push(current.toISOString().slice(0, 10));
    }
    expect(dueDates).toEqual(['2026-04-30', '2026-05-31', '2026-06-30', '2026-07-31']);
  });

  it('reads the text as it was without a zone it can use', () => {
    expect(parseQuickAdd('  Call bob tomorrow #Work p1 ', { timeZone: 'Not/A_Zone', now: NOW })).toEqual(
      expectedReading('Call bob tomorrow #Work p1', null),
    );
    expect(parseQuickAdd('Call bob tomorrow', { timeZone: 'UTC', now: new Date(Number.NaN) })).toEqual(
      expectedReading('Call bob tomorrow', null),
    );
  });

  it('never throws on odd text, and what it reads is consistent', () => {
    const random = seededRandom(20260304);
    const pieces = [
      'every', 'other', 'day', 'monday', 'and', ',', 'on', 'the', '31st', '15th', 'last', 'first', 'month', 'year', 'jan', 'feb 29',
      'tomorrow', 'next', 'fri', 'in', '2', 'weeks', '5pm', '2:30am', 'at', 'noon', 'p1', 'p5', '!high', '!', '#', '@', '#Home',
      '@garden', 'bob@example.com', 'until', 'starting', '3/5', '1984', 'May', 'Friday Night', '\u0000', '\uD800', '\uDFFF',
      '🙂', '👩‍👩‍👧', 'e\u0301', 'مرحبا', '漢字', 'İ', 'ß', '\u200B', '\u202E', '\t', '\n', '  ', '-', '_', '.', ':', '(', ')',
      '999999999999', '-1', '0', '00:00', '24:00', '25:61', '12/31/9999', '0001-01-01', 'every 1000 days', 'every 1001 days',
    ];
    for (let run = 0; run < 300; run++) {
      let text = '';
      while (text.length < 500) {
        text += random() < 0.7 ? pieces[Math.floor(random() * pieces.length)] : String.fromCharCode(Math.floor(random() * 0x10000));
        text += random() < 0.8 ? ' ' : '';
      }
      text = text.slice(0, 500 - Math.floor(random() * 400));
      for (const timeZone of Object.values(ZONES)) {
        const reading = parseQuickAdd(text, { timeZone, now: NOW });
        expect(typeof reading.title).toBe('string');
        expect(reading.dueAt !== null && reading.dueDate !== null).toBe(false);
        if (reading.dueAt !== null) expect(Number.isNaN(reading.dueAt.getTime())).toBe(false);
        if (reading.dueDate !== null) expect(reading.dueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        if (reading.recurrence !== null) {
          expect(parseRecurrence(reading.recurrence).ok).toBe(true);
          expect(reading.dueAt ?? reading.dueDate).not.toBeNull();
        }
      }
    }
  });

  it('reads 500 characters quickly', () => {
    const texts = ['every ', '1 ', 'at ', 'monday and ', '#a ', '@b ', 'p1 ', 'March 3 ', '5pm '].map((piece) => piece.repeat(500).slice(0, 500));
    const started = performance.now();
    for (const text of texts) parseQuickAdd(text, { timeZone: ZONES.ny, now: NOW });
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

/** mulberry32: the fuzz test fails the same way every time it fails. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
