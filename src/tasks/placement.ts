import { sql, type Expression, type SqlBool } from 'kysely';
import type pg from 'pg';
import type { ViewerContext } from '../context.js';
import { bound, type Bound, type Shaped } from '../reads/parameters.js';
import { col, from, param, rowId, type Alias, type AnySelect, type ReadEnv } from '../reads/sources.js';
import { badInput, notFound, unauthenticated } from '../schema/errors.js';
import { keyBetween, PositionRace } from './positions.js';

// Where a task goes: its list, its parent and its position among its new siblings. One statement
// reads every fact a placement needs (the task, the destination, the anchor and its neighbour, or
// the last sibling); the write that follows is one statement too. Two writers that read the same
// gap compute the same key: the unique position indexes refuse the second, which reads again.

export interface TaskPlacementArgs {
  /** The task being moved; absent for a new task. */
  id?: string;
  listId?: string;
  /** A parent's id, null for the top level, undefined to leave it to the other arguments. */
  parentId?: string | null;
  afterId?: string;
  beforeId?: string;
  /** Tags the new task will carry: each must be one of the viewer's. */
  tagIds?: string[];
}

export interface TaskPlace {
  listId: string;
  parentId: string | null;
  position: string;
  /** Placed after the remembered end of the Inbox, unread: the write must check it still is the end. */
  remembered?: boolean;
  /** The moved task's version when it was read. */
  version?: number;
}

// Where each viewer's last new Inbox task went, remembered by this server: creating a task without a
// list, the common case, then needs no read. The insert checks that no sibling sorts after the new
// task (another server, a move to the end); one that does is moved to the true end.
const appendPoints = new WeakMap<object, Map<string, { listId: string; last: string }>>();
const MAX_REMEMBERED = 10_000;

function appendPointsOf(context: ViewerContext): Map<string, { listId: string; last: string }> {
  let points = appendPoints.get(context.services.reads);
  if (!points) appendPoints.set(context.services.reads, (points = new Map()));
  return points;
}

/** Remembers the end of the viewer's Inbox after a new task went there. */
export function rememberAppend(context: ViewerContext, listId: string, position: string): void {
  const points = appendPointsOf(context);
  points.delete(context.viewer.id);
  if (points.size >= MAX_REMEMBERED) points.delete(points.keys().next().value!);
  points.set(context.viewer.id, { listId, last: position });
}

export function forgetAppend(context: ViewerContext): void {
  appendPointsOf(context).delete(context.viewer.id);
}

interface PlacementInput {
  id?: Bound<string>;
  listId?: Bound<string>;
  parentId?: Bound<string>;
  topLevel?: boolean;
  afterId?: Bound<string>;
  beforeId?: Bound<string>;
  tagIds?: Bound<readonly string[]>;
}

type Facts = {
  moved_list: string | null;
  moved_parent: string | null;
  moved_exists: boolean | null;
  moved_version?: number | null;
  inbox: string | null;
  dest_list: string | null;
  parent_list: string | null;
  anchor_list: string | null;
  anchor_parent: string | null;
  anchor_position: string | null;
  neighbour: string | null;
  last: string | null;
  tags: string[] | null;
};

const FACTS = {};

/** The siblings of a group: a list's top level (parent null) or a task's subtasks. */
function siblings(env: ReadEnv, s: Alias<'tasks'>, listId: Expression<unknown>, parentId: Expression<unknown> | null, moved: Expression<unknown> | null): AnySelect {
  let rows = from(env.q, s);
  rows = parentId ? rows.where(sql<SqlBool>`${col(s, 'parent_id')} = ${parentId}`) : rows.where(sql<SqlBool>`${col(s, 'list_id')} = ${listId} AND ${col(s, 'parent_id')} IS NULL`);
  return moved ? rows.where(sql<SqlBool>`${rowId(s)} <> ${moved}`) : rows;
}

/** The nearest key of a group beyond `position` (above it when `above`, below it otherwise). */
function nearest(env: ReadEnv, group: (s: Alias<'tasks'>) => AnySelect, position: Expression<unknown> | null, above: boolean): Expression<unknown> {
  const s = env.alias('tasks');
  let rows = group(s);
  if (position) rows = rows.where(sql<SqlBool>`${col(s, 'position')} ${sql.raw(above ? '>' : '<')} ${position}`);
  return sql`(${rows.select(sql`${above ? sql`min` : sql`max`}(${col(s, 'position')})`.as('p'))})`;
}

