import { sql, type Expression } from 'kysely';
import { col, from, type Alias, type ReadEnv } from './sources.js';

// Days as the read compiler speaks of them. The viewer's zone is read inside the statement (PostgreSQL
// runs the subquery once), so a zone change applies from the next request; a day begins where the
// database's day_starts_at says, the function its triggers use for all-day tasks.

/** The viewer's IANA time zone. */
export function viewerZone(env: ReadEnv): Expression<string> {
  const u = env.alias('users');
  return sql`(${from(env.q, u).select(sql`${col(u, 'time_zone')}`.as('zone'))})`;
}

/** The calendar day it is now in `zone`. */
export const localToday = (env: ReadEnv, zone: Expression<unknown>) => sql<string>`(${env.now}::timestamptz AT TIME ZONE ${zone})::date`;

/** The instant `day` begins in `zone`. */
export const dayStartsAt = (day: Expression<unknown>, zone: Expression<unknown>) => sql<Date>`day_starts_at(${day}, ${zone})`;

/**
 * Where a task stands in time: its due instant, or for an all-day task the instant its day begins in
 * the owner's zone. With `isTimed` after it, an all-day task comes before the timed tasks of its day.
 * tasks_due_order_idx indexes exactly these expressions.
 */
export const dueKey = (t: Alias<'tasks'>) => sql<Date>`COALESCE(${col(t, 'due_at')}, ${col(t, 'due_day_starts_at')})`;
export const isTimed = (t: Alias<'tasks'>) => sql<boolean>`(${col(t, 'due_at')} IS NOT NULL)`;

/** A day as the Date scalar sends it. */
export const dayText = (day: Expression<unknown>) => sql<string>`to_char(${day}, 'YYYY-MM-DD')`;
