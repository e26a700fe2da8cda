// rrule ships a UMD bundle without an "exports" map, so Node's ESM loader only exposes it
// as a default export; named imports would type-check but fail at runtime.
import rrulePackage from 'rrule';
import type { Options } from 'rrule';
import { toWallClock, wallClockToInstant } from '../time/wall-clock.js';

const { RRule } = rrulePackage;

export type ParseRecurrenceResult = { ok: true; rule: string } | { ok: false; reason: string };

const MAX_RULE_LENGTH = 500;
const MAX_COUNT_OR_INTERVAL = 1000;
const DAY_MS = 86_400_000;
const GREGORIAN_CYCLE_MS = 146_097 * DAY_MS;
const RRULE_END = Date.UTC(10_000, 0, 1);

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const SUPPORTED_FREQUENCIES = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'];
const SUB_DAILY_FREQUENCIES = ['HOURLY', 'MINUTELY', 'SECONDLY'];
// The time of day comes from the task's due date; these parts would also let a "DAILY"
// rule expand into thousands of occurrences a day.
const TIME_OF_DAY_PARTS = ['BYHOUR', 'BYMINUTE', 'BYSECOND'];
// [smallest, largest]; negative values count from the end of the period, as RFC 5545 allows.
const NUMBER_LIST_PARTS: Record<string, [number, number]> = {
  BYMONTH: [1, 12],
  BYMONTHDAY: [-31, 31],
  BYYEARDAY: [-366, 366],
  BYWEEKNO: [-53, 53],
  BYSETPOS: [-366, 366],
};
const KNOWN_PARTS = ['FREQ', 'COUNT', 'INTERVAL', 'UNTIL', 'BYDAY', 'WKST', ...Object.keys(NUMBER_LIST_PARTS)];

// Rough length of one INTERVAL step: a rule with no occurrence within 8 steps (and 9 years)
// of the current one may be reported as ended.
const FREQUENCY_DAYS: Record<string, number> = { DAILY: 1, WEEKLY: 7, MONTHLY: 31, YEARLY: 366 };

type Until = { kind: 'instant'; at: number } | { kind: 'localDate'; lastWallClockMs: number };

interface ParsedRule {
  ok: true;
  rule: string;
  freq: string;
  interval: number;
  until: Until | null;
  // Without UNTIL: rrule would read it as UTC, while a date-only UNTIL is the user's local date.
  options: Partial<Options>;
}

