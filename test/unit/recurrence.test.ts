import { describe, it, expect } from 'vitest';

import { isValidTimeZone, nextOccurrence, parseRecurrence, shiftReminder } from '../../src/tasks/recurrence.js';

// Expected instants were worked out by hand from the 2026 DST dates:
//   Europe/Berlin      CET +01 -> CEST +02 on 2026-03-29 at 02:00; back on 2026-10-25 at 03:00
//   America/New_York   EST -05 -> EDT -04 on 2026-03-08 at 02:00; back on 2026-11-01 at 02:00
//   Australia/Sydney   AEDT +11 -> AEST +10 on 2026-04-05 at 03:00; AEST -> AEDT on 2026-10-04 at 02:00

function next(rule: string, timeZone: string, seriesStart: string, after: string = seriesStart): string | null {
  const result = nextOccurrence({ rule, timeZone, seriesStart: new Date(seriesStart), after: new Date(after) });
  return result === null ? null : result.toISOString();
}

/** Completes a series `count` times, each time from the previous occurrence, as the app does. */
function chain(rule: string, timeZone: string, seriesStart: string, count: number): (string | null)[] {
  const dueDates: (string | null)[] = [];
  let current: string | null = seriesStart;
  for (let i = 0; i < count && current !== null; i++) {
    current = next(rule, timeZone, seriesStart, current);
    dueDates.push(current);
  }
  return dueDates;
}

