import { randomUUID } from 'node:crypto';
import type { GraphQLError } from 'graphql';
import { sql, type SqlBool } from 'kysely';
import type pg from 'pg';
import { violatedForeignKey, violatedUniqueIndex } from '../db/errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { ownedByViewer, type ViewerDb } from '../db/viewer-scope.js';
import { badInput, conflict, notFound, unauthenticated } from '../schema/errors.js';
import { crossFieldProblems } from './task-rules.js';
import { forgetAppend, isInboxAppend, placeTask, rememberAppend, treeLocked, withFreshPosition, type TaskPlace, type TaskPlacementArgs } from './placement.js';
import { checkPlacement, needsRebalance, rebalanced } from './positions.js';
import { checkVersion, versionProblem } from './versions.js';
import type { ViewerContext } from '../context.js';
import type { Row } from '../reads/index.js';
import { bound, type Bound } from '../reads/parameters.js';
import type { Priority } from '../reads/task-list.js';
import { col, from, rowId } from '../reads/sources.js';

type Transaction = Parameters<Parameters<ViewerDb['$transaction']>[0]>[0];

export interface NewTask {
  title: string;
  description?: string | null;
  priority?: Priority | null;
  dueAt?: Date | null;
  dueDate?: string | null;
  remindAt?: Date | null;
  recurrence?: string | null;
  tagIds: string[];
  listId?: string;
  parentId?: string;
  idempotencyKey?: string | null;
}

/** Every id in tagIds must be one of the viewer's tags; another user's tag is reported as missing. */
async function assertTagsExist(tx: Transaction, tagIds: string[], path: string): Promise<void> {
  if (tagIds.length === 0) return;
  const found = await tx.tag.findMany({ where: { id: { in: tagIds } }, select: { id: true } });
  if (found.length !== tagIds.length) {
    const known = new Set(found.map((tag) => tag.id));
    throw notFound(`Tag ${tagIds.filter((id) => !known.has(id)).join(', ')} (${path})`);
  }
}

/** The rule of the task tree the database refused (src: the tasks_check_tree trigger), as the client's mistake. */
export function treeProblem(error: unknown, path: string): GraphQLError | null {
  const refusal = error as Partial<pg.DatabaseError>;
  if (refusal?.code !== '23514') return null;
  if (refusal.constraint === 'tasks_tree_depth') return badInput([{ path, message: 'tasks nest at most 4 levels deep' }]);
  if (refusal.constraint === 'tasks_tree_no_cycle') return badInput([{ path, message: 'a task cannot go under itself or its own subtasks' }]);
  return null;
}

/**
 * Creates a task at the end of its list (or under its parent) and answers it as the viewer reads it:
 * one statement reads where it goes (and that every tag is the viewer's), one inserts it with its
 * tags and answers it.
 */
