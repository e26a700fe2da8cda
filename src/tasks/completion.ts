import { sql, type SqlBool } from 'kysely';
import { lostPositionRace, nextSiblingPosition, treeLocked } from './placement.js';
import { keyBetween } from './positions.js';
import type { ViewerContext } from '../context.js';
import type { Row } from '../reads/index.js';
import { bound } from '../reads/parameters.js';
import { col, from, param, rowId } from '../reads/sources.js';
import { conflict, notFound } from '../schema/errors.js';
import { nextOccurrence, remainingRule, shiftReminder } from './recurrence.js';

// Completing a task is one read of the viewer's task and one statement that claims the task and, for
// a recurring task, creates its next occurrence with its tags, answering both as the viewer reads
// tasks. The claim is a conditional UPDATE (still open, still the version that was read), so of any
// number of concurrent completions exactly one writes; the others read again and answer with what
// the winner wrote. tasks.generated_from_id is UNIQUE as the database's own guarantee of one next
// occurrence. As one statement its steps need no transaction: 2 statements instead of BEGIN, claim,
// read, insert, insert tags, COMMIT. Both are built with the read compiler's scoped query builder.

const MAX_ATTEMPTS = 3;

type TaskRow = Row & { id: string; completed: boolean; dueAt: Date | null; remindAt: Date | null; recurrence: string | null; version: number };
type ReadTask = TaskRow & { timeZone: string; placeAfter: string | null; placeBefore: string | null };

interface NextOccurrence {
  dueAt: Date;
  remindAt: Date | null;
  recurrence: string;
  /** Right after the completed task, among its siblings. */
  position: string;
}

/** The next occurrence of an open task, or null for a one-off task or a series that has ended. */
function nextOf(task: ReadTask): NextOccurrence | null {
  if (!task.recurrence || !task.dueAt) return null;
  const dueAt = nextOccurrence({ rule: task.recurrence, timeZone: task.timeZone, seriesStart: task.dueAt, after: task.dueAt });
  if (!dueAt) return null;
  return {
    dueAt,
    remindAt: shiftReminder({ remindAt: task.remindAt, dueAt: task.dueAt, nextDueAt: dueAt }),
    recurrence: remainingRule(task.recurrence),
    position: keyBetween(task.placeAfter, task.placeBefore),
  };
}

// Owners of the three statements in the statement cache.
const READ = {};
const CLAIM = {};
const GENERATED = {};

/** The viewer's task with the viewer's time zone: recurrence repeats in the viewer's zone. */
async function readForCompletion(context: ViewerContext, id: string): Promise<ReadTask | null> {
  const { reads } = context.services;
  const [row] = await reads.statements.run(READ, context.viewer.id, { id: bound(id) }, (env, input) => {
    const t = env.alias('tasks');
    const viewer = env.alias('users');
    const timeZone = from(env.q, viewer).select(sql`${col(viewer, 'time_zone')}`.as('time_zone'));
    return from(env.q, t)
      .select([
        ...reads.model.rowSelections(env, t),
        sql`(${timeZone})`.as('timeZone'),
        sql`${col(t, 'position')}`.as('placeAfter'),
        sql`${nextSiblingPosition(env, t)}`.as('placeBefore'),
      ])
      .where(rowId(t), '=', param(input.id));
  });
  return (row as ReadTask | undefined) ?? null;
}

/** The occurrence completing `id` created, if any. */
async function generatedFrom(context: ViewerContext, id: string): Promise<Row | null> {
  const { reads } = context.services;
  const [row] = await reads.statements.run(GENERATED, context.viewer.id, { id: bound(id) }, (env, input) => {
    const t = env.alias('tasks');
    return from(env.q, t).select(reads.model.rowSelections(env, t)).where(col(t, 'generated_from_id'), '=', param(input.id));
  });
  return row ?? null;
}

/**
 * Claims `task` if it is still open and unchanged, and then creates `next` (with the task's tags as
 * they are now, not as read: a tag deleted since is not copied). An occurrence already generated
 * from this task (kept by uncompleteTask because it was edited) stays, and no second one is made.
 * Answers the claimed row and the created one, if any, each marked by `written`.
 */