/** Either side of a group that the task's parent may be null on: one query per case, each index-backed. */
function groupOf(env: ReadEnv, listId: Expression<unknown>, parentId: Expression<unknown>, moved: Expression<unknown> | null) {
  return (pick: (group: (s: Alias<'tasks'>) => AnySelect) => Expression<unknown>) =>
    sql`CASE WHEN ${parentId} IS NULL THEN ${pick((s) => siblings(env, s, listId, null, moved))} ELSE ${pick((s) => siblings(env, s, listId, parentId, moved))} END`;
}

/** The position of the sibling right after the task `t` (null when it is the last). */
export const nextSiblingPosition = (env: ReadEnv, t: Alias<'tasks'>) =>
  groupOf(env, col(t, 'list_id'), col(t, 'parent_id'), rowId(t))((group) => nearest(env, group, col(t, 'position'), true));

function factsStatement(env: ReadEnv, input: Shaped<PlacementInput>) {
  const m = env.alias('tasks');
  const movedId = input.id ? param(input.id) : null;
  const select: Record<string, Expression<unknown>> = {};
  const scalar = (query: AnySelect) => sql`(${query})`;
  if (input.id) {
    select.moved_exists = sql`true`;
    select.moved_version = col(m, 'version');
    select.moved_list = col(m, 'list_id');
    select.moved_parent = col(m, 'parent_id');
  } else {
    // A moved task names its list; only a new one may need the Inbox.
    const inbox = env.alias('lists');
    select.inbox = scalar(from(env.q, inbox).select(sql`${rowId(inbox)}`.as('id')).where(col(inbox, 'is_inbox'), '=', true));
  }
  if (input.listId) {
    const l = env.alias('lists');
    select.dest_list = scalar(from(env.q, l).select(sql`${rowId(l)}`.as('id')).where(rowId(l), '=', param(input.listId)));
  }
  if (input.parentId) {
    const p = env.alias('tasks');
    select.parent_list = scalar(from(env.q, p).select(sql`${col(p, 'list_id')}`.as('list_id')).where(rowId(p), '=', param(input.parentId)));
  }
  if (input.tagIds) {
    const g = env.alias('tags');
    select.tags = scalar(from(env.q, g).select(sql`array_agg(${rowId(g)})`.as('ids')).where(sql<SqlBool>`${rowId(g)} = ANY(${input.tagIds}::uuid[])`));
  }
  const anchorId = input.afterId ?? input.beforeId;
  if (anchorId) {
    // The anchor is read once (a CTE referenced several times is materialized) and used four times.
    const anchor = (column: 'list_id' | 'parent_id' | 'position') => sql`(SELECT ${sql.ref(column)} FROM anchor)`;
    const [list, parent, position] = [anchor('list_id'), anchor('parent_id'), anchor('position')];
    select.anchor_list = list;
    select.anchor_parent = parent;
    select.anchor_position = position;
    select.neighbour = groupOf(env, list, parent, movedId)((group) => nearest(env, group, position, Boolean(input.afterId)));
  } else if (input.parentId) {
    select.last = nearest(env, (s) => siblings(env, s, sql`NULL`, param(input.parentId!), movedId), null, false);
  } else if (input.listId || input.topLevel || !input.id) {
    const list = input.listId ? param(input.listId) : input.id ? col(m, 'list_id') : select.inbox!;
    select.last = nearest(env, (s) => siblings(env, s, list, null, movedId), null, false);
  } else {
    select.last = groupOf(env, col(m, 'list_id'), col(m, 'parent_id'), movedId)((group) => nearest(env, group, null, false));
  }
  const selections = Object.entries(select).map(([name, value]) => sql`${value}`.as(name));
  const q = anchorId
    ? env.q.with('anchor', () => {
        const a = env.alias('tasks');
        return from(env.q, a).select((['list_id', 'parent_id', 'position'] as const).map((column) => sql`${col(a, column)}`.as(column))).where(rowId(a), '=', param(anchorId));
      }) as unknown as typeof env.q
    : env.q;
  return input.id ? from(q, m).select(selections).where(rowId(m), '=', param(input.id)) : q.selectNoFrom(selections as never);
}

/** A new task with no list, parent, neighbour or tag to check: the end of the Inbox. */
export const isInboxAppend = (args: TaskPlacementArgs) =>
  !args.id && !args.listId && args.parentId === undefined && !args.afterId && !args.beforeId && !args.tagIds?.length;

