/*
 * Quick add: one line of English as people type it, read in the viewer's zone, Todoist-style:
 *   "Water plants every monday 9am #Home @garden p2"
 * Dates and times come from chrono-node, repeats from a small phrase reader below (rrule only reads
 * a whole sentence, and we must find the phrase inside a title), #List, @tag and priority from one
 * pattern. Whatever is not understood stays in the title; the parser never throws.
 *
 * Choices:
 *  - A bare weekday ("fri", "sunday 2:30am") is the next such day, today included (unless its time has
 *    passed); "next fri" is chrono's reading: the Friday of next week. A date without a year
 *    ("March 3", "on 3/5") is the next one; a time without a day ("5pm") is today, or tomorrow once past.
 *  - "tonight", "tomorrow morning", "friday night": the day only (all-day). chrono guesses an hour for
 *    these, but the user named no clock time, and a guessed one would fire reminders unasked.
 *  - A repeat's first due date is its first occurrence on or after today (or the date given with
 *    "starting ..."), and strictly after now when a time is given. INTERVAL counts from that first
 *    occurrence: "every other monday" on a Wednesday is due next Monday, then every two weeks.
 *  - "every month on the 31st" (29th, 30th) falls on the last day of shorter months
 *    (BYMONTHDAY=28,...,31;BYSETPOS=-1), as people paying rent expect; a list ("on the 1st and 31st")
 *    keeps RFC 5545's reading, which skips months without that day, and so does "every feb 29".
 *  - "in 3 hours" and "5pm PST" are exact instants (chrono knows the offset); everything else is a
 *    wall-clock time in the viewer's zone, so DST edges follow wallClockToInstant (a skipped 02:30
 *    becomes 03:30; a repeated 01:30 is the earlier one).
 *
 * Deliberately NOT understood (the words stay in the title):
 *  - a bare hour without am/pm or minutes: "at 5", "Pick up kids at 3", "Meet at 5 guys";
 *  - words that are as often plain words: "sun", "sat", "weekend", "weekday" alone ("Buy sun cream",
 *    "Weekend chores") and slash dates without a year ("Buy 1/2 lb butter"), unless after "on", "by"
 *    or "due" ("on sat", "due 3/5"; "this weekend" is read);
 *  - a date phrase in Title Case running into another capitalised word ("Watch Friday Night Lights");
 *  - a month or a year without a day ("Call May", "Read 1984", "June 2027", "mid-march"); "this evening",
 *    "morning", "eod"; "the 15th" outside a repeat; holidays ("christmas");
 *  - a date after "until", "till", "from", "since", "after", "before", "except", "between"
 *    ("Pay tax before April 30"); durations ("for 3 weeks");
 *  - repeat ends and exceptions: "every day until friday", "every week for 3 weeks", "10 times",
 *    "every other tuesday at 9 except holidays", "every weekday except fridays";
 *  - sub-daily and time-of-day repeats: "every hour", "every 30 minutes", "every morning", "every night";
 *  - "daily", "weekly", ... before a noun ("Prepare monthly report"), "everyday" (one word, an
 *    adjective), "biweekly" (twice a week, or every two weeks?),
 *    ranges ("every mon-fri"), "every 2nd to last friday", ordinal weekdays of a given month
 *    ("every 4th thursday of november");
 *  - a second date phrase, a second repeat, a second #list, and a #name or @name without a letter
 *    ("issue #123"). Time ranges are cut to their start: "friday 5-6pm" is due at 5pm.
 */
import { casual, type ParsedResult, type ParsingResult } from 'chrono-node/en';
// rrule ships a UMD bundle without an "exports" map; see src/tasks/recurrence.ts.
import rrulePackage from 'rrule';
import { parseRecurrence } from '../tasks/recurrence.js';
import { toWallClock, wallClockToInstant } from '../time/wall-clock.js';

const { RRule } = rrulePackage;

export type QuickAddPriority = 'URGENT' | 'HIGH' | 'MEDIUM' | 'LOW';

