import { sql, type SqlBool } from 'kysely';
import type pg from 'pg';
import type { ViewerContext } from '../context.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../reads/connections.js';
import type { Row } from '../reads/index.js';
import { bound } from '../reads/parameters.js';
import { boundIds, col, from, idIn, param, rowId, type Alias } from '../reads/sources.js';
import { trashAlias } from '../reads/viewer-scope.js';
import { badInput, conflict, notFound } from '../schema/errors.js';
import { treeLocked, withFreshPosition } from './placement.js';
import { keyBetween } from './positions.js';

// The trash. Deleting a task moves it with its subtree to the trash (deleted_at, one instant for the
// whole subtree); every read but these sees live tasks only (the viewer scope, src/reads/viewer-scope.ts).

const TRASH = {};
const RESTORE_FACTS = {};
const RESTORE = {};
const EMPTY = {};
const PAGE = {};

const trashed = (suffix: string): Alias<'tasks'> => ({ table: 'tasks', name: trashAlias(suffix) });

/**
 * Moves tasks with their subtrees to the trash: one statement, all or none (every id must be a live
 * task of the viewer's). With `expectedVersion` (one id) only while the task is at that version.
 */
export async function trashTasks(context: ViewerContext, ids: string[], options: { path: string; expectedVersion?: number }): Promise<void> {
  const input = { ids: boundIds(ids), count: bound(ids.length), expected: bound(options.expectedVersion ?? null) };
  const [row] = await context.services.reads.statements.run(TRASH, context.viewer.id, input, (env, shaped) => {
    const t = env.alias('tasks');
    const found = from(env.q, t).select(sql<number>`count(*)::int`.as('n')).where(idIn(rowId(t), shaped.ids));
    // The version is reported for a conflict, which only a single id can have.
    const v = env.alias('tasks');
    const version = 'one' in shaped.ids ? sql`(${from(env.q, v).select(sql`${col(v, 'version')}`.as('v')).where(idIn(rowId(v), shaped.ids))})` : sql`NULL::int`;
    return env.q
      .withRecursive('subtree(id)', (db) =>
        db
          .selectFrom('tasks as r')
          .select('r.id')
          .where(treeLocked(env))
          .where(idIn(sql.ref('r.id'), shaped.ids))
          .where(sql<SqlBool>`(${found}) = ${param(shaped.count)}::int`)
          .where(sql<SqlBool>`(${param(shaped.expected)}::int IS NULL OR r.version = ${param(shaped.expected)}::int)`)
          .unionAll((db) => db.selectFrom('tasks as c').innerJoin('subtree', 'subtree.id' as never, 'c.parent_id').select('c.id') as never) as never,
      )
      .with('moved', (db) => db.updateTable('tasks').set({ deleted_at: sql`now()` } as never).where(sql<SqlBool>`id IN (SELECT id FROM subtree)`).returning('id'))
      .selectNoFrom([
        sql<number>`(SELECT count(*) FROM moved)::int`.as('trashed'),
        sql<number | null>`${version}`.as('version'),
      ] as never);
  });
  context.services.reads.forget(context);
  const { trashed: count, version } = row as { trashed: number; version: number | null };
  if (count > 0) return;
  if (ids.length === 1 && version !== null && options.expectedVersion !== undefined) {
    throw conflict(`Task changed since version ${options.expectedVersion}: it is now at version ${version}`, { currentVersion: version });
  }
  await assertLive(context, ids, options.path);
}

/** NOT_FOUND naming the ids that are not live tasks of the viewer's. */
async function assertLive(context: ViewerContext, ids: string[], path: string): Promise<never> {
  const rows = await context.services.reads.rowsByIds(context, 'tasks', ids);
  const missing = ids.filter((_id, index) => !rows[index]);
  throw notFound(`Task ${missing.join(', ') || ids.join(', ')} (${path})`);
}

interface RestoreFacts {
  deleted_at: string | null;
  chain: string[] | null;
  top: string | null;
  top_position: string | null;
  taken: boolean | null;
  last: string | null;
}

