import { sql, type SqlBool } from 'kysely';
import { lostPositionRace, nextSiblingPosition, treeLocked } from './placement.js';
import { keyBetween } from './positions.js';
import { checkVersion } from './versions.js';
import type { ViewerContext } from '../context.js';
import type { Row } from '../reads/index.js';
import type { Statements } from '../reads/statements.js';
import type { QueryCreator } from '../reads/query-builder.js';
import { viewerZone } from '../reads/calendar.js';
import { bound } from '../reads/parameters.js';
import { boundIds, col, from, idIn, param, rowId, type AnySelect } from '../reads/sources.js';
import { badInput, conflict, notFound } from '../schema/errors.js';
import { nextOccurrence, remainingRule, shiftReminder } from './recurrence.js';

// Completing tasks is one read of the viewer's tasks and one statement that claims them and, for
// recurring ones, creates their next occurrences with their tags and open copies of their subtasks,
// answering both as the viewer reads tasks. The claim is a conditional UPDATE (still open, still the
// version that was read), so of any number of concurrent completions exactly one writes; the others
// read again and answer with what the winner wrote. tasks.generated_from_id is UNIQUE as the
// database's own guarantee of one next occurrence. completeTask needs no transaction: the claim is one
// statement. completeTasks runs the same two statements in a transaction, so that all are claimed or
// none. The statements take arrays, so their number does not grow with the number of tasks.

const MAX_ATTEMPTS = 3;

type TaskRow = Row & { id: string; completed: boolean; dueAt: Date | null; dueDate: string | null; remindAt: Date | null; recurrence: string | null; version: number };
type ReadTask = TaskRow & { timeZone: string; placeAfter: string | null; placeBefore: string | null };

interface NextOccurrence {
  /** One of the two, like the task's own. */
  dueAt: Date | null;
  dueDate: string | null;
  /** How far after this occurrence it is, in milliseconds. */
  shiftMs: number;
  remindAt: Date | null;
  recurrence: string;
  /** Right after the completed task, among its siblings. */
  position: string;
}

export interface Completion {
  task: Row;
  nextOccurrence: Row | null;
}

/** The next occurrence of an open task, or null for a one-off task or a series that has ended. */
function nextOf(task: ReadTask): NextOccurrence | null {
  if (!task.recurrence) return null;
  // An all-day series counts whole days, which UTC has no DST to bend.
  const allDay = task.dueDate ? new Date(`${task.dueDate}T00:00:00Z`) : null;
  const due = task.dueAt ?? allDay;
  if (!due) return null;
  const next = nextOccurrence({ rule: task.recurrence, timeZone: allDay ? 'UTC' : task.timeZone, seriesStart: due, after: due });
  if (!next) return null;
  return {
    dueAt: allDay ? null : next,
    dueDate: allDay ? next.toISOString().slice(0, 10) : null,
    shiftMs: next.getTime() - due.getTime(),
    remindAt: shiftReminder({ remindAt: task.remindAt, dueAt: due, nextDueAt: next }),
    recurrence: remainingRule(task.recurrence),
    position: keyBetween(task.placeAfter, task.placeBefore),
  };
}

// Owners of the statements in the statement cache.
const READ = {};
const CLAIM = {};
const GENERATED = {};

/** The viewer's tasks with the viewer's time zone: recurrence repeats in the viewer's zone. */
async function readForCompletion(context: ViewerContext, statements: Statements, ids: string[]): Promise<ReadTask[]> {
  const { reads } = context.services;
  const rows = await statements.run(READ, context.viewer.id, { ids: boundIds(ids) }, (env, input) => {
    const t = env.alias('tasks');
    return from(env.q, t)
      .select([
        ...reads.model.rowSelections(env, t),
        sql`${viewerZone(env)}`.as('timeZone'),
        sql`${col(t, 'position')}`.as('placeAfter'),
        sql`${nextSiblingPosition(env, t)}`.as('placeBefore'),
      ])
      .where(idIn(rowId(t), input.ids));
  });
  return rows as ReadTask[];
}

/** The occurrences completing `ids` created, by the id they were generated from. */
async function generatedFrom(context: ViewerContext, statements: Statements, ids: string[]): Promise<Map<string, Row>> {
  if (ids.length === 0) return new Map();
  const { reads } = context.services;
  const rows = await statements.run(GENERATED, context.viewer.id, { ids: bound(ids) }, (env, input) => {
    const t = env.alias('tasks');
    return from(env.q, t)
      .select([...reads.model.rowSelections(env, t), sql`${col(t, 'generated_from_id')}`.as('generatedFromId')])
      .where(sql<SqlBool>`${col(t, 'generated_from_id')} = ANY(${input.ids}::uuid[])`);
  });
  return new Map(rows.map(({ generatedFromId, ...row }) => [generatedFromId as string, row]));
}