export interface QuickAddReading {
  /** What is left, whitespace collapsed, trimmed; if nothing is left, the original text trimmed. */
  title: string;
  /** When a time of day was given: the instant, read in the viewer's zone. */
  dueAt: Date | null;
  /** When only a day was given: 'YYYY-MM-DD' (all-day). Never set together with dueAt. */
  dueDate: string | null;
  /** RRULE body without 'RRULE:', as parseRecurrence() spells it, e.g. 'FREQ=WEEKLY;BYDAY=MO'. */
  recurrence: string | null;
  /** From '#Home': 'Home' (the caller matches lists ignoring case). */
  listName: string | null;
  /** From '@garden': 'garden', in order, without case-insensitive duplicates. */
  tagNames: string[];
  priority: QuickAddPriority | null;
}

export function parseQuickAdd(text: string, options: { timeZone: string; now: Date }): QuickAddReading {
  try {
    const now = options.now.getTime();
    if (typeof text !== 'string' || Number.isNaN(now)) return nothingUnderstood(text);
    return readLine(text, options.timeZone, now);
  } catch {
    // A bad zone name, or a bug in a reader: the user still gets their task, named as they typed it.
    return nothingUnderstood(text);
  }
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
// chrono reads "in 99999 years" and two-digit years; such a day is a misreading, not a due date.
const FIRST_DAY = Date.UTC(1000, 0, 1);
const LAST_DAY = Date.UTC(9999, 11, 31);

interface Span {
  start: number;
  end: number;
}

type Due = { at: number; date: null } | { at: null; date: string };

function nothingUnderstood(text: unknown): QuickAddReading {
  const title = typeof text === 'string' ? text.trim() : '';
  return { title, dueAt: null, dueDate: null, recurrence: null, listName: null, tagNames: [], priority: null };
}

function readLine(text: string, timeZone: string, now: number): QuickAddReading {
  const marks = readMarks(text);
  // Readers after the marks see them as spaces, so "tomorrow #Home 5pm" is still one date phrase
  // and offsets stay those of the original text.
  const withoutMarks = blankOut(text, marks.spans);
  const repeat = findRepeat(withoutMarks);
  const withoutRepeat = repeat ? blankOut(withoutMarks, [repeat.span]) : withoutMarks;
  const today = Math.floor(toWallClock(now, timeZone) / DAY_MS) * DAY_MS;
  const phrase = findDatePhrase(withoutRepeat, { timeZone, now, today });

  const repeatDue = repeat ? firstDueOfRepeat(repeat.rule, phrase, { timeZone, now, today }) : null;
  const due = repeatDue ?? (phrase ? dueOfPhrase(phrase, timeZone) : null);
  const understood = [...marks.spans];
  if (phrase) understood.push(phrase.span);
  if (repeat && repeatDue) understood.push(repeat.span);

  return {
    title: titleWithout(text, understood),
    dueAt: due && due.at !== null ? new Date(due.at) : null,
    dueDate: due?.date ?? null,
    recurrence: repeat && repeatDue ? repeat.rule : null,
    listName: marks.listName,
    tagNames: marks.tagNames,
    priority: marks.priority,
  };
}

// ---------------------------------------------------------------------------------------------
// #List, @tag, p1..p4 and !high

const PRIORITIES: Record<string, QuickAddPriority> = {
  '1': 'URGENT',
  '2': 'HIGH',
  '3': 'MEDIUM',
  '4': 'LOW',
  urgent: 'URGENT',
  high: 'HIGH',
  medium: 'MEDIUM',
  low: 'LOW',
};

// At a word start only, so e-mail addresses (bob@example.com), "foo#bar" and "ap1" are text.
const MARK = /(?<!\S)(?:([#@])([\p{L}\p{M}\p{N}_-]+)|p([1-4])|!(urgent|high|medium|low|[1-4]))(?![\p{L}\p{M}\p{N}_-])/giu;
// "issue #123" and "@10" are text people write, not lists and tags.
const HAS_LETTER = /\p{L}/u;

interface Marks {
  spans: Span[];
  listName: string | null;
  tagNames: string[];
  priority: QuickAddPriority | null;
}

function readMarks(text: string): Marks {
  const marks: Marks = { spans: [], listName: null, tagNames: [], priority: null };
  const seenTags = new Set<string>();
  for (const match of text.matchAll(MARK)) {
    const [whole, sigil, name, pLevel, bangLevel] = match;
    const span = { start: match.index, end: match.index + whole.length };
    const level = pLevel ?? bangLevel;
    if (level !== undefined) {
      // The last one wins, as when someone corrects themselves at the end of the line.
      marks.priority = PRIORITIES[level.toLowerCase()] ?? marks.priority;
      marks.spans.push(span);
    } else if (name !== undefined && HAS_LETTER.test(name)) {
      if (sigil === '#') {
        if (marks.listName !== null) continue;
        marks.listName = name;
      } else if (!seenTags.has(name.toLowerCase())) {
        seenTags.add(name.toLowerCase());
        marks.tagNames.push(name);
      }
      marks.spans.push(span);
    }
  }
  return marks;
}

// ---------------------------------------------------------------------------------------------
// Repeats: "every monday and thursday", "every 2 weeks", "every month on the 15th", "yearly" ...

type Frequency = 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';

interface RuleParts {
  freq: Frequency;
  interval?: number;
  byDay?: string[];
  byMonthDay?: number[];
  byMonth?: number;
  bySetPos?: number;
}

interface Token {
  word: string;
  start: number;
  end: number;
}

/** Where a reader stopped: the rule so far and the index of the first token it did not use. */
interface Read<T> {
  value: T;
  next: number;
}

const WEEKDAY_CODES = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const WEEKDAYS: Record<string, string> = {};
for (const [code, names] of Object.entries({
  MO: ['monday', 'mon'],
  TU: ['tuesday', 'tue', 'tues'],
  WE: ['wednesday', 'wed', 'weds'],
  TH: ['thursday', 'thu', 'thur', 'thurs'],
  FR: ['friday', 'fri'],
  SA: ['saturday', 'sat'],
  SU: ['sunday', 'sun'],
})) {
  for (const name of names) WEEKDAYS[name] = code;
  WEEKDAYS[`${names[0]}s`] = code;
}

const MONTH_NAMES = [
  ['january', 'jan'], ['february', 'feb'], ['march', 'mar'], ['april', 'apr'], ['may'], ['june', 'jun'],
  ['july', 'jul'], ['august', 'aug'], ['september', 'sep', 'sept'], ['october', 'oct'], ['november', 'nov'], ['december', 'dec'],
];
const MONTHS: Record<string, number> = {};
MONTH_NAMES.forEach((names, index) => names.forEach((name) => (MONTHS[name] = index + 1)));

const UNITS: Record<string, Frequency> = {
  day: 'DAILY', days: 'DAILY', week: 'WEEKLY', weeks: 'WEEKLY',
  month: 'MONTHLY', months: 'MONTHLY', year: 'YEARLY', years: 'YEARLY',
};
const STANDALONE: Record<string, { freq: Frequency; interval: number }> = {
  daily: { freq: 'DAILY', interval: 1 },
  weekly: { freq: 'WEEKLY', interval: 1 },
  fortnightly: { freq: 'WEEKLY', interval: 2 },
  monthly: { freq: 'MONTHLY', interval: 1 },
  yearly: { freq: 'YEARLY', interval: 1 },
  annually: { freq: 'YEARLY', interval: 1 },
};
// Words that may follow "daily" when it says when ("daily at 8am", "weekly on monday").
const ADVERB_FOLLOWERS = new Set(['on', 'at', 'by', 'from', 'starting', 'until', 'and', 'noon', 'midnight', 'today', 'tomorrow']);
const COUNT_WORDS: Record<string, number> = {
  other: 2, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
};
const POSITIONS: Record<string, number> = {
  first: 1, '1st': 1, second: 2, '2nd': 2, third: 3, '3rd': 3, fourth: 4, '4th': 4, fifth: 5, '5th': 5, last: -1,
};
const LIST_SEPARATORS = [',', 'and', '&'];

// Words and single punctuation marks: a phrase never runs across a full stop or a bracket.
const TOKEN = /[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu;

function tokenize(text: string): Token[] {
  return [...text.matchAll(TOKEN)].map((match) => ({
    word: match[0].toLowerCase(),
    start: match.index,
    end: match.index + match[0].length,
  }));
}

function findRepeat(text: string): { rule: string; span: Span } | null {
  const tokens = tokenize(text);
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i]?.word ?? '';
    const read = word === 'every' ? readEvery(tokens, i + 1) : word in STANDALONE ? readStandalone(tokens, i) : null;
    if (read === null) continue;
    // Also catches what the grammar lets through but no calendar has ("every feb 30", "every 5000 days").
    const checked = parseRecurrence(ruleText(read.value));
    if (!checked.ok) continue;
    return { rule: checked.rule, span: { start: tokens[i]!.start, end: tokens[read.next - 1]!.end } };
  }
  return null;
}

function readStandalone(tokens: Token[], at: number): Read<RuleParts> | null {
  const { freq, interval } = STANDALONE[tokens[at]!.word]!;
  const following = tokens[at + 1]?.word;
  // "Prepare monthly report": before a noun the word describes the task; after it, it says when.
  const saysWhen = following === undefined || !/^\p{L}/u.test(following) || ADVERB_FOLLOWERS.has(following);
  return saysWhen ? readUnitDetails({ freq, interval }, tokens, at + 1) : null;
}

/** What follows "every". */
function readEvery(tokens: Token[], at: number): Read<RuleParts> | null {
  const monthDay = readMonthDay(tokens, at);
  if (monthDay) return { value: { freq: 'YEARLY', ...monthDay.value }, next: monthDay.next };
  // "every 2 weeks", "every other day", "every third month"
  const count = readCount(tokens, at) ?? readOrdinalCount(tokens, at);
  const unit = UNITS[tokens[count?.next ?? at]?.word ?? ''];
  if (unit) return readUnitDetails({ freq: unit, interval: count?.value ?? 1 }, tokens, (count?.next ?? at) + 1);
  const position = readPositionWeekday(tokens, at);
  if (position) return { value: { freq: 'MONTHLY', byDay: [position.value] }, next: position.next };
  const lastDay = readLastDay(tokens, at);
  if (lastDay) return { value: { freq: 'MONTHLY', byMonthDay: [-1] }, next: lastDay.next };
  const days = readDaysOfMonth(tokens, at, false);
  if (days) return { value: monthlyOn(days.value), next: days.next };

  // "every weekday", "every other weekend", "every 2 mondays"
  const plainCount = readCount(tokens, at);
  const interval = plainCount?.value ?? 1;
  const next = plainCount?.next ?? at;
  const word = tokens[next]?.word ?? '';
  if (plainCount === null && ['weekday', 'weekdays', 'workday', 'workdays'].includes(word)) {
    return { value: { freq: 'WEEKLY', byDay: WEEKDAY_CODES.slice(0, 5) }, next: next + 1 };
  }
  if (word === 'weekend' || word === 'weekends') return { value: { freq: 'WEEKLY', interval, byDay: ['SA', 'SU'] }, next: next + 1 };
  const weekdays = readWeekdays(tokens, next);
  return weekdays ? { value: { freq: 'WEEKLY', interval, byDay: weekdays.value }, next: weekdays.next } : null;
}

/** "every week" may go on with "on monday", "every month" with "on the 15th", "every year" with "on jan 5". */
function readUnitDetails(rule: RuleParts, tokens: Token[], at: number): Read<RuleParts> {
  const plain = { value: rule, next: at };
  if (tokens[at]?.word !== 'on') return plain;
  const afterOn = tokens[at + 1]?.word === 'the' ? at + 2 : at + 1;
  if (rule.freq === 'WEEKLY') {
    const weekdays = readWeekdays(tokens, at + 1);
    return weekdays ? { value: { ...rule, byDay: weekdays.value }, next: weekdays.next } : plain;
  }
  if (rule.freq === 'MONTHLY') {
    const lastDay = readLastDay(tokens, afterOn);
    if (lastDay) return { value: { ...rule, byMonthDay: [-1] }, next: lastDay.next };
    const position = readPositionWeekday(tokens, afterOn);
    if (position) return { value: { ...rule, byDay: [position.value] }, next: position.next };
    const days = readDaysOfMonth(tokens, afterOn, afterOn === at + 2);
    return days ? { value: { ...monthlyOn(days.value), interval: rule.interval }, next: days.next } : plain;
  }
  if (rule.freq === 'YEARLY') {
    const monthDay = readMonthDay(tokens, afterOn);
    return monthDay ? { value: { ...rule, ...monthDay.value }, next: monthDay.next } : plain;
  }
  return plain;
}

function monthlyOn(days: number[]): RuleParts {
  const [day] = days;
  // The 29th to 31st fall on the last day of shorter months: the last of the days that exist from the 28th on.
  if (days.length === 1 && day !== undefined && day > 28) {
    const candidates = Array.from({ length: day - 27 }, (_, index) => 28 + index);
    return { freq: 'MONTHLY', byMonthDay: candidates, bySetPos: -1 };
  }
  return { freq: 'MONTHLY', byMonthDay: days };
}

/** "2", "two", "other" before a unit or a weekday. */
function readCount(tokens: Token[], at: number): Read<number> | null {
  const word = tokens[at]?.word ?? '';
  const value = /^\d{1,4}$/.test(word) ? Number(word) : COUNT_WORDS[word];
  return value === undefined || value < 1 ? null : { value, next: at + 1 };
}

/** "second", "3rd": only before a unit ("every second week"), elsewhere they are days or positions. */
function readOrdinalCount(tokens: Token[], at: number): Read<number> | null {
  const word = tokens[at]?.word ?? '';
  const value = /^\d{1,3}(?:st|nd|rd|th)$/.test(word) ? Number.parseInt(word, 10) : POSITIONS[word];
  return value === undefined || value < 1 ? null : { value, next: at + 1 };
}

/** "monday", "mon, wed and fri", "mondays & thursdays". */
function readWeekdays(tokens: Token[], at: number): Read<string[]> | null {
  const first = WEEKDAYS[tokens[at]?.word ?? ''];
  if (first === undefined) return null;
  const days = new Set([first]);
  let next = at + 1;
  for (;;) {
    let after = next;
    if (tokens[after]?.word === ',') after++;
    if (tokens[after]?.word === 'and' || tokens[after]?.word === '&') after++;
    const day = after > next ? WEEKDAYS[tokens[after]?.word ?? ''] : undefined;
    if (day === undefined) break;
    days.add(day);
    next = after + 1;
  }
  return { value: WEEKDAY_CODES.filter((code) => days.has(code)), next };
}

/** "first monday", "last fri" -> "1MO", "-1FR". */
function readPositionWeekday(tokens: Token[], at: number): Read<string> | null {
  const position = POSITIONS[tokens[at]?.word ?? ''];
  const weekday = WEEKDAYS[tokens[at + 1]?.word ?? ''];
  return position === undefined || weekday === undefined ? null : { value: `${position}${weekday}`, next: at + 2 };
}

/** "last day", optionally "of the month". */
function readLastDay(tokens: Token[], at: number): Read<true> | null {
  if (tokens[at]?.word !== 'last' || tokens[at + 1]?.word !== 'day') return null;
  return { value: true, next: skipOfTheMonth(tokens, at + 2) };
}

/** "15th", "1st and 15th", and after "the" also "15"; optionally "of the month". */
function readDaysOfMonth(tokens: Token[], at: number, plainNumbers: boolean): Read<number[]> | null {
  const days: number[] = [];
  let next = at;
  for (;;) {
    const day = dayOfMonth(tokens[next]?.word ?? '', plainNumbers);
    if (day === null) break;
    days.push(day);
    next++;
    const separator = tokens[next]?.word ?? '';
    if (!LIST_SEPARATORS.includes(separator) || dayOfMonth(tokens[next + 1]?.word ?? '', plainNumbers) === null) break;
    next++;
  }
  return days.length === 0 ? null : { value: [...new Set(days)], next: skipOfTheMonth(tokens, next) };
}

function skipOfTheMonth(tokens: Token[], at: number): number {
  const words = tokens.slice(at, at + 3).map((token) => token.word);
  return words[0] === 'of' && ['the', 'every', 'each'].includes(words[1] ?? '') && words[2] === 'month' ? at + 3 : at;
}

function dayOfMonth(word: string, plainNumbers: boolean): number | null {
  const match = (plainNumbers ? /^(\d{1,2})(?:st|nd|rd|th)?$/ : /^(\d{1,2})(?:st|nd|rd|th)$/).exec(word);
  const day = Number(match?.[1]);
  return match && day >= 1 && day <= 31 ? day : null;
}

/** "jan 5", "january 5th", "5 jan", "5th of january". */
function readMonthDay(tokens: Token[], at: number): Read<{ byMonth: number; byMonthDay: number[] }> | null {
  const first = tokens[at]?.word ?? '';
  const monthFirst = MONTHS[first];
  if (monthFirst !== undefined) {
    const day = dayOfMonth(tokens[at + 1]?.word ?? '', true);
    return day === null ? null : { value: { byMonth: monthFirst, byMonthDay: [day] }, next: at + 2 };
  }
  const day = dayOfMonth(first, true);
  if (day === null) return null;
  const monthAt = tokens[at + 1]?.word === 'of' ? at + 2 : at + 1;
  const month = MONTHS[tokens[monthAt]?.word ?? ''];
  return month === undefined ? null : { value: { byMonth: month, byMonthDay: [day] }, next: monthAt + 1 };
}

function ruleText(rule: RuleParts): string {
  const parts = [`FREQ=${rule.freq}`];
  if (rule.interval !== undefined && rule.interval !== 1) parts.push(`INTERVAL=${rule.interval}`);
  if (rule.byMonth !== undefined) parts.push(`BYMONTH=${rule.byMonth}`);
  if (rule.byMonthDay !== undefined) parts.push(`BYMONTHDAY=${rule.byMonthDay.join(',')}`);
  if (rule.byDay !== undefined) parts.push(`BYDAY=${rule.byDay.join(',')}`);
  if (rule.bySetPos !== undefined) parts.push(`BYSETPOS=${rule.bySetPos}`);
  return parts.join(';');
}

interface Clock {
  timeZone: string;
  now: number;
  /** The viewer's local date, as a wall clock at midnight. */
  today: number;
}

/**
 * The first occurrence on or after the day the text names (today by default), and after now when it
 * has a time. rrule runs on wall clocks encoded as UTC (it has no time zones), as in recurrence.ts.
 */
function firstDueOfRepeat(rule: string, phrase: DatePhrase | null, clock: Clock): Due | null {
  const fromDay = phrase && !phrase.timeOnly ? Math.max(phrase.day, clock.today) : clock.today;
  const minutes = phrase?.minutes ?? null;
  const dtstart = new Date(fromDay + (minutes ?? 0) * MINUTE_MS);
  // Without INTERVAL: the series starts at the first matching day, not at today's week or month.
  const series = new RRule({ ...RRule.parseString(rule), interval: 1, dtstart }, true);
  let occurrence = series.after(dtstart, true);
  // Only today's occurrence can have passed, so the second try is always in the future.
  for (let tries = 0; occurrence !== null && tries < 2; tries++) {
    if (minutes === null) return { at: null, date: dayText(occurrence.getTime()) };
    const instant = wallClockToInstant(occurrence.getTime(), clock.timeZone);
    if (instant > clock.now) return { at: instant, date: null };
    occurrence = series.after(occurrence, false);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Dates and times, through chrono-node

interface DatePhrase {
  span: Span;
  /** The local day, as a wall clock at midnight. */
  day: number;
  /** The local time of day in minutes, when the text gives one. */
  minutes: number | null;
  /** The instant, when the text fixes it regardless of the zone ("in 3 hours", "5pm PST"). */
  exact: number | null;
  /** Only a time of day ("5pm"): a repeat then still starts today. */
  timeOnly: boolean;
}

// Words that join a date to the title: "Call bob on friday" leaves "Call bob".
const CONNECTORS = new Set(['on', 'at', 'by', 'due', 'starting']);
// A date after these is not the due date ("until friday", "before May 5"); it stays in the title.
const BLOCKERS = new Set(['until', 'till', 'til', 'from', 'since', 'after', 'before', 'except', 'between']);
// Words chrono reads as a day that are as often plain words: "sun cream", "sat nav", "weekend chores".
const AMBIGUOUS_DAYS = new Set(['sun', 'sat', 'sun.', 'sat.', 'weekend', 'weekday']);

const chronoReader = casual.clone();
// Before chrono merges "tomorrow" with "at 5": an hour without am/pm or minutes is as often a count
// ("Meet at 5 guys", "table at 3") as a time, and a wrong due time is worse than a longer title.
chronoReader.refiners.unshift({
  refine: (_context, results) => results.filter((result) => !isBareHour(result)),
});

function isBareHour(result: ParsingResult): boolean {
  const { start, text } = result;
  return start.isOnlyTime() && start.isCertain('hour') && !start.isCertain('meridiem') && /\d/.test(text) && !text.includes(':');
}

function findDatePhrase(text: string, clock: Clock): DatePhrase | null {
  const offsetMinutes = Math.round((toWallClock(clock.now, clock.timeZone) - clock.now) / MINUTE_MS);
  // No forwardDate: chrono compares its shifted reference with true instants there, which is off by
  // the zone's offset, so rolling "March 3" or "fri" forward is done in settle() instead.
  const results = chronoReader.parse(text, { instant: new Date(clock.now), timezone: offsetMinutes });
  for (const result of results) {
    if (isDoubtful(result, text)) continue;
    const phrase = settle(result, clock);
    if (phrase) return { ...phrase, span: spanWithConnectors(text, result) };
  }
  return null;
}

function isDoubtful(result: ParsedResult, text: string): boolean {
  const { start } = result;
  const phraseText = result.text.trim().toLowerCase();
  const namesADay =
    start.isCertain('day') || start.isCertain('weekday') || start.isCertain('hour') || result.tags().has('result/relativeDate');
  const connected = phraseText.startsWith('on ') || CONNECTORS.has(wordBefore(text, result.index)?.word ?? '');
  return (
    !namesADay ||
    /^\d+$/.test(phraseText) ||
    // chrono reads "for 3 weeks" as "in 3 weeks"; it is how long, not when.
    phraseText.startsWith('for ') ||
    BLOCKERS.has(wordBefore(text, result.index)?.word ?? '') ||
    (AMBIGUOUS_DAYS.has(phraseText) && !connected) ||
    (/^\d{1,2}\/\d{1,2}$/.test(phraseText) && !start.isCertain('year') && !connected) ||
    isInTitleCaseName(result, text)
  );
}

/** "Watch Friday Night Lights": a capitalised phrase running into another capitalised word is a name. */
function isInTitleCaseName(result: ParsedResult, text: string): boolean {
  const words = result.text.replace(/^[\s,(]+/, '').split(/\s+/);
  if (/\d/.test(result.text) || !words.every((word) => /^\p{Lu}/u.test(word))) return false;
  const following = text.slice(result.index + result.text.length, result.index + result.text.length + 40);
  return /^\s+\p{Lu}/u.test(following);
}

/** Where the phrase falls for this viewer: a bare weekday, a date without a year or a time alone rolls forward. */
function settle(result: ParsedResult, clock: Clock): Omit<DatePhrase, 'span'> | null {
  const { start } = result;
  const timeOnly = !(['weekday', 'day', 'month', 'year'] as const).some((part) => start.isCertain(part));
  const minutes = start.isCertain('hour') ? (start.get('hour') ?? 0) * 60 + (start.get('minute') ?? 0) : null;

  if (minutes !== null && start.isCertain('timezoneOffset')) {
    let exact = start.date().getTime();
    // chrono put "5pm PST" on the viewer's day; the next 5pm in PST may be on the day before.
    while (timeOnly && exact - DAY_MS > clock.now) exact -= DAY_MS;
    while (timeOnly && exact <= clock.now) exact += DAY_MS;
    const wallClock = toWallClock(exact, clock.timeZone);
    const day = Math.floor(wallClock / DAY_MS) * DAY_MS;
    return { day, minutes: Math.round((wallClock - day) / MINUTE_MS), exact, timeOnly };
  }

  const isPast = (day: number) => (minutes === null ? day < clock.today : instantAt(day, minutes, clock.timeZone) <= clock.now);
  let day: number | null;
  if (timeOnly) {
    day = isPast(clock.today) ? clock.today + DAY_MS : clock.today;
  } else if (start.isCertain('weekday') && !start.isCertain('day') && !/\b(?:next|this|last|past)\b/i.test(result.text)) {
    day = nextWeekday(start.get('weekday') ?? 0, clock.today, isPast);
  } else if (start.isCertain('month') && !start.isCertain('year')) {
    day = nextYearlyDay(start.get('month') ?? 1, start.get('day') ?? 1, clock.today, isPast);
  } else {
    day = calendarDay(start.get('year') ?? 0, start.get('month') ?? 1, start.get('day') ?? 1);
  }
  return day === null ? null : { day, minutes, exact: null, timeOnly };
}

/** `weekday` as chrono numbers it (0 = Sunday). */
function nextWeekday(weekday: number, today: number, isPast: (day: number) => boolean): number {
  const daysAhead = (weekday - new Date(today).getUTCDay() + 7) % 7;
  const day = today + daysAhead * DAY_MS;
  return isPast(day) ? day + 7 * DAY_MS : day;
}

function nextYearlyDay(month: number, dayOfMonth: number, today: number, isPast: (day: number) => boolean): number | null {
  const thisYear = new Date(today).getUTCFullYear();
  // Up to 8 years, so that Feb 29 finds a leap year.
  for (let year = thisYear; year <= thisYear + 8; year++) {
    const day = calendarDay(year, month, dayOfMonth);
    if (day !== null && !isPast(day)) return day;
  }
  return null;
}

/** The wall clock at midnight of that day, or null when the day does not exist or is out of range. */
function calendarDay(year: number, month: number, day: number): number | null {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const exists = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return exists && date.getTime() >= FIRST_DAY && date.getTime() <= LAST_DAY ? date.getTime() : null;
}

function instantAt(day: number, minutes: number, timeZone: string): number {
  return wallClockToInstant(day + minutes * MINUTE_MS, timeZone);
}

function dueOfPhrase(phrase: DatePhrase, timeZone: string): Due {
  if (phrase.exact !== null) return { at: phrase.exact, date: null };
  if (phrase.minutes !== null) return { at: instantAt(phrase.day, phrase.minutes, timeZone), date: null };
  return { at: null, date: dayText(phrase.day) };
}

function dayText(wallClock: number): string {
  return new Date(wallClock).toISOString().slice(0, 10);
}

/** The phrase with up to two connectors before it ("due on friday"). */
function spanWithConnectors(text: string, result: ParsedResult): Span {
  let start = result.index;
  for (let i = 0; i < 2; i++) {
    const before = wordBefore(text, start);
    if (before === null || !CONNECTORS.has(before.word)) break;
    start = before.start;
  }
  return { start, end: result.index + result.text.length };
}

function wordBefore(text: string, index: number): { word: string; start: number } | null {
  let end = index;
  while (end > 0 && /\s/.test(text[end - 1] ?? '')) end--;
  let start = end;
  while (start > 0 && !/\s/.test(text[start - 1] ?? '')) start--;
  return start < end ? { word: text.slice(start, end).toLowerCase(), start } : null;
}

// ---------------------------------------------------------------------------------------------
// The title

/** Same length as `text`, so that offsets found in it are offsets in `text`. */
function blankOut(text: string, spans: Span[]): string {
  const units = text.split('');
  for (const { start, end } of spans) units.fill(' ', start, end);
  return units.join('');
}

function titleWithout(text: string, spans: Span[]): string {
  const title = blankOut(text, spans)
    .replace(/\s+/g, ' ')
    // A comma that separated the removed phrase: "Call bob, tomorrow" -> "Call bob".
    .replace(/^[\s,;]+|[\s,;]+$/g, '');
  return title === '' ? text.trim() : title;
}
