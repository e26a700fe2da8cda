import { sql, type SqlBool } from 'kysely';
import { z } from 'zod';
import { dayText, localToday } from '../reads/calendar.js';
import { readConnection, readFrom, readList, readObject } from '../reads/declarations.js';
import type { Row } from '../reads/index.js';
import { col, from, rowId } from '../reads/sources.js';
import { isValidTimeZone } from '../tasks/recurrence.js';
import { builder } from './builder.js';
import { byName, MAX_TAGS, Tag } from './tag.js';
import { Task, TaskConnection } from './task.js';
import { taskListArgs } from './task-list.js';
import { unauthenticated } from './errors.js';
import { parseInput } from './validation.js';

const user = readFrom('users');

export const User = builder.objectRef<Row>('User');

builder.node(User, {
  description: 'A person with an account. Only the viewer is ever visible.',
  ...user.type,
  id: { resolve: (row) => row.id as string, description: 'Global ID.' },
  loadMany: (ids, context) => context.services.reads.rowsByIds(context, 'users', ids),
  fields: (t) => ({
    email: t.string({ nullable: true, description: 'Lower-cased; null for accounts from an external identity provider without one.', ...user.column('email') }),
    name: t.string({ nullable: true, description: 'Display name.', ...user.column('name') }),
    timeZone: t.string({ description: 'IANA time zone (e.g. Europe/Berlin) in which recurring tasks repeat.', ...user.column('time_zone') }),
    today: t.field({
      type: 'Date',
      description: "The viewer's date now, in their time zone: what a Today view asks for (dueOn: { to: today }, completed: false).",
      ...user.value({ value: (env, u) => dayText(localToday(env, col(u, 'time_zone'))) }),
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When the account was created.', ...user.column('created_at') }),
    updatedAt: t.field({ type: 'DateTime', description: 'When the account last changed.', ...user.column('updated_at') }),
    tags: t.field({
      type: [Tag],
      description: 'Tags of this user, by name.',
      ...readList({ table: 'tags', rows: (env, owner, g) => from(env.q, g).where(col(g, 'user_id'), '=', rowId(owner!)), order: byName, limit: MAX_TAGS }),
    }),
    tasks: t.connection(
      {
        type: Task,
        description: 'Tasks of this user, filtered and ordered, at most 100 a page.',
        args: taskListArgs(t.arg),
        ...readConnection({ within: (_env, owner, tasks) => sql<SqlBool>`${col(tasks, 'user_id')} = ${rowId(owner!)}` }),
      },
      TaskConnection,
    ),
  }),
});

/** The canonical spelling of an IANA zone ("europe/berlin" -> "Europe/Berlin"). */
export const timeZone = z
  .string()
  .max(64)
  .refine(isValidTimeZone, 'not an IANA time zone (e.g. Europe/Berlin)')
  .transform((zone) => new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone);
export const displayName = z
  .string()
  .transform((value) => value.trim())
  .pipe(z.string().max(200, 'at most 200 characters'))
  .transform((value) => (value === '' ? null : value));

const UpdateMeInput = builder.inputType('UpdateMeInput', {
  description: 'Changes to your account; omitted fields stay.',
  fields: (t) => ({
    name: t.string({ description: 'Display name (empty clears it).' }),
    timeZone: t.string({ description: 'IANA time zone.' }),
  }),
});

/** The viewer's own row: the scope lets no other user's through. */
const viewerRow = readObject({ table: 'users', row: (env, _parent, u) => from(env.q, u) });

builder.queryFields((t) => ({
  me: t.field({
    type: User,
    description: 'The signed-in user.',
    ...viewerRow,
    resolve: async (root, args, context, info) => {
      const row = await (viewerRow.resolve as (...params: unknown[]) => Promise<Row | null>)(root, args, context, info);
      // A valid token of a deleted account proves nothing any more.
      if (!row) throw unauthenticated('This account no longer exists');
      return row;
    },
  }),
}));

builder.mutationFields((t) => ({
  updateMe: t.withAuth({ loggedIn: true }).field({
    type: User,
    description: 'Changes your name or time zone.',
    args: { input: t.arg({ type: UpdateMeInput, required: true, description: 'See UpdateMeInput.' }) },
    resolve: async (_root, args, context) => {
      const input = parseInput(z.object({ name: displayName.nullish(), timeZone: timeZone.nullish() }), args.input);
      const { count } = await context.db.user.updateMany({
        where: { id: context.viewer.id },
        data: { name: input.name === undefined ? undefined : input.name, timeZone: input.timeZone ?? undefined },
      });
      if (count === 0) throw unauthenticated('This account no longer exists');
      return context.services.reads.written(context, 'users', context.viewer.id);
    },
  }),
}));
