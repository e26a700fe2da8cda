import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { sql, type SqlBool } from 'kysely';
import type pg from 'pg';
import type { RateLimitStore } from '../auth/rate-limit.js';
import type { ViewerContext } from '../context.js';
import type { Logger } from '../logger.js';
import { bound } from '../reads/parameters.js';
import { col, from, param, rowId } from '../reads/sources.js';
import type { Statements } from '../reads/statements.js';
import { calendarOf, type CalendarTask } from './ics.js';

// The calendar feed: GET /calendar/<secret>.ics, the viewer's open dated tasks (src/calendar/ics.ts).
// The secret is the only credential: 32 random bytes, base64url; revoking deletes it, and a new one
// is made on the next enableCalendarFeed.

const ENABLE = {};
const FIND = {};
const REVOKE = {};
const TASKS = {};
const ZONE = {};

const PATH = /^\/calendar\/([A-Za-z0-9_-]{43})\.ics$/;
/** Requests per client address a minute: a calendar app polls every few minutes, a guesser much more. */
const FEED_REQUESTS_PER_MINUTE = 60;

export const feedUrl = (origin: string, secret: string) => new URL(`/calendar/${secret}.ics`, origin).toString();

/** The viewer's feed secret, made when there is none. */
export async function enableCalendarFeed(context: ViewerContext): Promise<string> {
  const { statements } = context.services.reads;
  await statements.run(ENABLE, context.viewer.id, { secret: bound(randomBytes(32).toString('base64url')) }, (env, input) =>
    env.q
      .insertInto('calendar_feeds')
      .values({ user_id: env.viewer, secret: param(input.secret) } as never)
      .onConflict((conflict) => conflict.column('user_id').doNothing()),
  );
  return (await calendarFeedSecret(context))!;
}

export async function calendarFeedSecret(context: ViewerContext): Promise<string | null> {
  const [row] = await context.services.reads.statements.run(FIND, context.viewer.id, {}, (env) => {
    const f = env.alias('calendar_feeds');
    return from(env.q, f).select(sql`${col(f, 'secret')}`.as('secret'));
  });
  return (row?.secret as string | undefined) ?? null;
}

export async function revokeCalendarFeed(context: ViewerContext): Promise<boolean> {
  const rows = await context.services.reads.statements.run(REVOKE, context.viewer.id, {}, (env) => env.q.deleteFrom('calendar_feeds').returning('user_id'));
  return rows.length > 0;
}

/** Whose feed a secret opens: the one lookup made without a viewer, by the secret's unique index. */
async function ownerOf(pool: Pick<pg.Pool, 'query'>, secret: string): Promise<string | null> {
  const { rows } = await pool.query<{ user_id: string }>('SELECT user_id FROM calendar_feeds WHERE secret = $1', [secret]);
  return rows[0]?.user_id ?? null;
}

/** The owner's zone and open dated tasks, read through the viewer scope as the owner. */
async function openDatedTasks(statements: Statements, userId: string): Promise<{ zone: string; tasks: CalendarTask[] }> {
  const rows = await statements.run(TASKS, userId, {}, (env) => {
    const t = env.alias('tasks');
    return from(env.q, t)
      .select([
        sql`${rowId(t)}`.as('id'),
        sql`${col(t, 'title')}`.as('title'),
        sql`${col(t, 'description')}`.as('description'),
        sql`${col(t, 'due_at')}`.as('due_at'),
        sql`to_char(${col(t, 'due_date')}, 'YYYY-MM-DD')`.as('due_date'),
        sql`${col(t, 'recurrence')}`.as('recurrence'),
        sql`${col(t, 'updated_at')}`.as('updated_at'),
      ] as never)
      .where(sql<SqlBool>`NOT ${col(t, 'completed')} AND (${col(t, 'due_at')} IS NOT NULL OR ${col(t, 'due_date')} IS NOT NULL)`)
      .orderBy(rowId(t) as never);
  });
  const [owner] = await statements.run(ZONE, userId, {}, (env) => {
    const u = env.alias('users');
    return from(env.q, u).select(sql`${col(u, 'time_zone')}`.as('zone'));
  });
  return {
    zone: (owner?.zone as string | undefined) ?? 'UTC',
    tasks: rows.map((row) => ({
      id: row.id as string,
      title: row.title as string,
      description: row.description as string,
      dueAt: row.due_at ? new Date(row.due_at as string) : null,
      dueDate: (row.due_date as string | null) ?? null,
      recurrence: (row.recurrence as string | null) ?? null,
      updatedAt: new Date(row.updated_at as string),
    })),
  };
}

function answer(response: ServerResponse, status: number, headers: Record<string, string>, body = ''): void {
  response.writeHead(status, { 'cache-control': 'private, max-age=300', ...headers });
  response.end(body);
}

/**
 * Serves the feed in front of `next`: 404 for a secret that opens nothing (revoked, or never made),
 * 429 past the rate limit, ETag/If-None-Match with 304.
 */
export function withCalendarFeed(
  deps: { pool: Pick<pg.Pool, 'query'>; statements: Statements; limits: RateLimitStore; trustProxy: boolean; logger: Logger },
  next: RequestListener,
): RequestListener {
  return (request: IncomingMessage, response: ServerResponse) => {
    const match = request.url ? PATH.exec(request.url.split('?')[0]!) : null;
    if (!match && !request.url?.startsWith('/calendar/')) return next(request, response);
    void (async () => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return answer(response, 405, { allow: 'GET, HEAD' });
      const forwarded = deps.trustProxy ? String(request.headers['x-forwarded-for'] ?? '').split(',')[0]?.trim() : '';
      const client = forwarded || request.socket.remoteAddress || 'unknown';
      const { count, resetSeconds } = await deps.limits.hit(`calendar:client:${client}`, 60);
      if (count > FEED_REQUESTS_PER_MINUTE) return answer(response, 429, { 'retry-after': String(resetSeconds) });
      const owner = match ? await ownerOf(deps.pool, match[1]!) : null;
      if (!owner) return answer(response, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'No such calendar feed\n');
      const { zone, tasks } = await openDatedTasks(deps.statements, owner);
      const body = calendarOf(tasks, zone);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      if (request.headers['if-none-match'] === etag) return answer(response, 304, { etag });
      answer(response, 200, { 'content-type': 'text/calendar; charset=utf-8', etag }, request.method === 'HEAD' ? '' : body);
    })().catch((error: unknown) => {
      deps.logger.error({ err: error }, 'calendar feed failed');
      if (!response.headersSent) answer(response, 503, { 'content-type': 'text/plain; charset=utf-8' }, 'The calendar feed is unavailable; try again shortly\n');
    });
  };
}