/**
 * Brings a task back from the trash with the subtree that went with it, its tags and its reminders.
 * Its trashed ancestors come back too (a live task is never under one in the trash), without their
 * other subtasks. The topmost task restored takes its old place, or the end of its siblings when a
 * live task holds that key now.
 */
export async function restoreTask(context: ViewerContext, id: string): Promise<Row> {
  const { statements } = context.services.reads;
  await withFreshPosition(async () => {
    const [facts] = (await statements.run(RESTORE_FACTS, context.viewer.id, { id: bound(id) }, (env, shaped) => {
      const x = trashed('_x');
      const p = trashed('_p');
      const s = env.alias('tasks');
      const chain = env.q.withRecursive('chain(id, parent_id, list_id, position, deleted_at, depth)', (db) =>
        from(db as never, x)
          .select([rowId(x), col(x, 'parent_id'), col(x, 'list_id'), col(x, 'position'), col(x, 'deleted_at'), sql.lit(0)] as never)
          .where(rowId(x), '=', param(shaped.id))
          .unionAll(
            from(db as never, p)
              .innerJoin('chain', sql.ref('chain.parent_id') as never, rowId(p) as never)
              .select([rowId(p), col(p, 'parent_id'), col(p, 'list_id'), col(p, 'position'), col(p, 'deleted_at'), sql`chain.depth + 1`] as never),
          ) as never,
      );
      const top = sql`(SELECT id FROM chain ORDER BY depth DESC LIMIT 1)`;
      const sibling = (query: ReturnType<typeof from>) =>
        query
          .where(sql<SqlBool>`${col(s, 'list_id')} = (SELECT list_id FROM chain ORDER BY depth DESC LIMIT 1)`)
          .where(sql<SqlBool>`${col(s, 'parent_id')} IS NOT DISTINCT FROM (SELECT parent_id FROM chain ORDER BY depth DESC LIMIT 1)`);
      return chain.selectNoFrom([
        sql`(SELECT deleted_at FROM chain WHERE depth = 0)`.as('deleted_at'),
        sql`(SELECT array_agg(id) FROM chain)`.as('chain'),
        top.as('top'),
        sql`(SELECT position FROM chain ORDER BY depth DESC LIMIT 1)`.as('top_position'),
        sql`EXISTS (${sibling(from(env.q, s).select(sql.lit(1).as('one'))).where(sql<SqlBool>`${col(s, 'position')} = (SELECT position FROM chain ORDER BY depth DESC LIMIT 1)`)})`.as('taken'),
        sql`(${sibling(from(env.q, s).select(sql`max(${col(s, 'position')})`.as('last')))})`.as('last'),
      ] as never);
    })) as unknown as RestoreFacts[];
    if (!facts?.deleted_at || !facts.top) throw notFound('Task in the trash');
    const position = facts.taken ? keyBetween(facts.last, null) : facts.top_position!;
    const input = { id: bound(id), deletedAt: bound(facts.deleted_at), chain: bound(facts.chain!), top: bound(facts.top), position: bound(position) };
    await statements.run(RESTORE, context.viewer.id, input, (env, shaped) => {
      const r = trashed('_r');
      const c = trashed('_c');
      return env.q
        .withRecursive('subtree(id)', (db) =>
          from(db as never, r)
            .select(rowId(r) as never)
            .where(treeLocked(env))
            .where(rowId(r), '=', param(shaped.id))
            .unionAll(
              from(db as never, c)
                .innerJoin('subtree', sql.ref('subtree.id') as never, col(c, 'parent_id') as never)
                .select(rowId(c) as never)
                .where(col(c, 'deleted_at'), '=', param(shaped.deletedAt)),
            ) as never,
        )
        .updateTable(`tasks as ${trashAlias('_u')}` as never)
        .set({
          deleted_at: null,
          position: sql`CASE WHEN id = ${param(shaped.top)}::uuid THEN ${param(shaped.position)} ELSE position END`,
        } as never)
        .where(sql<SqlBool>`(id IN (SELECT id FROM subtree) OR id = ANY(${param(shaped.chain)}::uuid[]))`);
    });
  });
  context.services.reads.forget(context);
  const row = await context.services.reads.rowById(context, 'tasks', id);
  if (!row) throw notFound('Task');
  return row;
}

