import { sql, type AliasedRawBuilder, type SqlBool } from 'kysely';
import type pg from 'pg';
import type { ViewerContext } from '../context.js';
import type { Row } from '../reads/index.js';
import { bound } from '../reads/parameters.js';
import { col, from, param, rowId } from '../reads/sources.js';
import { badInput, notFound } from '../schema/errors.js';

// Adding, deleting and snoozing a task's reminders. When a reminder fires, the 5-per-task cap and the
// reminders' movement with the due date are the database's (triggers in the reminders migration).

export const MAX_REMINDERS = 5;

const ADD = {};
const DELETE = {};
const SNOOZE = {};

const TASK = {};

/**
 * A reminder at an instant or minutes before the task's due time: a read of the task (and of a
 * reminder added earlier with the same idempotency key, which a retry answers), then the insert.
 */
export async function addReminder(context: ViewerContext, taskId: string, when: { at: Date } | { minutesBefore: number }, idempotencyKey?: string): Promise<Row> {
  const { reads } = context.services;
  const facts = async () => {
    const [row] = await reads.statements.run(TASK, context.viewer.id, { task: bound(taskId), ...(idempotencyKey ? { key: bound(idempotencyKey) } : {}) }, (env, values) => {
      const t = env.alias('tasks');
      const dated = from(env.q, t)
        .select(sql`${col(t, 'due_at')} IS NOT NULL OR ${col(t, 'due_date')} IS NOT NULL`.as('dated'))
        .where(rowId(t), '=', param(values.task));
      const selections: AliasedRawBuilder<unknown, string>[] = [sql`(${dated})`.as('dated')];
      if (values.key) {
        const r = env.alias('reminders');
        selections.push(sql`(${from(env.q, r).select(sql`${rowId(r)}`.as('id')).where(col(r, 'idempotency_key'), '=', param(values.key))})`.as('earlier'));
      }
      return env.q.selectNoFrom(selections as never);
    });
    return row as { dated: boolean | null; earlier?: string | null };
  };
  const { dated, earlier } = await facts();
  if (earlier) return reads.written(context, 'reminders', earlier);
  if (dated === null) throw notFound('Task');
  if ('minutesBefore' in when && !dated) {
    throw badInput([{ path: 'input.minutesBefore', message: 'a relative reminder needs a task with a due date (dueAt or dueDate)' }]);
  }
  const input = {
    task: bound(taskId),
    at: bound('at' in when ? when.at.toISOString() : null),
    minutes: bound('minutesBefore' in when ? when.minutesBefore : null),
    key: bound(idempotencyKey ?? null),
  };
  try {
    const [row] = await reads.statements.run(ADD, context.viewer.id, input, (env, values) =>
      env.q
        .insertInto('reminders')
        .values({ user_id: env.viewer, task_id: values.task, at: sql`${values.at}::timestamptz`, minutes_before: sql`${values.minutes}::int`, idempotency_key: param(values.key) } as never)
        .returning(reads.model.rowSelections(env, { table: 'reminders', name: 'reminders' }) as never),
    );
    return row!;
  } catch (error) {
    const refusal = error as Partial<pg.DatabaseError>;
    if (refusal?.constraint === 'reminders_at_most_5') throw badInput([{ path: 'input.taskId', message: `a task has at most ${MAX_REMINDERS} reminders` }]);
    // The task was deleted since it was read.
    if (refusal?.constraint === 'reminders_task_id_user_id_fkey') throw notFound('Task');
    // A concurrent retry with the same key won: answer its reminder.
    if (refusal?.constraint === 'reminders_user_id_idempotency_key_key') {
      const { earlier: winner } = await facts();
      if (winner) return reads.written(context, 'reminders', winner);
    }
    throw error;
  }
}

export async function deleteReminder(context: ViewerContext, id: string): Promise<void> {
  const rows = await context.services.reads.statements.run(DELETE, context.viewer.id, { id: bound(id) }, (env, values) =>
    env.q.deleteFrom('reminders').where('id', '=', values.id as never).returning('id'),
  );
  if (rows.length === 0) throw notFound('Reminder');
}

/** Fires the reminder (again) at `until`, whatever it said before; the due date moving sets it back. */
export async function snoozeReminder(context: ViewerContext, id: string, until: Date): Promise<Row> {
  if (until.getTime() <= Date.now()) throw badInput([{ path: 'until', message: 'must be in the future' }]);
  const { reads } = context.services;
  const [row] = await reads.statements.run(SNOOZE, context.viewer.id, { id: bound(id), until: bound(until.toISOString()) }, (env, values) =>
    env.q
      .with('snoozed', (db) =>
        db
          .updateTable('reminders')
          .set({ fire_at: sql`${values.until}::timestamptz`, sent_at: null } as never)
          .where('id', '=', values.id as never)
          .returningAll(),
      )
      // The first absolute reminder is the task's remindAt: its reminderSentAt is cleared with it.
      .with('task', (db) =>
        db
          .updateTable('tasks')
          .set({ reminder_sent_at: null } as never)
          .where(sql<SqlBool>`id IN (SELECT task_id FROM snoozed WHERE is_primary)`),
      )
      .selectFrom('snoozed')
      .select(reads.model.rowSelections(env, { table: 'reminders', name: 'snoozed' }) as never),
  );
  if (!row) throw notFound('Reminder');
  return row;
}
