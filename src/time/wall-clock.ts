// Wall-clock arithmetic for a user's time zone without a time-zone library: a "wall clock" is the
// local date and time in the zone, encoded as if it were UTC milliseconds, so calendar steps
// (next day, next month) are plain UTC arithmetic and only the last step needs the zone's rules.

const DAY_MS = 86_400_000;

// Constructing an Intl.DateTimeFormat is expensive and every conversion needs one per zone.
const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

/** The instant's local date and time in `timeZone`, encoded as if it were UTC. */
export function toWallClock(instant: number, timeZone: string): number {
  let format = wallClockFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    wallClockFormats.set(timeZone, format);
  }
  const fields: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of format.formatToParts(instant)) fields[part.type] = Number(part.value);
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = fields;
  const milliseconds = ((instant % 1000) + 1000) % 1000;
  return Date.UTC(year, month - 1, day, hour, minute, second, milliseconds);
}

/**
 * The instant at which clocks in `timeZone` show `wallClock`. A time repeated when clocks
 * fall back resolves to its first (earlier) instant; a time skipped when clocks spring
 * forward resolves to the instant after the gap (02:30 becomes 03:30), as RFC 5545 and
 * Temporal's "compatible" disambiguation do.
 */
export function wallClockToInstant(wallClock: number, timeZone: string): number {
  const offsetAt = (instant: number) => toWallClock(instant, timeZone) - instant;
  const offsetBefore = offsetAt(wallClock - DAY_MS);
  const offsetAfter = offsetAt(wallClock + DAY_MS);
  const matches = [wallClock - offsetBefore, wallClock - offsetAfter].filter(
    (instant) => toWallClock(instant, timeZone) === wallClock,
  );
  return matches.length > 0 ? Math.min(...matches) : wallClock - offsetBefore;
}

/** The calendar day (YYYY-MM-DD) the instant falls on in `timeZone`. */
export function localDateOf(instant: Date, timeZone: string): string {
  return new Date(toWallClock(instant.getTime(), timeZone)).toISOString().slice(0, 10);
}