/** Deletes every task in the viewer's trash for good; answers how many. */
export async function emptyTrash(context: ViewerContext): Promise<number> {
  const [row] = await context.services.reads.statements.run(EMPTY, context.viewer.id, {}, (env) => {
    const t = trashed('_e');
    return env.q
      .with('doomed', () => from(env.q, t).select(sql`${rowId(t)}`.as('id') as never))
      .with('gone', (db) => db.deleteFrom(`tasks as ${trashAlias('_d')}` as never).where(sql<SqlBool>`id IN (SELECT id FROM doomed)`))
      .selectNoFrom([sql<number>`(SELECT count(*) FROM doomed)::int`.as('count')] as never);
  });
  context.services.reads.forget(context);
  return (row as { count: number }).count;
}

/** The worker's purge: tasks in anyone's trash for longer than `retentionDays`, in batches. */
export async function purgeTrash(pool: Pick<pg.Pool, 'query'>, retentionDays: number, batchSize = 1_000): Promise<{ purged: number; users: string[] }> {
  let purged = 0;
  const users = new Set<string>();
  for (;;) {
    const { rows } = await pool.query<{ user_id: string }>(
      `DELETE FROM tasks WHERE id = ANY(ARRAY(
         SELECT id FROM tasks WHERE deleted_at < now() - $1 * interval '1 day' LIMIT $2 FOR UPDATE SKIP LOCKED
       )) RETURNING user_id`,
      [retentionDays, batchSize],
    );
    purged += rows.length;
    for (const row of rows) users.add(row.user_id);
    if (rows.length < batchSize) return { purged, users: [...users] };
  }
}

export interface TrashPage {
  edges: { cursor: string; node: Row }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number>;
}

const encodeCursor = (row: Row) => Buffer.from(`trash:${new Date(row.__deleted_at as string).toISOString()}:${row.id as string}`).toString('base64url');

function decodeTrashCursor(cursor: string): { at: string; id: string } {
  const match = /^trash:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badInput([{ path: 'after', message: 'not a cursor of the trash' }]);
  return { at: match[1]!, id: match[2]! };
}

/** The viewer's trash, most recently deleted first. */
export async function readTrash(context: ViewerContext, args: { first?: number | null; after?: string | null }): Promise<TrashPage> {
  if (args.first != null && args.first < 0) throw badInput([{ path: 'first', message: 'must be a non-negative integer' }]);
  const size = Math.min(args.first ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const after = args.after != null ? decodeTrashCursor(args.after) : null;
  const { reads } = context.services;
  const input = { limit: bound(size + 1), ...(after ? { at: bound(after.at), id: bound(after.id) } : {}) };
  const rows = await reads.statements.run(PAGE, context.viewer.id, input, (env, shaped) => {
    const t = trashed('_t');
    let page = from(env.q, t).select([...reads.model.rowSelections(env, t), sql`${col(t, 'deleted_at')}`.as('__deleted_at')] as never);
    if (shaped.at) page = page.where(sql<SqlBool>`(${col(t, 'deleted_at')}, ${rowId(t)}) < (${param(shaped.at)}::timestamptz, ${param(shaped.id!)}::uuid)`);
    return page.orderBy(col(t, 'deleted_at') as never, 'desc').orderBy(rowId(t) as never, 'desc').limit(param<number>(shaped.limit) as never);
  });
  const shown = rows.slice(0, size);
  const edges = shown.map((node) => ({ cursor: encodeCursor(node), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > size, hasPreviousPage: false, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: async () => {
      const [row] = await reads.statements.run(TRASH_COUNT, context.viewer.id, {}, (env) => from(env.q, trashed('_n')).select(sql<number>`count(*)::int`.as('count')));
      return (row as { count: number }).count;
    },
  };
}

const TRASH_COUNT = {};