function parseRule(input: string): ParsedRule | { ok: false; reason: string } {
  const fail = (reason: string) => ({ ok: false as const, reason });
  if (input.length > MAX_RULE_LENGTH) return fail(`rule is longer than ${MAX_RULE_LENGTH} characters`);
  const body = input.trim().replace(/^RRULE:/i, '').toUpperCase();
  if (body === '') return fail('rule is empty');
  if (/DTSTART|TZID/.test(body)) {
    return fail('DTSTART must not be in the rule: the series starts at the task due date');
  }

  const parts = new Map<string, string>();
  for (const part of body.split(';')) {
    const match = /^([A-Z]+)=([A-Z0-9,+-]+)$/.exec(part);
    if (!match) return fail(`malformed RRULE part "${part}"`);
    const [, name = '', value = ''] = match;
    if (TIME_OF_DAY_PARTS.includes(name)) {
      return fail(`${name} is not supported: the time of day comes from the due date`);
    }
    if (!KNOWN_PARTS.includes(name)) return fail(`unknown RRULE part ${name}`);
    if (parts.has(name)) return fail(`${name} is given more than once`);
    parts.set(name, value);
  }

  const freq = parts.get('FREQ');
  if (freq === undefined) return fail('FREQ is required');
  if (SUB_DAILY_FREQUENCIES.includes(freq)) return fail(`${freq} recurrence is not supported`);
  if (!SUPPORTED_FREQUENCIES.includes(freq)) return fail(`unknown FREQ ${freq}`);

  for (const name of ['COUNT', 'INTERVAL']) {
    const value = parts.get(name);
    if (value !== undefined && !isIntegerIn(value, 1, MAX_COUNT_OR_INTERVAL)) {
      return fail(`${name} must be a whole number from 1 to ${MAX_COUNT_OR_INTERVAL}`);
    }
  }
  if (parts.has('COUNT') && parts.has('UNTIL')) return fail('COUNT and UNTIL cannot both be set');

  for (const [name, [min, max]] of Object.entries(NUMBER_LIST_PARTS)) {
    const value = parts.get(name);
    if (value !== undefined && !value.split(',').every((item) => isIntegerIn(item, min, max) && Number(item) !== 0)) {
      return fail(`${name} values must be whole numbers from ${min} to ${max}, not 0`);
    }
  }
  // Combinations RFC 5545 rules out or that can never match; rrule would accept them and then
  // search to the year 9999 for an occurrence.
  if (freq !== 'YEARLY' && (parts.has('BYYEARDAY') || parts.has('BYWEEKNO'))) {
    return fail('BYYEARDAY and BYWEEKNO need FREQ=YEARLY');
  }
  if (freq === 'WEEKLY' && parts.has('BYMONTHDAY')) return fail('BYMONTHDAY cannot be used with FREQ=WEEKLY');
  if (freq === 'DAILY' && parts.has('BYSETPOS')) return fail('BYSETPOS cannot be used with FREQ=DAILY');
  const byMonth = parts.get('BYMONTH')?.split(',').map(Number);
  const byMonthDay = parts.get('BYMONTHDAY')?.split(',').map(Number);
  const dayExists = (month: number, day: number) => Math.abs(day) <= (DAYS_IN_MONTH[month - 1] ?? 0);
  if (byMonth && byMonthDay && !byMonth.some((month) => byMonthDay.some((day) => dayExists(month, day)))) {
    return fail('BYMONTHDAY never falls in the months of BYMONTH');
  }
  // "2MO" means the second Monday of the month or year; a week has only one Monday.
  const maxOrdinal = freq === 'MONTHLY' || (freq === 'YEARLY' && byMonth) ? 5 : freq === 'YEARLY' ? 53 : 0;
  const byDay = parts.get('BYDAY');
  if (byDay !== undefined && !byDay.split(',').every((item) => isWeekday(item, maxOrdinal))) {
    return fail(
      maxOrdinal === 0
        ? `BYDAY must list weekdays such as MO,WE without ordinals for FREQ=${freq}`
        : `BYDAY must list weekdays such as MO,WE or 1MO,-1FR with ordinals from -${maxOrdinal} to ${maxOrdinal}`,
    );
  }
  const weekStart = parts.get('WKST');
  if (weekStart !== undefined && !WEEKDAYS.includes(weekStart)) return fail('WKST must be a weekday such as MO');

  const untilValue = parts.get('UNTIL');
  const until = untilValue === undefined ? null : parseUntil(untilValue);
  if (until === undefined) {
    return fail('UNTIL must be a UTC date-time such as 20261231T235959Z or a date such as 20261231');
  }

  let options: Partial<Options>;
  try {
    options = RRule.parseString(body);
    new RRule(options, true);
  } catch (error) {
    return fail(`rrule cannot read the rule: ${error instanceof Error ? error.message : String(error)}`);
  }
  // rrule prints every UNTIL as a UTC date-time, which would turn a local date into a UTC midnight.
  const printed = RRule.optionsToString(options).replace(/^RRULE:/, '');
  const rule = untilValue === undefined ? printed : printed.replace(/UNTIL=[^;]*/, `UNTIL=${untilValue}`);
  const { until: _until, ...withoutUntil } = options;
  return { ok: true, rule, freq, interval: Number(parts.get('INTERVAL') ?? 1), until, options: withoutUntil };
}

function isIntegerIn(value: string, min: number, max: number): boolean {
  return /^[+-]?\d{1,4}$/.test(value) && Number(value) >= min && Number(value) <= max;
}

function isWeekday(value: string, maxOrdinal: number): boolean {
  const match = /^([+-]?\d{1,2})?([A-Z]{2})$/.exec(value);
  if (!match || !WEEKDAYS.includes(match[2] ?? '')) return false;
  return match[1] === undefined || (isIntegerIn(match[1], -maxOrdinal, maxOrdinal) && Number(match[1]) !== 0);
}

// undefined, not null, so the caller can tell a malformed UNTIL from a missing one.
function parseUntil(value: string): Until | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as [
    number, number, number, number, number, number,
  ];
  const at = Date.UTC(year, month - 1, day, hour, minute, second);
  const roundTrips = new Date(at).getUTCMonth() === month - 1 && new Date(at).getUTCDate() === day;
  if (!roundTrips || hour > 23 || minute > 59 || second > 59) return undefined;
  // A bare date is how a person says "until the end of that day" in their own calendar.
  return match[4] === undefined ? { kind: 'localDate', lastWallClockMs: at + DAY_MS - 1 } : { kind: 'instant', at };
}