/** Reads the facts of a placement and decides it; NOT_FOUND / BAD_USER_INPUT name the argument at fault. */
export async function placeTask(context: ViewerContext, args: TaskPlacementArgs, path: string): Promise<TaskPlace> {
  const point = isInboxAppend(args) ? appendPointsOf(context).get(context.viewer.id) : undefined;
  if (point) return { listId: point.listId, parentId: null, position: keyBetween(point.last, null), remembered: true };
  const input: PlacementInput = {
    ...(args.id ? { id: bound(args.id) } : {}),
    ...(args.listId ? { listId: bound(args.listId) } : {}),
    ...(args.parentId ? { parentId: bound(args.parentId) } : {}),
    ...(args.parentId === null ? { topLevel: true } : {}),
    ...(args.afterId ? { afterId: bound(args.afterId) } : args.beforeId ? { beforeId: bound(args.beforeId) } : {}),
    ...(args.tagIds?.length ? { tagIds: bound(args.tagIds) } : {}),
  };
  const [row] = await context.services.reads.statements.run(FACTS, context.viewer.id, input, factsStatement);
  const facts = row as Facts | undefined;
  if (!facts || (args.id && !facts.moved_exists)) throw notFound('Task');
  // Every user has an Inbox (a trigger gives it): none means the account is gone.
  if (!args.id && !facts.inbox) throw unauthenticated('This account no longer exists');
  if (args.listId && !facts.dest_list) throw notFound(`List (${path}.listId)`);
  if (args.parentId && !facts.parent_list) throw notFound(`Task (${path}.parentId)`);
  if (args.tagIds?.length) {
    const known = new Set(facts.tags ?? []);
    const missing = args.tagIds.filter((id) => !known.has(id));
    if (missing.length > 0) throw notFound(`Tag ${missing.join(', ')} (${path}.tagIds)`);
  }
  const anchorPath = args.afterId ? `${path}.afterId` : `${path}.beforeId`;
  if ((args.afterId || args.beforeId) && !facts.anchor_list) throw notFound(`Task (${anchorPath})`);

  let listId: string;
  let parentId: string | null;
  if (args.parentId) {
    listId = facts.parent_list!;
    parentId = args.parentId;
    if (args.listId && args.listId !== listId) throw badInput([{ path: `${path}.listId`, message: "a subtask is in its parent's list" }]);
  } else if (args.listId || args.parentId === null) {
    listId = args.listId ?? facts.moved_list ?? facts.inbox!;
    parentId = null;
  } else if (facts.anchor_list) {
    listId = facts.anchor_list;
    parentId = facts.anchor_parent;
  } else {
    listId = facts.moved_list ?? facts.inbox!;
    parentId = facts.moved_parent ?? null;
  }
  if (facts.anchor_list && (facts.anchor_list !== listId || facts.anchor_parent !== parentId)) {
    throw badInput([{ path: anchorPath, message: 'must be a sibling in the destination (same list and parent)' }]);
  }
  const position = args.afterId
    ? keyBetween(facts.anchor_position, facts.neighbour)
    : args.beforeId
      ? keyBetween(facts.neighbour, facts.anchor_position)
      : keyBetween(facts.last, null);
  return { listId, parentId, position, ...(facts.moved_version != null ? { version: facts.moved_version } : {}) };
}

/**
 * A condition that takes the viewer's task-tree lock (lock_task_tree, in the migrations) before the
 * statement locks any row: PostgreSQL evaluates it once, ahead of the scan. Statements that move
 * tasks or change their completion carry it, so that none holds a row another waits for while it
 * waits for the tree.
 */
export const treeLocked = (env: ReadEnv) => sql<SqlBool>`(SELECT lock_task_tree(${env.viewer}::uuid))`;

const MAX_ATTEMPTS = 20;
const POSITION_KEYS = new Set(['tasks_top_level_position_key', 'tasks_subtask_position_key', 'lists_user_id_position_key']);

/** A write of a new position lost a race for its key (or its neighbours moved under it): read again. */
export function lostPositionRace(error: unknown): boolean {
  if (error instanceof PositionRace) return true;
  const database = error as Partial<pg.DatabaseError>;
  return database?.code === '23505' && POSITION_KEYS.has(database.constraint ?? '');
}

/** Runs `attempt` until its position is not taken by a concurrent writer (bounded). */
export async function withFreshPosition<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!lostPositionRace(error) || tries >= MAX_ATTEMPTS) throw error;
    }
  }
}
