import { sql, type Expression, type SqlBool } from 'kysely';
import type pg from 'pg';
import type { ViewerContext } from '../context.js';
import type { Row } from '../reads/index.js';
import { bound, type Bound } from '../reads/parameters.js';
import { trashAlias } from '../reads/viewer-scope.js';
import { col, from, param, rowId, type Alias, type AnySelect, type ReadEnv } from '../reads/sources.js';
import { badInput, conflict, notFound } from '../schema/errors.js';
import { withFreshPosition } from '../tasks/placement.js';
import { keyBetween, type Placement } from '../tasks/positions.js';

// The writes of lists. Every statement is built with the read compiler's scoped query builder, so
// the viewer is the owner of every row touched, and answers the list as the viewer reads it.

export interface NewList {
  name: string;
  color?: string | null;
  idempotencyKey?: string | null;
}

export interface ListChanges {
  name?: string;
  color?: string | null;
  expectedVersion?: number;
}

const LAST = {};
const INSERT = {};
const UPDATE = {};
const DELETE = {};
const DELETE_FACTS = {};
const DELETE_TRASH = {};
const DELETE_MOVE = {};
const NEIGHBOURS = {};

const uniqueViolation = (error: unknown, constraint: string) =>
  (error as Partial<pg.DatabaseError>)?.code === '23505' && (error as pg.DatabaseError).constraint === constraint;

/** The list as the viewer reads it, from a write's RETURNING. */
const returningList = (context: ViewerContext, env: ReadEnv) => context.services.reads.model.rowSelections(env, { table: 'lists', name: 'lists' }) as never;

/** Creates a list after the viewer's last one; a retry with the same idempotency key answers the first. */
export async function createList(context: ViewerContext, input: NewList): Promise<Row> {
  const { statements } = context.services.reads;
  const viewer = context.viewer.id;
  const key = input.idempotencyKey ?? null;
  const facts = async () => {
    const [row] = await statements.run(LAST, viewer, key === null ? {} : { key: bound(key) }, (env, shaped) => {
      const l = env.alias('lists');
      const selections: Expression<unknown>[] = [sql`(${from(env.q, l).select(sql`max(${col(l, 'position')})`.as('p'))})`.as('last') as never];
      if (shaped.key) {
        const e = env.alias('lists');
        selections.push(sql`(${from(env.q, e).select(sql`${rowId(e)}`.as('id')).where(col(e, 'idempotency_key'), '=', param(shaped.key))})`.as('earlier') as never);
      }
      return env.q.selectNoFrom(selections as never);
    });
    return row as { last: string | null; earlier?: string | null };
  };
  return withFreshPosition(async () => {
    const { last, earlier } = await facts();
    if (earlier) return context.services.reads.written(context, 'lists', earlier);
    const values = { name: bound(input.name), color: bound(input.color ?? null), position: bound(keyBetween(last, null)), key: bound(key) };
    try {
      const [row] = await statements.run(INSERT, viewer, values, (env, shaped) =>
        env.q
          .insertInto('lists')
          .values({ name: param(shaped.name), color: param(shaped.color), position: param(shaped.position), idempotency_key: param(shaped.key) } as never)
          .returning(returningList(context, env)),
      );
      context.services.reads.forget(context);
      return row!;
    } catch (error) {
      if (key !== null && uniqueViolation(error, 'lists_user_id_idempotency_key_key')) {
        const { earlier: winner } = await facts();
        if (winner) return context.services.reads.written(context, 'lists', winner);
      }
      throw error;
    }
  });
}

type ListSet = { name?: Bound<string>; color?: Bound<string | null>; archived?: boolean; position?: Bound<string> };

/** Updates one of the viewer's lists and answers it; null when there is no such list (or, with a version, it moved on). */
async function updateList(context: ViewerContext, id: string, set: ListSet, expectedVersion?: number): Promise<Row | null> {
  const input = { id: bound(id), set, ...(expectedVersion === undefined ? {} : { version: bound(expectedVersion) }) };
  const [row] = await context.services.reads.statements.run(UPDATE, context.viewer.id, input, (env, shaped) => {
    const changes: Record<string, unknown> = {};
    if (shaped.set.name) changes.name = param(shaped.set.name);
    if (shaped.set.color) changes.color = param(shaped.set.color);
    if (shaped.set.position) changes.position = param(shaped.set.position);
    if (shaped.set.archived !== undefined) changes.archived_at = shaped.set.archived ? sql`coalesce(archived_at, now())` : null;
    let update = env.q.updateTable('lists').set(changes as never).where('id', '=', param(shaped.id) as never);
    if (shaped.version) update = update.where('version', '=', param(shaped.version) as never);
    return update.returning(returningList(context, env));
  });
  context.services.reads.forget(context);
  return row ?? null;
}

/** The current version of a list, to tell a stale expectedVersion from a missing list. */
async function currentVersion(context: ViewerContext, id: string): Promise<number | null> {
  const row = await context.services.reads.rowsByIds(context, 'lists', [id]);
  return (row[0]?.version as number | undefined) ?? null;
}

export async function changeList(context: ViewerContext, id: string, changes: ListChanges): Promise<Row> {
  const set: ListSet = {};
  if (changes.name !== undefined) set.name = bound(changes.name);
  if (changes.color !== undefined) set.color = bound(changes.color);
  const row = await updateList(context, id, set, changes.expectedVersion);
  if (row) return row;
  const version = changes.expectedVersion === undefined ? null : await currentVersion(context, id);
  if (version === null) throw notFound('List');
  throw conflict(`List changed since version ${changes.expectedVersion}: it is now at version ${version}`, { currentVersion: version });
}