export async function createTask(context: ViewerContext, input: NewTask): Promise<Row> {
  const problems = crossFieldProblems({ dueAt: input.dueAt ?? null, dueDate: input.dueDate ?? null, recurrence: input.recurrence ?? null });
  if (problems.length > 0) throw badInput(problems);
  const { db } = context;
  const { reads } = context.services;

  const read = (id: string) => reads.written(context, 'tasks', id);
  const byKey = () => (input.idempotencyKey ? db.task.findFirst({ where: { idempotencyKey: input.idempotencyKey }, select: { id: true } }) : null);
  const earlier = await byKey();
  if (earlier) return read(earlier.id);

  const id = randomUUID();
  try {
    const placement = { listId: input.listId, parentId: input.parentId, tagIds: input.tagIds };
    return await withFreshPosition(async () => {
      const place = await placeTask(context, placement, 'input');
      // Only the columns given are written; the rest take their defaults ('' / NONE / null).
      const columns: NewTaskColumns = {
        id: bound(id),
        title: bound(input.title),
        list_id: bound(place.listId),
        position: bound(place.position),
        ...(place.parentId ? { parent_id: bound(place.parentId) } : {}),
        ...(input.description != null ? { description: bound(input.description) } : {}),
        ...(input.priority != null ? { priority: bound(input.priority) } : {}),
        ...(input.dueAt != null ? { due_at: bound(input.dueAt.toISOString()) } : {}),
        ...(input.dueDate != null ? { due_date: bound(input.dueDate) } : {}),
        ...(input.remindAt != null ? { remind_at: bound(input.remindAt.toISOString()) } : {}),
        ...(input.recurrence != null ? { recurrence: bound(input.recurrence), series_id: bound(id) } : {}),
        ...(input.idempotencyKey != null ? { idempotency_key: bound(input.idempotencyKey) } : {}),
      };
      const tags = input.tagIds.length > 0 ? bound(input.tagIds) : null;
      let row: Row | undefined;
      try {
        [row] = await reads.statements.run(INSERT_TASK, context.viewer.id, { columns, tags, check: Boolean(place.remembered) }, (env, values) => {
          const answer = (name: string) => reads.model.rowSelections(env, { table: 'tasks', name }) as never;
          const insert = env.q.insertInto('tasks').values(values.columns as never);
          if (values.check) {
            // Does a sibling sort after the new task? Read from before the insert.
            const s = env.alias('tasks');
            const after = from(env.q, s)
              .select(sql`1`.as('one'))
              .where(sql<SqlBool>`${col(s, 'list_id')} = inserted.list_id AND ${col(s, 'parent_id')} IS NULL AND ${col(s, 'position')} > inserted.position`);
            return env.q
              .with('inserted', () => insert.returningAll())
              .selectFrom('inserted')
              .select([...(answer('inserted') as unknown as never[]), sql`EXISTS (${after})`.as('misplaced')] as never);
          }
          if (!values.tags) return insert.returning(answer('tasks'));
          return env.q
            .with('inserted', () => insert.returningAll())
            .with('links', (q) =>
              q
                .insertInto('task_tags')
                .columns(['task_id', 'tag_id', 'user_id'])
                .expression(q.selectFrom('inserted').select(['inserted.id', sql`unnest(${values.tags}::uuid[])`.as('tag_id'), 'inserted.user_id'] as never)),
            )
            .selectFrom('inserted')
            .select(answer('inserted'));
        });
      } catch (error) {
        if (place.remembered) forgetAppend(context);
        throw error;
      }
      reads.forget(context);
      if (!tags) reads.prime(context, 'tasks', 'tags', id, []);
      const { misplaced, ...created } = row as Row & { misplaced?: boolean };
      if (misplaced) {
        // Something sorts after the remembered end: go to the true end, and read it next time.
        forgetAppend(context);
        return moveTask(context, id, {});
      }
      if (isInboxAppend(placement)) rememberAppend(context, place.listId, place.position);
      return created;
    });
  } catch (error) {
    // The same key arriving twice at once: the loser of the race answers with the winner's task.
    if (input.idempotencyKey && violatedUniqueIndex(error) === 'tasks_user_id_idempotency_key_key') {
      const winner = await byKey();
      if (winner) return read(winner.id);
    }
    // The account is gone (its Inbox with it) since this server remembered where its tasks go.
    if (['tasks_user_id_fkey', 'tasks_list_id_user_id_fkey'].includes(violatedForeignKey(error) ?? '')) throw unauthenticated('This account no longer exists');
    // A tag deleted between the check and the insert.
    if (violatedForeignKey(error) === 'task_tags_tag_id_user_id_fkey') throw notFound(`Tag (input.tagIds)`);
    throw treeProblem(error, 'input.parentId') ?? error;
  }
}

type NewTaskColumns = {
  [Column in 'id' | 'title' | 'description' | 'priority' | 'due_at' | 'due_date' | 'remind_at' | 'recurrence' | 'series_id' | 'idempotency_key' | 'list_id' | 'parent_id' | 'position']?: Bound<string>;
};

/** The statement cache's key for createTask's insert. */
const INSERT_TASK = {};
const MOVE_TASK = {};