/**
 * Claims `tasks` if they are still open and unchanged, and then creates each one's next occurrence
 * (with the task's tags as they are now, not as read: a tag deleted since is not copied; and open
 * copies of its subtasks, in their order). An occurrence already generated from a task (kept by
 * uncompleteTask because it was edited) stays, and no second one is made. Answers the claimed rows
 * and the created ones, each marked by `written`.
 */
function claimAndContinue(context: ViewerContext, statements: Statements, tasks: ReadTask[], nexts: Map<string, NextOccurrence>): Promise<Row[]> {
  const { reads } = context.services;
  const following = [...nexts.entries()];
  const input = {
    ids: bound(tasks.map((task) => task.id)),
    versions: bound(tasks.map((task) => task.version)),
    next:
      following.length === 0
        ? null
        : {
            ids: bound(following.map(([id]) => id)),
            dueAts: bound(following.map(([, next]) => next.dueAt?.toISOString() ?? null)),
            dueDates: bound(following.map(([, next]) => next.dueDate)),
            remindAts: bound(following.map(([, next]) => next.remindAt?.toISOString() ?? null)),
            recurrences: bound(following.map(([, next]) => next.recurrence)),
            positions: bound(following.map(([, next]) => next.position)),
          },
  };
  return statements.run(CLAIM, context.viewer.id, input, (env, { ids, versions, next }) => {
    // WITH RECURSIVE from the first item: Kysely marks the whole list by its first, and the subtree
    // copied below is recursive.
    const claimed = env.q.withRecursive('claimed', (db) =>
      db
        .updateTable('tasks')
        .set({ completed: true, completed_at: sql`now()` })
        .where(sql<SqlBool>`(id, version) IN (SELECT * FROM unnest(${ids}::uuid[], ${versions}::int[]))`)
        .where('completed', '=', false)
        .where(treeLocked(env))
        .returningAll(),
    );
    const answer = (source: 'claimed' | 'next') => [
      sql.lit(source === 'claimed' ? 'task' : 'next').as('written'),
      sql.ref(`${source}.generated_from_id`).as('generatedFromId'),
      ...reads.model.rowSelections(env, { table: 'tasks', name: source }),
    ];
    if (!next) return claimed.selectFrom('claimed').select(answer('claimed') as never);
    const at = (values: unknown, type: string) => sql`(${values}::${sql.raw(type)}[])[array_position(${next.ids}::uuid[], id)]`;
    const continued = claimed
      .with('next', (db) =>
        db
          .insertInto('tasks')
          .columns(['user_id', 'title', 'description', 'priority', 'due_at', 'due_date', 'remind_at', 'recurrence', 'series_id', 'generated_from_id', 'list_id', 'parent_id', 'position'])
          .expression(
            db
              .selectFrom('claimed')
              .select([
                'user_id',
                'title',
                'description',
                'priority',
                at(next.dueAts, 'timestamptz').as('due_at'),
                at(next.dueDates, 'date').as('due_date'),
                at(next.remindAts, 'timestamptz').as('remind_at'),
                at(next.recurrences, 'text').as('recurrence'),
                sql`coalesce(series_id, id)`.as('series_id'),
                'id as generated_from_id',
                'list_id',
                'parent_id',
                at(next.positions, 'text').as('position'),
              ] as never)
              .where(sql<SqlBool>`id = ANY(${next.ids}::uuid[])`),
          )
          .onConflict((conflicting) => conflicting.column('generated_from_id').doNothing())
          .returningAll(),
      )
      .with('next_tags', (db) =>
        db
          .insertInto('task_tags')
          .columns(['task_id', 'tag_id', 'user_id'])
          .expression(db.selectFrom('next').innerJoin('task_tags as link', 'link.task_id', 'next.generated_from_id').select(['next.id', 'link.tag_id', 'next.user_id'] as never)),
      )
      // The other reminders come along: a relative one as it is (the database sets when it fires), an
      // absolute one as far after the next due date as it was after this one. (remind_at, the first
      // absolute one, is shifted above and mirrored by the database.)
      .with('next_reminders', (db) =>
        db
          .insertInto('reminders')
          .columns(['user_id', 'task_id', 'at', 'minutes_before'])
          .expression(
            db
              .selectFrom('next')
              .innerJoin('claimed as done', 'done.id' as never, 'next.generated_from_id' as never)
              .innerJoin('reminders as r', (join) => join.onRef('r.task_id' as never, '=', 'done.id' as never).onRef('r.user_id' as never, '=', 'done.user_id' as never))
              .select([
                'next.user_id',
                'next.id',
                sql`r.at + (COALESCE(next.due_at, next.due_date::timestamptz) - COALESCE(done.due_at, done.due_date::timestamptz))`.as('at'),
                'r.minutes_before',
              ] as never)
              .where(sql<SqlBool>`NOT r.is_primary`) as never,
          ),
      )
      // The subtrees under the completed tasks, each row with the id of its copy and its copy's parent.
      .withRecursive('subtree(old_id, new_id, new_parent, list_id)', (db) => {
        const level = (parent: 'next' | 'subtree') =>
          ((db as unknown as QueryCreator).selectFrom('tasks as s') as unknown as AnySelect)
            .innerJoin(parent, parent === 'next' ? 'next.generated_from_id' : 'subtree.old_id', 's.parent_id')
            .select([
              sql`s.id`.as('old_id'),
              sql`gen_random_uuid()`.as('new_id'),
              sql.ref(parent === 'next' ? 'next.id' : 'subtree.new_id').as('new_parent'),
              sql.ref(`${parent}.list_id`).as('list_id'),
            ]);
        return level('next').unionAll(level('subtree')) as never;
      })
      .with('copies', (db) =>
        db
          .insertInto('tasks')
          .columns(['id', 'user_id', 'title', 'description', 'priority', 'list_id', 'parent_id', 'position'])
          .expression(
            db
              .selectFrom('subtree')
              .innerJoin('tasks as s', 's.id', 'subtree.old_id' as never)
              .select(['subtree.new_id', 's.user_id', 's.title', 's.description', 's.priority', 'subtree.list_id', 'subtree.new_parent', 's.position'] as never),
          ),
      );
    return continued
      .selectFrom('claimed')
      .select(answer('claimed') as never)
      .unionAll((db) => db.selectFrom('next').select(answer('next') as never));
  });
}