describe('parseRecurrence', () => {
  it.each([
    ['FREQ=DAILY', 'FREQ=DAILY'],
    ['RRULE:freq=weekly;byday=mo,we,fr', 'FREQ=WEEKLY;BYDAY=MO,WE,FR'],
    ['FREQ=MONTHLY;BYMONTHDAY=31;COUNT=010', 'FREQ=MONTHLY;BYMONTHDAY=31;COUNT=10'],
    ['  FREQ=YEARLY;INTERVAL=2;UNTIL=20301231T235959Z  ', 'FREQ=YEARLY;INTERVAL=2;UNTIL=20301231T235959Z'],
    ['FREQ=DAILY;UNTIL=20261231', 'FREQ=DAILY;UNTIL=20261231'],
    ['FREQ=MONTHLY;BYDAY=-1FR', 'FREQ=MONTHLY;BYDAY=-1FR'],
    ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29'],
    ['FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;WKST=SU', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;WKST=SU'],
  ])('accepts %j as %j', (input, normalised) => {
    expect(parseRecurrence(input)).toEqual({ ok: true, rule: normalised });
  });

  it.each([
    ['', 'rule is empty'],
    ['COUNT=5', 'FREQ is required'],
    ['FREQ=DAILY;FOO=1', 'unknown RRULE part FOO'],
    ['FREQ=HOURLY', 'HOURLY recurrence is not supported'],
    ['FREQ=MINUTELY', 'MINUTELY recurrence is not supported'],
    ['FREQ=SECONDLY', 'SECONDLY recurrence is not supported'],
    ['FREQ=FORTNIGHTLY', 'unknown FREQ FORTNIGHTLY'],
    ['FREQ=DAILY;COUNT=0', 'COUNT must be a whole number from 1 to 1000'],
    ['FREQ=DAILY;COUNT=1001', 'COUNT must be a whole number from 1 to 1000'],
    ['FREQ=DAILY;INTERVAL=0', 'INTERVAL must be a whole number from 1 to 1000'],
    ['FREQ=DAILY;INTERVAL=1001', 'INTERVAL must be a whole number from 1 to 1000'],
    ['DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY', 'DTSTART must not be in the rule'],
    ['FREQ=DAILY;DTSTART=20260101T090000Z', 'DTSTART must not be in the rule'],
    ['FREQ=DAILY;COUNT=3;UNTIL=20261231T000000Z', 'COUNT and UNTIL cannot both be set'],
    ['FREQ=DAILY;UNTIL=20260230', 'UNTIL must be'],
    ['FREQ=DAILY;UNTIL=20261231T000000', 'UNTIL must be'],
    ['FREQ=WEEKLY;BYDAY=XX', 'BYDAY must list weekdays'],
    ['FREQ=WEEKLY;BYDAY=2MO', 'BYDAY must list weekdays such as MO,WE without ordinals'],
    ['FREQ=MONTHLY;BYDAY=6MO', 'BYDAY must list weekdays such as MO,WE or 1MO,-1FR'],
    ['FREQ=DAILY;BYHOUR=9', 'BYHOUR is not supported'],
    ['FREQ=MONTHLY;BYMONTHDAY=32', 'BYMONTHDAY values must be whole numbers from -31 to 31'],
    ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', 'BYMONTHDAY never falls in the months of BYMONTH'],
    ['FREQ=MONTHLY;BYYEARDAY=100', 'BYYEARDAY and BYWEEKNO need FREQ=YEARLY'],
    ['FREQ=DAILY;BYSETPOS=2', 'BYSETPOS cannot be used with FREQ=DAILY'],
    ['FREQ=DAILY;FREQ=WEEKLY', 'FREQ is given more than once'],
    ['FREQ=DAILY;;COUNT=2', 'malformed RRULE part'],
    ['FREQ=DAILY COUNT=2', 'malformed RRULE part'],
  ])('rejects %j: %s', (input, reason) => {
    const result = parseRecurrence(input);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain(reason);
  });

  it('accepts 500 characters and rejects 501', () => {
    const rule = `FREQ=YEARLY;BYYEARDAY=${Array.from({ length: 239 }, () => '1').join(',')}0`;
    expect(rule).toHaveLength(500);
    expect(parseRecurrence(rule).ok).toBe(true);
    expect(parseRecurrence(`${rule}0`)).toEqual({ ok: false, reason: 'rule is longer than 500 characters' });
  });
});

describe('isValidTimeZone', () => {
  it.each(['Europe/Berlin', 'UTC', 'America/New_York', 'Australia/Sydney', 'Etc/GMT+2'])('accepts %s', (zone) => {
    expect(isValidTimeZone(zone)).toBe(true);
  });

  it.each(['Mars/Olympus', '', '+02:00', '-05:00', 'GMT+2', ' Europe/Berlin'])('rejects %j', (zone) => {
    expect(isValidTimeZone(zone)).toBe(false);
  });
});

describe('nextOccurrence', () => {
  describe('frequencies', () => {
    it('daily: the next day at the same time, wherever "after" falls in between', () => {
      expect(next('FREQ=DAILY', 'UTC', '2026-01-01T09:00:00.000Z')).toBe('2026-01-02T09:00:00.000Z');
      expect(next('FREQ=DAILY', 'UTC', '2026-01-01T09:00:00.000Z', '2026-01-01T15:30:00.000Z')).toBe(
        '2026-01-02T09:00:00.000Z',
      );
      expect(next('FREQ=DAILY', 'UTC', '2026-01-01T09:00:00.000Z', '2026-01-05T08:59:59.999Z')).toBe(
        '2026-01-05T09:00:00.000Z',
      );
    });

    it('is strictly after "after", and is the series start when "after" precedes it', () => {
      expect(next('FREQ=DAILY', 'UTC', '2026-01-01T09:00:00.000Z', '2026-01-02T09:00:00.000Z')).toBe(
        '2026-01-03T09:00:00.000Z',
      );
      expect(next('FREQ=WEEKLY', 'Europe/Berlin', '2026-01-05T08:00:00.000Z', '2025-12-31T00:00:00.000Z')).toBe(
        '2026-01-05T08:00:00.000Z',
      );
    });

    it('keeps milliseconds of the due date', () => {
      expect(next('FREQ=DAILY', 'UTC', '2026-01-01T09:00:00.250Z')).toBe('2026-01-02T09:00:00.250Z');
    });

    it('weekly on Monday, Wednesday and Friday', () => {
      // 2026-01-05 is a Monday; 09:00 CET is 08:00Z.
      expect(chain('FREQ=WEEKLY;BYDAY=MO,WE,FR', 'Europe/Berlin', '2026-01-05T08:00:00.000Z', 4)).toEqual([
        '2026-01-07T08:00:00.000Z',
        '2026-01-09T08:00:00.000Z',
        '2026-01-12T08:00:00.000Z',
        '2026-01-14T08:00:00.000Z',
      ]);
    });

    it('weekly from a start day the rule does not list goes to the next listed day', () => {
      // Tuesday 2026-01-06 -> Wednesday 2026-01-07.
      expect(next('FREQ=WEEKLY;BYDAY=MO,WE', 'Europe/Berlin', '2026-01-06T08:00:00.000Z')).toBe(
        '2026-01-07T08:00:00.000Z',
      );
    });

    it('monthly on the 31st skips months without one (and keeps 09:00 across DST)', () => {
      // Jan 31 09:00 CET -> Mar 31 09:00 CEST -> May 31 -> Jul 31 -> Aug 31 -> Oct 31 (CET again).
      expect(chain('FREQ=MONTHLY;BYMONTHDAY=31', 'Europe/Berlin', '2026-01-31T08:00:00.000Z', 5)).toEqual([
        '2026-03-31T07:00:00.000Z',
        '2026-05-31T07:00:00.000Z',
        '2026-07-31T07:00:00.000Z',
        '2026-08-31T07:00:00.000Z',
        '2026-10-31T08:00:00.000Z',
      ]);
    });

    it('plain monthly from the 31st behaves the same way', () => {
      expect(next('FREQ=MONTHLY', 'Europe/Berlin', '2026-01-31T08:00:00.000Z')).toBe('2026-03-31T07:00:00.000Z');
    });

    it('monthly on the last Friday', () => {
      // Last Fridays of 2026: Jan 30, Feb 27, Mar 27 (still CET: DST starts on the 29th).
      expect(chain('FREQ=MONTHLY;BYDAY=-1FR', 'Europe/Berlin', '2026-01-30T08:00:00.000Z', 2)).toEqual([
        '2026-02-27T08:00:00.000Z',
        '2026-03-27T08:00:00.000Z',
      ]);
    });

    it('yearly, and yearly from 29 February only in leap years', () => {
      expect(next('FREQ=YEARLY', 'UTC', '2026-06-15T12:00:00.000Z')).toBe('2027-06-15T12:00:00.000Z');
      expect(next('FREQ=YEARLY', 'UTC', '2024-02-29T12:00:00.000Z')).toBe('2028-02-29T12:00:00.000Z');
    });

    it('INTERVAL', () => {
      expect(next('FREQ=DAILY;INTERVAL=3', 'UTC', '2026-01-01T09:00:00.000Z', '2026-01-02T12:00:00.000Z')).toBe(
        '2026-01-04T09:00:00.000Z',
      );
      // Tuesday 2026-01-06 -> every other Tuesday.
      expect(chain('FREQ=WEEKLY;INTERVAL=2;BYDAY=TU', 'Europe/Berlin', '2026-01-06T08:00:00.000Z', 2)).toEqual([
        '2026-01-20T08:00:00.000Z',
        '2026-02-03T08:00:00.000Z',
      ]);
    });
  });

  describe('end of series', () => {
    it('COUNT counts from the series start; after the last occurrence there is none', () => {
      expect(chain('FREQ=DAILY;COUNT=3', 'UTC', '2026-01-01T09:00:00.000Z', 5)).toEqual([
        '2026-01-02T09:00:00.000Z',
        '2026-01-03T09:00:00.000Z',
        null,
      ]);
      expect(next('FREQ=DAILY;COUNT=1', 'UTC', '2026-01-01T09:00:00.000Z')).toBeNull();
    });

    it('UNTIL as a UTC instant is inclusive', () => {
      const rule = 'FREQ=DAILY;UNTIL=20260103T080000Z';
      expect(chain(rule, 'Europe/Berlin', '2026-01-01T08:00:00.000Z', 5)).toEqual([
        '2026-01-02T08:00:00.000Z',
        '2026-01-03T08:00:00.000Z',
        null,
      ]);
      expect(next('FREQ=DAILY;UNTIL=20260103T075959Z', 'Europe/Berlin', '2026-01-01T08:00:00.000Z', '2026-01-02T08:00:00.000Z')).toBeNull();
    });

    it('UNTIL as a date includes that whole local day', () => {
      // 09:00 AEDT is 22:00Z the previous day, so a UTC reading of 20260103 would stop a day early.
      expect(chain('FREQ=DAILY;UNTIL=20260103', 'Australia/Sydney', '2025-12-31T22:00:00.000Z', 5)).toEqual([
        '2026-01-01T22:00:00.000Z',
        '2026-01-02T22:00:00.000Z',
        null,
      ]);
    });

    it('a rule that can never match again ends instead of scanning to the year 9999', () => {
      // Every 7 days from a Monday is always a Monday.
      expect(next('FREQ=DAILY;INTERVAL=7;BYDAY=TU', 'UTC', '2026-01-05T09:00:00.000Z')).toBeNull();
      // From 2023, every 4th year is never a leap year.
      expect(next('FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29', 'UTC', '2023-02-01T09:00:00.000Z')).toBeNull();
    });
  });

  describe('daylight saving time: a daily 09:00 task stays at 09:00 local time', () => {
    it('Europe/Berlin, spring forward on 2026-03-29', () => {
      expect(chain('FREQ=DAILY', 'Europe/Berlin', '2026-03-27T08:00:00.000Z', 4)).toEqual([
        '2026-03-28T08:00:00.000Z',
        '2026-03-29T07:00:00.000Z',
        '2026-03-30T07:00:00.000Z',
        '2026-03-31T07:00:00.000Z',
      ]);
    });

    it('Europe/Berlin, fall back on 2026-10-25', () => {
      expect(chain('FREQ=DAILY', 'Europe/Berlin', '2026-10-24T07:00:00.000Z', 2)).toEqual([
        '2026-10-25T08:00:00.000Z',
        '2026-10-26T08:00:00.000Z',
      ]);
    });

    it('America/New_York, spring forward on 2026-03-08 and fall back on 2026-11-01', () => {
      expect(next('FREQ=DAILY', 'America/New_York', '2026-03-07T14:00:00.000Z')).toBe('2026-03-08T13:00:00.000Z');
      expect(next('FREQ=DAILY', 'America/New_York', '2026-10-31T13:00:00.000Z')).toBe('2026-11-01T14:00:00.000Z');
    });

    it('America/New_York, weekly across the change', () => {
      // Sunday 2026-03-01 09:00 EST -> Sunday 2026-03-08 09:00 EDT.
      expect(next('FREQ=WEEKLY', 'America/New_York', '2026-03-01T14:00:00.000Z')).toBe('2026-03-08T13:00:00.000Z');
    });

    it('Australia/Sydney, which falls back in April and springs forward in October', () => {
      expect(next('FREQ=DAILY', 'Australia/Sydney', '2026-04-03T22:00:00.000Z')).toBe('2026-04-04T23:00:00.000Z');
      expect(next('FREQ=DAILY', 'Australia/Sydney', '2026-10-02T23:00:00.000Z')).toBe('2026-10-03T22:00:00.000Z');
    });
  });

  describe('daylight saving time: local times that are skipped or repeated', () => {
    it('a skipped 02:30 becomes 03:30, and the day after is 02:30 again', () => {
      expect(chain('FREQ=DAILY', 'Europe/Berlin', '2026-03-28T01:30:00.000Z', 2)).toEqual([
        '2026-03-29T01:30:00.000Z', // 03:30 CEST
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
      ]);
      expect(chain('FREQ=DAILY', 'America/New_York', '2026-03-07T07:30:00.000Z', 2)).toEqual([
        '2026-03-08T07:30:00.000Z', // 03:30 EDT
        '2026-03-09T06:30:00.000Z', // 02:30 EDT
      ]);
      expect(chain('FREQ=DAILY', 'Australia/Sydney', '2026-10-02T16:30:00.000Z', 2)).toEqual([
        '2026-10-03T16:30:00.000Z', // 03:30 AEDT
        '2026-10-04T15:30:00.000Z', // 02:30 AEDT
      ]);
    });

    it('a repeated local time resolves to its first (earlier) instant', () => {
      expect(chain('FREQ=DAILY', 'America/New_York', '2026-10-31T05:30:00.000Z', 2)).toEqual([
        '2026-11-01T05:30:00.000Z', // 01:30 EDT, not 01:30 EST
        '2026-11-02T06:30:00.000Z', // 01:30 EST
      ]);
      expect(chain('FREQ=DAILY', 'Europe/Berlin', '2026-10-24T00:30:00.000Z', 2)).toEqual([
        '2026-10-25T00:30:00.000Z', // 02:30 CEST, not 02:30 CET
        '2026-10-26T01:30:00.000Z', // 02:30 CET
      ]);
      expect(chain('FREQ=DAILY', 'Australia/Sydney', '2026-04-03T15:30:00.000Z', 2)).toEqual([
        '2026-04-04T15:30:00.000Z', // 02:30 AEDT, not 02:30 AEST
        '2026-04-05T16:30:00.000Z', // 02:30 AEST
      ]);
    });

    it('after the second of two equal local times, the next is the following day', () => {
      // "after" is 01:30 EST on 2026-11-01, later than the 01:30 EDT occurrence.
      expect(next('FREQ=DAILY', 'America/New_York', '2026-10-31T05:30:00.000Z', '2026-11-01T06:30:00.000Z')).toBe(
        '2026-11-02T06:30:00.000Z',
      );
    });
  });

  describe('invalid input', () => {
    it('throws on a rule or time zone that did not pass validation', () => {
      const dates = { seriesStart: new Date('2026-01-01T09:00:00Z'), after: new Date('2026-01-01T09:00:00Z') };
      expect(() => nextOccurrence({ rule: 'FREQ=HOURLY', timeZone: 'UTC', ...dates })).toThrow(RangeError);
      expect(() => nextOccurrence({ rule: 'FREQ=DAILY', timeZone: 'Mars/Olympus', ...dates })).toThrow(RangeError);
      expect(() =>
        nextOccurrence({ rule: 'FREQ=DAILY', timeZone: 'UTC', seriesStart: new Date('nope'), after: dates.after }),
      ).toThrow(RangeError);
    });
  });
});

describe('shiftReminder', () => {
  it('keeps the reminder the same time before the due date, in absolute time', () => {
    // 30 minutes before 09:00 CET, then before 09:00 CEST the next day.
    expect(
      shiftReminder({
        remindAt: new Date('2026-03-28T07:30:00.000Z'),
        dueAt: new Date('2026-03-28T08:00:00.000Z'),
        nextDueAt: new Date('2026-03-29T07:00:00.000Z'),
      })?.toISOString(),
    ).toBe('2026-03-29T06:30:00.000Z');
    // A day and a half before.
    expect(
      shiftReminder({
        remindAt: new Date('2026-01-04T21:00:00.000Z'),
        dueAt: new Date('2026-01-06T09:00:00.000Z'),
        nextDueAt: new Date('2026-01-13T09:00:00.000Z'),
      })?.toISOString(),
    ).toBe('2026-01-11T21:00:00.000Z');
  });

  it('keeps no reminder as no reminder', () => {
    expect(
      shiftReminder({ remindAt: null, dueAt: new Date('2026-01-01T09:00:00Z'), nextDueAt: new Date('2026-01-02T09:00:00Z') }),
    ).toBeNull();
  });
});
