import { filter, map, pipe, Repeater } from 'graphql-yoga';
import type { ReminderEvent } from '../events/pubsub.js';
import type { Row } from '../reads/index.js';
import { z } from 'zod';
import { readFrom, readList, readObject } from '../reads/declarations.js';
import { col, from, rowId, type Alias } from '../reads/sources.js';
import { sql, type SqlBool } from 'kysely';
import { addReminder, deleteReminder, MAX_REMINDERS, snoozeReminder } from '../tasks/reminder-writes.js';
import * as rules from '../tasks/task-rules.js';
import { builder } from './builder.js';
import { decodeId } from './global-id.js';
import { Task } from './task.js';
import { parseInput } from './validation.js';

const reminder = readFrom('reminders');

export const Reminder = builder.objectRef<Row>('Reminder');

builder.node(Reminder, {
  description: "A reminder of one of the viewer's tasks: at an instant, or some minutes before the task is due.",
  ...reminder.type,
  id: { resolve: (row) => row.id as string, description: 'Global ID.' },
  loadMany: (ids, context) => context.services.reads.rowsByIds(context, 'reminders', ids),
  fields: (t) => ({
    task: t.field({
      type: Task,
      description: 'The task it reminds of.',
      ...readObject({ table: 'tasks', row: (env, r, task) => from(env.q, task).where(sql<SqlBool>`${rowId(task)} = ${col(r as Alias<'reminders'>, 'task_id')}`) }),
    }),
    at: t.field({ type: 'DateTime', nullable: true, description: 'The instant of an absolute reminder; null for a relative one.', ...reminder.column('at') }),
    minutesBefore: t.int({
      nullable: true,
      description: "How long before the task's due instant a relative reminder fires (an all-day task: before 09:00 of its day in the viewer's zone).",
      ...reminder.column('minutes_before'),
    }),
    fireAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it fires (after a snooze, the snooze); null for a relative reminder of a task without a due date.',
      ...reminder.column('fire_at'),
    }),
    sentAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was delivered (reminderDue); null until then, and again after a snooze.', ...reminder.column('sent_at') }),
  }),
});

builder.objectField(Task, 'reminders', (t) =>
  t.field({
    type: [Reminder],
    description: `Its reminders (at most ${MAX_REMINDERS}), by when they fire. remindAt is the first absolute one.`,
    ...readList({
      table: 'reminders',
      rows: (env, task, r) => from(env.q, r).where(col(r, 'task_id'), '=', rowId(task!)),
      order: (r) => [sql`${col(r as Alias<'reminders'>, 'fire_at')} NULLS LAST`, rowId(r)],
      limit: MAX_REMINDERS,
    }),
  }),
);

const AddReminderInput = builder.inputType('AddReminderInput', {
  description: 'A reminder: give exactly one of at and minutesBefore.',
  fields: (t) => ({
    taskId: t.id({ required: true, description: 'Global ID of the task.' }),
    at: t.field({ type: 'DateTime', description: 'An instant.' }),
    minutesBefore: t.int({ description: "Minutes before the task is due (0 to 40320, four weeks); the task needs a due date." }),
    idempotencyKey: t.string({ description: 'Up to 128 characters: a retry with the same key returns the first reminder and adds nothing.' }),
  }),
});

const addReminderInput = z
  .object({ taskId: z.string(), at: rules.remindAt.nullish(), minutesBefore: z.number().int().min(0).max(40_320).nullish(), idempotencyKey: rules.idempotencyKey.nullish() })
  .refine((input) => (input.at == null) !== (input.minutesBefore == null), { message: 'give exactly one of at and minutesBefore', path: ['minutesBefore'] });

builder.mutationFields((t) => ({
  addReminder: t.withAuth({ loggedIn: true }).field({
    type: Reminder,
    description: `Adds a reminder to a task (at most ${MAX_REMINDERS} each); it is delivered once by reminderDue.`,
    args: { input: t.arg({ type: AddReminderInput, required: true, description: 'See AddReminderInput.' }) },
    resolve: (_root, args, context) => {
      const input = parseInput(addReminderInput, args.input);
      const taskId = decodeId(input.taskId, 'Task', 'input.taskId');
      return addReminder(context, taskId, input.at != null ? { at: input.at } : { minutesBefore: input.minutesBefore! }, input.idempotencyKey ?? undefined);
    },
  }),
  deleteReminder: t.withAuth({ loggedIn: true }).id({
    description: 'Deletes a reminder; returns its global ID.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the reminder.' }) },
    resolve: async (_root, args, context) => {
      await deleteReminder(context, decodeId(args.id, 'Reminder', 'id'));
      return args.id;
    },
  }),
  snoozeReminder: t.withAuth({ loggedIn: true }).field({
    type: Reminder,
    description: 'Delivers the reminder once more at `until` (in the future). Moving the due date moves a relative reminder back to its place.',
    args: {
      id: t.arg.id({ required: true, description: 'Global ID of the reminder.' }),
      until: t.arg({ type: 'DateTime', required: true, description: 'When to remind again.' }),
    },
    resolve: (_root, args, context) => snoozeReminder(context, decodeId(args.id, 'Reminder', 'id'), args.until),
  }),
}));

/** Ends a subscription when the server shuts down, so its stream does not hold the drain open. */
function untilAborted<T>(events: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  const aborted = new Repeater<T>(async (_push, stop) => {
    if (signal.aborted) stop();
    else signal.addEventListener('abort', () => stop(), { once: true });
    await stop;
  });
  return Repeater.race([events, aborted]) as AsyncIterable<T>;
}

builder.subscriptionType({
  description: 'Live events, over Server-Sent Events (or graphql-ws at /graphql). Needs a signed-in viewer.',
  authScopes: { loggedIn: true },
});

builder.subscriptionField('reminderDue', (t) =>
  t.withAuth({ loggedIn: true }).field({
    type: Task,
    description: "Each of the viewer's tasks whose remindAt has come, once, as the reminder worker delivers it.",
    // The topic is the viewer's own id: no event of another user is ever routed here. A task deleted
    // between the worker's claim and this delivery is skipped rather than answered with an error.
    subscribe: (_root, _args, context) =>
      pipe(
        untilAborted(context.services.pubsub.subscribe('reminderDue', context.viewer.id), context.services.shutdownSignal),
        map((event: ReminderEvent) => {
          context.services.reads.forget(context);
          return context.services.reads.rowById(context, 'tasks', event.taskId);
        }),
        filter((row): row is Row => row !== null),
      ),
    resolve: (row) => row as unknown as Row,
  }),
);
