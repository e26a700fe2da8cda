import { generateNKeysBetween } from 'fractional-indexing';
import { sql, type AliasedRawBuilder, type SqlBool } from 'kysely';
import type pg from 'pg';
import type { ViewerContext } from '../context.js';
import type { Row } from '../reads/index.js';
import { bound, type Bound } from '../reads/parameters.js';
import { col, from, param, rowId } from '../reads/sources.js';
import type { Statements } from '../reads/statements.js';
import type { Priority } from '../reads/task-list.js';
import { badInput, notFound } from '../schema/errors.js';
import { treeLocked, withFreshPosition } from './placement.js';
import { treeProblem } from './task-writes.js';

// Changes to many tasks at once: all of them or none (one missing or foreign id is NOT_FOUND and
// nothing changes), in a number of statements that does not grow with the number of tasks, since
// every statement takes the ids as one array.

export const MAX_BULK_IDS = 500;

/** Checks the size of a list of ids (already decoded): 1 to 500. */
export function checkBulkIds(ids: readonly string[], path: string): void {
  if (ids.length === 0) throw badInput([{ path, message: 'at least one id' }]);
  if (ids.length > MAX_BULK_IDS) throw badInput([{ path, message: `at most ${MAX_BULK_IDS} ids` }]);
}

const FOUND = {};
const MOVE_FACTS = {};
const MOVE = {};
const UPDATE = {};
const ADD_TAGS = {};
const REMOVE_TAGS = {};

/** Which of `ids` are the viewer's tasks; NOT_FOUND naming the others. */
async function assertFound(context: ViewerContext, statements: Statements, ids: string[], path: string, table: 'tasks' | 'tags' = 'tasks'): Promise<void> {
  const rows = await statements.run(FOUND, context.viewer.id, { table, ids: bound(ids) }, (env, input) => {
    const t = env.alias(input.table as 'tasks');
    return from(env.q, t).select(sql`${rowId(t)}`.as('id')).where(sql<SqlBool>`${rowId(t)} = ANY(${input.ids}::uuid[])`);
  });
  if (rows.length === ids.length) return;
  const known = new Set(rows.map((row) => row.id as string));
  throw notFound(`${table === 'tasks' ? 'Task' : 'Tag'} ${ids.filter((id) => !known.has(id)).join(', ')} (${path})`);
}

/** The tasks as the viewer reads them, after a bulk write, in the order of `ids`. */
async function readBack(context: ViewerContext, ids: string[]): Promise<Row[]> {
  const { reads } = context.services;
  reads.forget(context);
  const rows = await reads.rowsByIds(context, 'tasks', ids);
  return rows.map((row, index) => {
    if (!row) throw notFound(`Task ${ids[index]}`);
    return row;
  });
}

export interface BulkMove {
  listId: string;
  /** Under this task; absent: the list's top level. */
  parentId?: string;
}

/** Moves tasks (with their subtrees) to the end of a list's top level or of a task's subtasks, in the order given. */
export async function moveTasks(context: ViewerContext, ids: string[], destination: BulkMove): Promise<Row[]> {
  if (destination.parentId && ids.includes(destination.parentId)) throw badInput([{ path: 'input.parentId', message: 'a task cannot go under itself or its own subtasks' }]);
  try {
    await withFreshPosition(() =>
      context.services.reads.transaction(async (statements) => {
        const input = { ids: bound(ids), list: bound(destination.listId), ...(destination.parentId ? { parent: bound(destination.parentId) } : {}) };
        const [facts] = await statements.run(MOVE_FACTS, context.viewer.id, input, (env, values) => {
          const t = env.alias('tasks');
          const l = env.alias('lists');
          const s = env.alias('tasks');
          const found = from(env.q, t).select(sql<number>`count(*)::int`.as('n')).where(sql<SqlBool>`${rowId(t)} = ANY(${values.ids}::uuid[])`);
          const list = from(env.q, l).select(sql`${rowId(l)}`.as('id')).where(rowId(l), '=', param(values.list));
          // After every task there, the moved ones included: a new key never equals a key that one of
          // them still holds while the statement moves them (unique indexes check row by row).
          let siblings = from(env.q, s);
          siblings = values.parent ? siblings.where(sql<SqlBool>`${col(s, 'parent_id')} = ${values.parent}::uuid`) : siblings.where(sql<SqlBool>`${col(s, 'list_id')} = ${values.list}::uuid AND ${col(s, 'parent_id')} IS NULL`);
          const selections: AliasedRawBuilder<unknown, string>[] = [sql`(${found})`.as('found'), sql`(${list})`.as('list'), sql`(${siblings.select(sql`max(${col(s, 'position')})`.as('p'))})`.as('last')];
          if (values.parent) {
            const p = env.alias('tasks');
            selections.push(sql`(${from(env.q, p).select(sql`${col(p, 'list_id')}`.as('l')).where(rowId(p), '=', param(values.parent))})`.as('parent_list'));
          }
          return env.q.selectNoFrom(selections as never);
        });
        const { found, list, last, parent_list: parentList } = facts as { found: number; list: string | null; last: string | null; parent_list?: string | null };
        if (found < ids.length) await assertFound(context, statements, ids, 'input.ids');
        if (!list) throw notFound('List (input.listId)');
        if (destination.parentId && !parentList) throw notFound('Task (input.parentId)');
        if (destination.parentId && parentList !== destination.listId) throw badInput([{ path: 'input.listId', message: "a subtask is in its parent's list" }]);
        const positions = generateNKeysBetween(last, null, ids.length);
        const moved = { ids: bound(ids), list: bound(destination.listId), parent: bound(destination.parentId ?? null), positions: bound(positions) };
        const rows = await statements.run(MOVE, context.viewer.id, moved, (env, values) =>
          env.q
            .updateTable('tasks')
            .set({
              list_id: values.list,
              parent_id: sql`${values.parent}::uuid`,
              position: sql`(${values.positions}::text[])[array_position(${values.ids}::uuid[], id)]`,
            } as never)
            .where(sql<SqlBool>`id = ANY(${values.ids}::uuid[])`)
            .where(treeLocked(env))
            .returning('id'),
        );
        if (rows.length < ids.length) await assertFound(context, statements, ids, 'input.ids');
      }),
    );
  } catch (error) {
    throw treeProblem(error, 'input.parentId') ?? error;
  }
  return readBack(context, ids);
}

