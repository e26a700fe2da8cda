import { toWallClock } from '../time/wall-clock.js';

// The viewer's open dated tasks as an iCalendar feed (RFC 5545): an all-day task is an all-day event,
// a timed task a 30-minute event, a recurring task carries its RRULE (a timed one in the owner's zone,
// so that its occurrences keep their wall-clock time across daylight-saving changes). Each event's
// UID is its task's id: a calendar that refreshes the feed updates its events instead of adding more.

export interface CalendarTask {
  id: string;
  title: string;
  description: string;
  dueAt: Date | null;
  /** YYYY-MM-DD */
  dueDate: string | null;
  recurrence: string | null;
  updatedAt: Date;
}

const TIMED_EVENT_MINUTES = 30;

/** TEXT values escape backslash, semicolon, comma and line breaks (RFC 5545, 3.3.11). */
function text(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r\n|\r|\n/g, '\\n');
}

/** Lines longer than 75 octets continue on the next line after a space (3.1), never inside a character. */
function fold(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char);
    if (octets + size > (parts.length === 0 ? 75 : 74)) {
      parts.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

const utc = (instant: Date) => instant.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
const localTime = (instant: Date, zone: string) => utc(new Date(toWallClock(instant.getTime(), zone))).replace(/Z$/, '');
const day = (date: string) => date.replace(/-/g, '');

function nextDay(date: string): string {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return day(next.toISOString().slice(0, 10));
}

function event(task: CalendarTask, zone: string): string[] {
  const lines = ['BEGIN:VEVENT', `UID:${task.id}@tasks-api`, `DTSTAMP:${utc(task.updatedAt)}`, `SUMMARY:${text(task.title)}`];
  if (task.description) lines.push(`DESCRIPTION:${text(task.description)}`);
  if (task.dueDate) {
    lines.push(`DTSTART;VALUE=DATE:${day(task.dueDate)}`, `DTEND;VALUE=DATE:${nextDay(task.dueDate)}`);
  } else if (task.recurrence) {
    lines.push(`DTSTART;TZID=${zone}:${localTime(task.dueAt!, zone)}`, `DURATION:PT${TIMED_EVENT_MINUTES}M`);
  } else {
    lines.push(`DTSTART:${utc(task.dueAt!)}`, `DURATION:PT${TIMED_EVENT_MINUTES}M`);
  }
  if (task.recurrence) lines.push(`RRULE:${task.recurrence}`);
  lines.push('END:VEVENT');
  return lines;
}

/** The feed's text, CRLF line ends as the RFC requires. */
export function calendarOf(tasks: readonly CalendarTask[], zone: string): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Tasks API//Calendar feed//EN', 'CALSCALE:GREGORIAN', 'X-WR-CALNAME:Tasks', `X-WR-TIMEZONE:${zone}`];
  for (const task of tasks) lines.push(...event(task, zone));
  lines.push('END:VCALENDAR');
  return `${lines.map(fold).join('\r\n')}\r\n`;
}