function claimAndContinue(context: ViewerContext, task: ReadTask, next: NextOccurrence | null): Promise<Row[]> {
  const { reads } = context.services;
  const input = {
    id: bound(task.id),
    version: bound(task.version),
    next: next && {
      dueAt: bound(next.dueAt.toISOString()),
      remindAt: bound(next.remindAt?.toISOString() ?? null),
      recurrence: bound(next.recurrence),
      position: bound(next.position),
    },
  };
  return reads.statements.run(CLAIM, context.viewer.id, input, (env, { id, version, next: following }) => {
    const claimed = env.q.with('claimed', (db) =>
      db
        .updateTable('tasks')
        .set({ completed: true, completed_at: sql`now()` })
        .where('id', '=', id as never)
        .where('completed', '=', false)
        .where('version', '=', version as never)
        .where(treeLocked(env))
        .returningAll(),
    );
    const answer = (source: 'claimed' | 'next') => [sql.lit(source === 'claimed' ? 'task' : 'next').as('written'), ...reads.model.rowSelections(env, { table: 'tasks', name: source })];
    if (!following) return claimed.selectFrom('claimed').select(answer('claimed') as never);
    const continued = claimed
      .with('next', (db) =>
        db
          .insertInto('tasks')
          .columns(['user_id', 'title', 'description', 'priority', 'due_at', 'remind_at', 'recurrence', 'series_id', 'generated_from_id', 'list_id', 'parent_id', 'position'])
          .expression(
            db.selectFrom('claimed').select([
              'user_id',
              'title',
              'description',
              'priority',
              sql`${following.dueAt}::timestamptz`.as('due_at'),
              sql`${following.remindAt}::timestamptz`.as('remind_at'),
              sql`${following.recurrence}::text`.as('recurrence'),
              sql`coalesce(series_id, id)`.as('series_id'),
              'id as generated_from_id',
              'list_id',
              'parent_id',
              sql`${following.position}::text`.as('position'),
            ] as never),
          )
          .onConflict((conflicting) => conflicting.column('generated_from_id').doNothing())
          .returningAll(),
      )
      .with('next_tags', (db) =>
        db
          .insertInto('task_tags')
          .columns(['task_id', 'tag_id', 'user_id'])
          .expression(db.selectFrom('next').innerJoin('task_tags as link', 'link.task_id', 'next.generated_from_id').select(['next.id', 'link.tag_id', 'next.user_id'] as never)),
      );
    return continued
      .selectFrom('claimed')
      .select(answer('claimed') as never)
      .unionAll((db) => db.selectFrom('next').select(answer('next') as never));
  });
}

export async function completeTask(context: ViewerContext, id: string): Promise<{ task: Row; nextOccurrence: Row | null }> {
  // Relations of the rows answered below (their tags) are read afresh, not from before this write.
  context.services.reads.forget(context);
  for (let attempt = 1; ; attempt++) {
    const task = await readForCompletion(context, id);
    if (!task) throw notFound('Task');
    const { timeZone: _zone, placeAfter: _after, placeBefore: _before, ...answered } = task;
    if (task.completed) return { task: answered, nextOccurrence: await generatedFrom(context, id) };

    const next = nextOf(task);
    let rows: Row[];
    try {
      rows = await claimAndContinue(context, task, next);
    } catch (error) {
      // A task moved into the next occurrence's place meanwhile: read the neighbours again.
      if (lostPositionRace(error) && attempt < MAX_ATTEMPTS) continue;
      throw error;
    }
    const claimed = rows.find((row) => row.written === 'task');
    if (claimed) {
      const created = rows.find((row) => row.written === 'next');
      return { task: claimed, nextOccurrence: created ?? (next ? await generatedFrom(context, id) : null) };
    }
    // Completed by someone else, or changed (e.g. its rule) since it was read: read it again.
    if (attempt === MAX_ATTEMPTS) throw conflict('The task changed while it was being completed; try again');
  }
}

const REOPEN = {};

/**
 * Reopens a task (the database reopens its completed ancestors). Undo: the occurrence its completion
 * created goes too, unless it was completed or edited since. One statement.
 */
export async function uncompleteTask(context: ViewerContext, id: string): Promise<void> {
  const { reads } = context.services;
  const [row] = await reads.statements.run(REOPEN, context.viewer.id, { id: bound(id) }, (env, input) => {
    const t = env.alias('tasks');
    const exists = from(env.q, t).select(sql`true`.as('one')).where(rowId(t), '=', param(input.id));
    return env.q
      .with('reopened', (db) =>
        db.updateTable('tasks').set({ completed: false, completed_at: null }).where('id', '=', input.id as never).where('completed', '=', true).where(treeLocked(env)).returning('id'),
      )
      .with('undone', (db) =>
        db
          .deleteFrom('tasks')
          .where(sql<SqlBool>`generated_from_id IN (SELECT id FROM reopened)`)
          .where('completed', '=', false)
          .where('version', '=', 1 as never)
          .returning('id'),
      )
      .selectNoFrom([sql`(${exists})`.as('found'), sql`(SELECT count(*) FROM undone)::int`.as('undone')] as never);
  });
  reads.forget(context);
  if (!(row as { found: boolean | null } | undefined)?.found) throw notFound('Task');
}