export interface BulkChanges {
  priority?: Priority;
  /** Replaces an all-day date; null clears the due date of either kind (refused for recurring tasks). */
  dueAt?: Date | null;
  addTagIds?: string[];
  removeTagIds?: string[];
}

/** Sets the same fields on many tasks, and adds or removes tags, in one transaction. */
export async function updateTasks(context: ViewerContext, ids: string[], changes: BulkChanges): Promise<Row[]> {
  const tagsChange = Boolean(changes.addTagIds?.length || changes.removeTagIds?.length);
  try {
    await context.services.reads.transaction(async (statements) => {
      await assertFound(context, statements, ids, 'input.ids');
      if (changes.addTagIds?.length) await assertFound(context, statements, changes.addTagIds, 'input.addTagIds', 'tags');
      const set: { priority?: Bound<string>; dueAt?: Bound<string | null>; bump?: boolean } = {};
      if (changes.priority) set.priority = bound(changes.priority);
      if (changes.dueAt !== undefined) set.dueAt = bound(changes.dueAt?.toISOString() ?? null);
      if (tagsChange) set.bump = true;
      if (set.priority || set.dueAt || set.bump) {
        await statements.run(UPDATE, context.viewer.id, { ids: bound(ids), set }, (env, values) => {
          const columns: Record<string, unknown> = {};
          if (values.set.priority) columns.priority = sql`${values.set.priority}::"Priority"`;
          // One due date of either kind: an instant replaces an all-day date, and null clears both.
          if (values.set.dueAt) Object.assign(columns, { due_at: sql`${values.set.dueAt}::timestamptz`, due_date: null });
          // A change of tags is a change of the task: its version moves (as setTaskTags does).
          if (values.set.bump) columns.version = sql`version + 1`;
          return env.q.updateTable('tasks').set(columns as never).where(sql<SqlBool>`id = ANY(${values.ids}::uuid[])`);
        });
      }
      if (changes.addTagIds?.length) {
        await statements.run(ADD_TAGS, context.viewer.id, { ids: bound(ids), tags: bound(changes.addTagIds) }, (env, values) =>
          env.q
            .insertInto('task_tags')
            .columns(['task_id', 'tag_id', 'user_id'])
            .expression(
              env.q
                .selectFrom('tasks')
                .select(['tasks.id', sql`unnest(${values.tags}::uuid[])`.as('tag_id'), 'tasks.user_id'] as never)
                .where(sql<SqlBool>`tasks.id = ANY(${values.ids}::uuid[])`),
            )
            .onConflict((conflicting) => conflicting.doNothing()),
        );
      }
      if (changes.removeTagIds?.length) {
        await statements.run(REMOVE_TAGS, context.viewer.id, { ids: bound(ids), tags: bound(changes.removeTagIds) }, (env, values) =>
          env.q.deleteFrom('task_tags').where(sql<SqlBool>`task_id = ANY(${values.ids}::uuid[]) AND tag_id = ANY(${values.tags}::uuid[])`),
        );
      }
    });
  } catch (error) {
    const refusal = error as Partial<pg.DatabaseError>;
    if (refusal?.code === '23514' && refusal.constraint === 'tasks_recurrence_needs_due') {
      throw badInput([{ path: 'input.dueAt', message: 'a recurring task needs a due date' }]);
    }
    throw error;
  }
  return readBack(context, ids);
}