const REBALANCING = {};
const SIBLINGS = {};
const PARK = {};
const SPREAD = {};

/**
 * Gives the destination's siblings and the moved task evenly spaced keys in the order the move asks
 * for (the moved task's long key says where it goes), and sets `place.position` to the moved task's
 * new key. The siblings' keys first go out of the way (each gets a suffix no key has), since
 * PostgreSQL checks the unique position index row by row.
 */
async function rebalanceSiblings(context: ViewerContext, id: string, place: TaskPlace): Promise<void> {
  await context.services.reads.transaction(async (statements) => {
    // New keys in the same order are no change a client sees: versions stay (the version trigger).
    await statements.run(REBALANCING, context.viewer.id, {}, (env) => env.q.selectNoFrom(sql`set_config('tasks.rebalancing', 'on', true)`.as('on') as never));
    const group = { list: bound(place.listId), moved: bound(id), ...(place.parentId ? { parent: bound(place.parentId) } : {}) };
    const siblings = (await statements.run(SIBLINGS, context.viewer.id, group, (env, values) => {
      const s = env.alias('tasks');
      const rows = from(env.q, s)
        .select([sql`${rowId(s)}`.as('id'), sql`${col(s, 'position')}`.as('position')])
        .where(sql<SqlBool>`${rowId(s)} <> ${values.moved}::uuid`)
        .where(treeLocked(env));
      return values.parent
        ? rows.where(sql<SqlBool>`${col(s, 'parent_id')} = ${values.parent}::uuid`)
        : rows.where(sql<SqlBool>`${col(s, 'list_id')} = ${values.list}::uuid AND ${col(s, 'parent_id')} IS NULL`);
    })) as { id: string; position: string }[];
    const keys = rebalanced([...siblings, { id, position: place.position }]);
    const others = keys.filter((row) => row.id !== id);
    const ids = bound(others.map((row) => row.id));
    await statements.run(PARK, context.viewer.id, { ids }, (env, values) =>
      env.q.updateTable('tasks').set({ position: sql`position || '~'` } as never).where(sql<SqlBool>`id = ANY(${values.ids}::uuid[])`),
    );
    await statements.run(SPREAD, context.viewer.id, { ids, positions: bound(others.map((row) => row.position)) }, (env, values) =>
      env.q
        .updateTable('tasks')
        .set({ position: sql`(${values.positions}::text[])[array_position(${values.ids}::uuid[], id)]` } as never)
        .where(sql<SqlBool>`id = ANY(${values.ids}::uuid[])`),
    );
    place.position = keys.find((row) => row.id === id)!.position;
  });
}

/** Moves a task (its subtasks follow: the database carries them along) and answers it. */
export async function moveTask(context: ViewerContext, id: string, placement: Omit<TaskPlacementArgs, 'id'>, expectedVersion?: number): Promise<Row> {
  const { reads } = context.services;
  checkPlacement(id, placement, 'input');
  if (placement.parentId === id) throw badInput([{ path: 'input.parentId', message: 'a task cannot go under itself or its own subtasks' }]);
  try {
    return await withFreshPosition(async () => {
      const place = await placeTask(context, { id, ...placement }, 'input');
      if (expectedVersion !== undefined) checkVersion(expectedVersion, place.version!);
      if (needsRebalance(place.position)) await rebalanceSiblings(context, id, place);
      const input = { id: bound(id), list: bound(place.listId), parent: bound(place.parentId), position: bound(place.position), ...(expectedVersion !== undefined ? { version: bound(expectedVersion) } : {}) };
      const [row] = await reads.statements.run(MOVE_TASK, context.viewer.id, input, (env, values) => {
        let move = env.q
          .updateTable('tasks')
          .set({ list_id: values.list, parent_id: values.parent, position: values.position } as never)
          .where('id', '=', values.id as never)
          .where(treeLocked(env));
        if (values.version) move = move.where('version', '=', values.version as never);
        return move.returning(reads.model.rowSelections(env, { table: 'tasks', name: 'tasks' }) as never);
      });
      reads.forget(context);
      if (!row) throw await versionProblem(context, id, expectedVersion);
      return row;
    });
  } catch (error) {
    throw treeProblem(error, placement.parentId ? 'input.parentId' : 'input') ?? error;
  }
}