/** Drops what the completion read beside the task's own fields. */
const answered = ({ timeZone: _zone, placeAfter: _after, placeBefore: _before, ...task }: ReadTask): Row => task;

/**
 * Completes `ids` (all of them, or none when one is missing): each open one is claimed, each recurring
 * one continues; already completed ones are answered as they are. Payloads in the order of `ids`.
 */
async function complete(context: ViewerContext, statements: Statements, ids: string[], path: string, expectedVersion?: number): Promise<Completion[]> {
  for (let attempt = 1; ; attempt++) {
    const tasks = await readForCompletion(context, statements, ids);
    if (tasks.length < ids.length) {
      const known = new Set(tasks.map((task) => task.id));
      throw notFound(ids.length === 1 ? 'Task' : `Task ${ids.filter((id) => !known.has(id)).join(', ')} (${path})`);
    }
    // The claim below is conditioned on the version read here: a change in between reads again.
    checkVersion(expectedVersion, tasks[0]!.version);
    const open = tasks.filter((task) => !task.completed);
    const nexts = new Map<string, NextOccurrence>();
    for (const task of open) {
      const next = nextOf(task);
      if (next) nexts.set(task.id, next);
    }
    let rows: Row[] = [];
    try {
      if (open.length > 0) rows = await claimAndContinue(context, statements, open, nexts);
    } catch (error) {
      // A task moved into a next occurrence's place meanwhile: read the neighbours again.
      if (lostPositionRace(error) && attempt < MAX_ATTEMPTS) continue;
      throw error;
    }
    const written = (kind: string, key: 'id' | 'generatedFromId') =>
      new Map(rows.filter((row) => row.written === kind).map(({ written: _kind, generatedFromId, ...row }) => [(key === 'id' ? row.id : generatedFromId) as string, row]));
    const claimed = written('task', 'id');
    if (claimed.size === open.length) {
      const created = written('next', 'generatedFromId');
      const missing = tasks.filter((task) => task.recurrence && !created.has(task.id)).map((task) => task.id);
      const earlier = await generatedFrom(context, statements, missing);
      const byId = new Map(tasks.map((task) => [task.id, task]));
      return ids.map((id) => ({
        task: claimed.get(id) ?? answered(byId.get(id)!),
        nextOccurrence: created.get(id) ?? earlier.get(id) ?? null,
      }));
    }
    // Completed by someone else, or changed (e.g. its rule) since it was read: read them again.
    if (attempt === MAX_ATTEMPTS) throw conflict('A task changed while it was being completed; try again');
    if (claimed.size > 0) throw new ClaimedSome();
  }
}

/** Some but not all were claimed: the transaction is rolled back and the whole completion runs again. */
class ClaimedSome extends Error {}

export async function completeTask(context: ViewerContext, id: string, expectedVersion?: number): Promise<Completion> {
  // Relations of the rows answered below (their tags) are read afresh, not from before this write.
  context.services.reads.forget(context);
  const [completion] = await complete(context, context.services.reads.statements, [id], 'id', expectedVersion);
  return completion!;
}