export async function archiveList(context: ViewerContext, id: string, archived: boolean): Promise<Row> {
  try {
    const row = await updateList(context, id, { archived });
    if (!row) throw notFound('List');
    return row;
  } catch (error) {
    if ((error as Partial<pg.DatabaseError>)?.constraint === 'lists_inbox_stays') throw badInput([{ path: 'id', message: 'the Inbox cannot be archived' }]);
    throw error;
  }
}

/**
 * Deletes a list; its tasks go to the trash, in the Inbox, so that restoring one brings it back there
 * (as Todoist does with a deleted project's tasks). The Inbox stays. Four statements in one
 * transaction: the checks, the trash, the move (subtasks follow their parents through the foreign
 * key's ON UPDATE CASCADE), the delete.
 */
export async function deleteList(context: ViewerContext, id: string): Promise<void> {
  await context.services.reads.transaction(async (statements) => {
    const [facts] = await statements.run(DELETE_FACTS, context.viewer.id, { id: bound(id) }, (env, shaped) => {
      const l = env.alias('lists');
      const inbox = env.alias('lists');
      return env.q.selectNoFrom([
        // Locked until the commit: a task written into the list meanwhile waits, then finds it gone.
        sql`(${from(env.q, l).select(sql`${col(l, 'is_inbox')}`.as('is_inbox')).where(rowId(l), '=', param(shaped.id)).forUpdate()})`.as('is_inbox'),
        sql`(${from(env.q, inbox).select(sql`${rowId(inbox)}`.as('id')).where(col(inbox, 'is_inbox'), '=', sql.lit(true))})`.as('inbox'),
      ] as never);
    });
    const { is_inbox: isInbox, inbox } = facts as { is_inbox: boolean | null; inbox: string };
    if (isInbox === null) throw notFound('List');
    if (isInbox) throw badInput([{ path: 'id', message: 'the Inbox cannot be deleted' }]);
    await statements.run(DELETE_TRASH, context.viewer.id, { id: bound(id) }, (env, shaped) =>
      env.q.updateTable('tasks').set({ deleted_at: sql`now()` } as never).where(sql<SqlBool>`list_id = ${param(shaped.id)}::uuid`),
    );
    await statements.run(DELETE_MOVE, context.viewer.id, { id: bound(id), inbox: bound(inbox) }, (env, shaped) =>
      env.q
        .updateTable(`tasks as ${trashAlias('_moved')}` as never)
        .set({ list_id: sql`${param(shaped.inbox)}::uuid` } as never)
        .where(sql<SqlBool>`list_id = ${param(shaped.id)}::uuid AND parent_id IS NULL`),
    );
    await statements.run(DELETE, context.viewer.id, { id: bound(id) }, (env, shaped) =>
      env.q.deleteFrom('lists').where('id', '=', param(shaped.id) as never).where('is_inbox', '=', false as never),
    );
  });
  context.services.reads.forget(context);
}

/** Moves a list between its neighbours (after afterId, or before beforeId, or to the end). */
export async function moveList(context: ViewerContext, id: string, placement: Placement): Promise<Row> {
  return withFreshPosition(async () => {
    const anchorId = placement.afterId ?? placement.beforeId ?? null;
    const after = Boolean(placement.afterId);
    const input = { id: bound(id), ...(anchorId ? { anchor: bound(anchorId), after } : {}) };
    const [row] = await context.services.reads.statements.run(NEIGHBOURS, context.viewer.id, input, (env, shaped) => {
      const m = env.alias('lists');
      const others = (alias: Alias<'lists'>): AnySelect => from(env.q, alias).where(sql<SqlBool>`${rowId(alias)} <> ${param(shaped.id)}`);
      const selections: Expression<unknown>[] = [sql`true`.as('exists') as never];
      if (shaped.anchor) {
        const a = env.alias('lists');
        const anchor = sql`(${from(env.q, a).select(sql`${col(a, 'position')}`.as('p')).where(rowId(a), '=', param(shaped.anchor))})`;
        const s = env.alias('lists');
        const nearest = others(s)
          .where(sql<SqlBool>`${col(s, 'position')} ${sql.raw(shaped.after ? '>' : '<')} ${anchor}`)
          .select(sql`${shaped.after ? sql`min` : sql`max`}(${col(s, 'position')})`.as('p'));
        selections.push(anchor.as('anchor') as never, sql`(${nearest})`.as('neighbour') as never);
      } else {
        const s = env.alias('lists');
        selections.push(sql`(${others(s).select(sql`max(${col(s, 'position')})`.as('p'))})`.as('last') as never);
      }
      return from(env.q, m).select(selections as never).where(rowId(m), '=', param(shaped.id));
    });
    if (!row) throw notFound('List');
    const facts = row as { anchor?: string | null; neighbour?: string | null; last?: string | null };
    if (anchorId && !facts.anchor) throw notFound(`List (input.${after ? 'afterId' : 'beforeId'})`);
    const position = anchorId ? (after ? keyBetween(facts.anchor!, facts.neighbour ?? null) : keyBetween(facts.neighbour ?? null, facts.anchor!)) : keyBetween(facts.last ?? null, null);
    const moved = await updateList(context, id, { position: bound(position) });
    if (!moved) throw notFound('List');
    return moved;
  });
}