export interface TaskChanges {
  title?: string;
  description?: string;
  priority?: Priority;
  dueAt?: Date | null;
  /** YYYY-MM-DD. Setting one kind of due date clears the other. */
  dueDate?: string | null;
  remindAt?: Date | null;
  recurrence?: string | null;
  tagIds?: string[];
  expectedVersion?: number;
}

export async function updateTask(db: ViewerDb, id: string, changes: TaskChanges): Promise<void> {
  await db.$transaction(async (tx) => {
    const current = await tx.task.findUnique({
      where: { id },
      select: { dueAt: true, dueDate: true, remindAt: true, recurrence: true, seriesId: true, version: true },
    });
    if (!current) throw notFound('Task');
    checkVersion(changes.expectedVersion, current.version);
    // A new day replaces an instant and the other way round, as when a user picks "tomorrow" for a task due at 5 pm.
    const dueAtChanges = changes.dueAt !== undefined || changes.dueDate != null;
    const dueDateChanges = changes.dueDate !== undefined || changes.dueAt != null;
    const after = {
      dueAt: changes.dueAt !== undefined ? changes.dueAt : dueAtChanges ? null : current.dueAt,
      dueDate: changes.dueDate !== undefined ? changes.dueDate : dueDateChanges ? null : (current.dueDate?.toISOString().slice(0, 10) ?? null),
      recurrence: changes.recurrence !== undefined ? changes.recurrence : current.recurrence,
    };
    const problems = crossFieldProblems(after);
    if (problems.length > 0) throw badInput(problems);
    if (changes.tagIds) await assertTagsExist(tx, changes.tagIds, 'input.tagIds');

    const remindAtChanged = changes.remindAt !== undefined && changes.remindAt?.getTime() !== current.remindAt?.getTime();
    // The version in the WHERE makes the read-check-write atomic: a write that slipped in between
    // leaves nothing to update, and that is a conflict.
    const { count } = await tx.task.updateMany({
      where: { id, version: current.version },
      data: {
        title: changes.title,
        description: changes.description,
        priority: changes.priority,
        dueAt: dueAtChanges ? after.dueAt : undefined,
        dueDate: dueDateChanges ? (after.dueDate === null ? null : new Date(`${after.dueDate}T00:00:00Z`)) : undefined,
        remindAt: changes.remindAt,
        recurrence: changes.recurrence,
        seriesId: after.recurrence && !current.seriesId ? id : undefined,
        reminderSentAt: remindAtChanged ? null : undefined,
        version: changes.tagIds ? { increment: 1 } : undefined,
      },
    });
    if (count === 0) throw conflict('Task changed while this update was being made; read it again and retry');
    if (changes.tagIds) await writeTags(tx, id, changes.tagIds);
  });
}

async function writeTags(tx: Transaction, taskId: string, tagIds: string[]): Promise<void> {
  await tx.taskTag.deleteMany({ where: { taskId, tagId: { notIn: tagIds } } });
  await tx.taskTag.createMany({ data: tagIds.map((tagId) => ({ ...ownedByViewer, taskId, tagId })), skipDuplicates: true });
}


export async function replaceTaskTags(db: ViewerDb, taskId: string, tagIds: string[]): Promise<void> {
  await db.$transaction(async (tx) => {
    // Bumping the version doubles as the existence check and orders concurrent tag changes.
    const { count } = await tx.task.updateMany({ where: { id: taskId }, data: { version: { increment: 1 } } });
    if (count === 0) throw notFound('Task');
    await assertTagsExist(tx, tagIds, 'tagIds');
    await writeTags(tx, taskId, tagIds);
  });
}