/** Completes up to 500 tasks, all or none, in a constant number of statements. */
export async function completeTasks(context: ViewerContext, ids: string[]): Promise<Completion[]> {
  const { reads } = context.services;
  reads.forget(context);
  for (let attempt = 1; ; attempt++) {
    try {
      return await reads.transaction((statements) => complete(context, statements, ids, 'ids'));
    } catch (error) {
      if (!(error instanceof ClaimedSome) || attempt === MAX_ATTEMPTS) throw error instanceof ClaimedSome ? conflict('A task changed while it was being completed; try again') : error;
    }
  }
}

const REOPEN = {};

/**
 * Reopens a task (the database reopens its completed ancestors). Undo: the occurrence its completion
 * created goes too, unless it was completed or edited since. One statement.
 */
export async function uncompleteTask(context: ViewerContext, id: string, expectedVersion?: number): Promise<void> {
  const { reads } = context.services;
  const input = { id: bound(id), ...(expectedVersion !== undefined ? { version: bound(expectedVersion) } : {}) };
  const [row] = await reads.statements.run(REOPEN, context.viewer.id, input, (env, values) => {
    const t = env.alias('tasks');
    const current = from(env.q, t).select(sql`version`.as('v')).where(rowId(t), '=', param(values.id));
    return env.q
      .with('reopened', (db) => {
        let reopen = db.updateTable('tasks').set({ completed: false, completed_at: null }).where('id', '=', values.id as never).where('completed', '=', true).where(treeLocked(env));
        if (values.version) reopen = reopen.where('version', '=', values.version as never);
        return reopen.returning('id');
      })
      .with('undone', (db) =>
        db
          .deleteFrom('tasks')
          .where(sql<SqlBool>`generated_from_id IN (SELECT id FROM reopened)`)
          .where('completed', '=', false)
          .where('version', '=', 1 as never)
          .returning('id'),
      )
      .selectNoFrom([sql`(${current})`.as('version'), sql`(SELECT count(*) FROM reopened)::int`.as('reopened')] as never);
  });
  reads.forget(context);
  const { version, reopened } = row as { version: number | null; reopened: number };
  if (version === null) throw notFound('Task');
  // Reopened, or open already at the expected version (nothing to do); otherwise it moved on.
  if (reopened === 0 && expectedVersion !== undefined) checkVersion(expectedVersion, version);
}

const SKIP = {};


/**
 * Moves a recurring task to its next occurrence without completing it: its due date (of its kind), its
 * reminder with the same lead, and the rest of its series. The write is conditional on the version
 * read, so a concurrent change makes it read again rather than skip from a stale date.
 */
export async function skipOccurrence(context: ViewerContext, id: string): Promise<Row> {
  const { reads } = context.services;
  for (let attempt = 1; ; attempt++) {
    const [task] = await readForCompletion(context, reads.statements, [id]);
    if (!task) throw notFound('Task');
    if (!task.recurrence) throw badInput([{ path: 'id', message: 'only a recurring task has a next occurrence' }]);
    const next = nextOf(task);
    if (!next) throw badInput([{ path: 'id', message: 'the series has ended (COUNT or UNTIL): there is no next occurrence to skip to' }]);
    const input = {
      id: bound(id),
      version: bound(task.version),
      dueAt: bound(next.dueAt?.toISOString() ?? null),
      dueDate: bound(next.dueDate),
      remindAt: bound(next.remindAt?.toISOString() ?? null),
      recurrence: bound(next.recurrence),
    };
    const [row] = await reads.statements.run(SKIP, context.viewer.id, { ...input, shift: bound(next.shiftMs) }, (env, values) =>
      env.q
        // Absolute reminders beside remind_at keep their lead; relative ones follow the due date in the database.
        .with('shifted', (db) =>
          db
            .updateTable('reminders')
            .set({ at: sql`at + ${values.shift}::bigint * interval '1 millisecond'`, sent_at: null } as never)
            .where('task_id', '=', values.id as never)
            .where(sql<SqlBool>`at IS NOT NULL AND NOT is_primary`),
        )
        .updateTable('tasks')
        .set({
          due_at: sql`${values.dueAt}::timestamptz`,
          due_date: sql`${values.dueDate}::date`,
          remind_at: sql`${values.remindAt}::timestamptz`,
          reminder_sent_at: null,
          recurrence: values.recurrence,
        } as never)
        .where('id', '=', values.id as never)
        .where('version', '=', values.version as never)
        .returning(reads.model.rowSelections(env, { table: 'tasks', name: 'tasks' }) as never),
    );
    reads.forget(context);
    if (row) return row;
    if (attempt === MAX_ATTEMPTS) throw conflict('The task changed while its occurrence was being skipped; try again');
  }
}