/** Validates an RRULE for storage and returns it in rrule's canonical spelling. */
export function parseRecurrence(rule: string): ParseRecurrenceResult {
  const parsed = parseRule(rule);
  return parsed.ok ? { ok: true, rule: parsed.rule } : parsed;
}

// Zones found valid: constructing an Intl.DateTimeFormat to ask is expensive, and completing a
// recurring task asks every time. Only valid names are kept, so the set is bounded by the zone database.
const validTimeZones = new Set<string>();

export function isValidTimeZone(zone: string): boolean {
  if (validTimeZones.has(zone)) return true;
  // Newer ICU versions accept "+02:00"; an offset has no DST rules, so it is not a user's zone.
  if (zone === '' || /^[+-]/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    return false;
  }
  validTimeZones.add(zone);
  return true;
}

/**
 * The first occurrence strictly after `after`, or null when COUNT/UNTIL has ended the series.
 * Occurrences keep the wall-clock time of `seriesStart` in `timeZone` across DST changes.
 */
export function nextOccurrence(args: { rule: string; timeZone: string; seriesStart: Date; after: Date }): Date | null {
  const { timeZone, seriesStart, after } = args;
  const parsed = parseRule(args.rule);
  if (!parsed.ok) throw new RangeError(`invalid recurrence rule: ${parsed.reason}`);
  if (!isValidTimeZone(timeZone)) throw new RangeError(`invalid time zone: ${timeZone}`);
  if (Number.isNaN(seriesStart.getTime()) || Number.isNaN(after.getTime())) throw new RangeError('invalid date');

  // rrule has no real time-zone support; it is exact on "floating" dates whose UTC fields
  // hold the local wall-clock time, so the whole search runs in that frame.
  const start = toWallClock(seriesStart.getTime(), timeZone);
  const afterWallClock = toWallClock(after.getTime(), timeZone);

  // rrule gives up only at the year 9999, so a rule that never matches again
  // (DAILY;INTERVAL=7;BYDAY=TU from a Monday) would scan for seconds. The Gregorian calendar
  // repeats exactly every 400 years, so the search runs in a frame moved by whole cycles to just
  // before 9999: same occurrences, but rrule stops within a few centuries of the window we care about.
  const searchDays = Math.max(9 * 366, 8 * parsed.interval * (FREQUENCY_DAYS[parsed.freq] ?? 366));
  const searchEnd = Math.max(start, afterWallClock) + searchDays * DAY_MS;
  const shift = Math.max(0, Math.floor((RRULE_END - searchEnd) / GREGORIAN_CYCLE_MS)) * GREGORIAN_CYCLE_MS;
  const localUntil = parsed.until?.kind === 'localDate' ? new Date(parsed.until.lastWallClockMs + shift) : null;
  const rrule = new RRule({ ...parsed.options, dtstart: new Date(start + shift), until: localUntil }, true);

  // Start a little early: an occurrence whose wall-clock time falls in a spring-forward gap
  // lands up to a day later than its wall-clock time suggests (Pacific/Apia skipped a whole day).
  let cursor = new Date(afterWallClock + shift - 2 * DAY_MS);
  for (;;) {
    const occurrence = rrule.after(cursor, false);
    if (occurrence === null) return null;
    const wallClock = occurrence.getTime() - shift;
    // DTSTART maps back to seriesStart exactly, even if that was the second of two equal wall-clock times.
    const instant = wallClock === start ? seriesStart.getTime() : wallClockToInstant(wallClock, timeZone);
    if (instant > after.getTime()) {
      return parsed.until?.kind === 'instant' && instant > parsed.until.at ? null : new Date(instant);
    }
    cursor = occurrence;
  }
}

/** The next occurrence's reminder keeps the same lead time before its due date. */
export function shiftReminder(args: { remindAt: Date | null; dueAt: Date; nextDueAt: Date }): Date | null {
  if (args.remindAt === null) return null;
  return new Date(args.nextDueAt.getTime() + (args.remindAt.getTime() - args.dueAt.getTime()));
}

/**
 * The rule for the occurrence after this one. Each occurrence carries the rest of its series, so
 * COUNT goes down by one per occurrence and the series can always be continued from the latest task
 * (the first one may have been deleted).
 */
export function remainingRule(rule: string): string {
  return rule.replace(/(^|;)COUNT=(\d+)/i, (_match, separator: string, count: string) => `${separator}COUNT=${Math.max(1, Number(count) - 1)}`);
}
