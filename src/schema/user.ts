import { z } from 'zod';
import { isValidTimeZone } from '../tasks/recurrence.js';
import { builder } from './builder.js';
import { unauthenticated } from './errors.js';
import { parseInput } from './validation.js';

export const User = builder.prismaNode('User', {
  description: 'A person with an account. Only the viewer is ever visible.',
  id: { field: 'id', description: 'Global ID.' },
  nullable: true,
  fields: (t) => ({
    email: t.exposeString('email', { nullable: true, description: 'Lower-cased; null for accounts from an external identity provider without one.' }),
    name: t.exposeString('name', { nullable: true, description: 'Display name.' }),
    timeZone: t.exposeString('timeZone', { description: 'IANA time zone (e.g. Europe/Berlin) in which recurring tasks repeat.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the account was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the account last changed.' }),
    tags: t.relation('tags', { description: 'Tags of this user, by name.', query: { orderBy: [{ name: 'asc' }, { id: 'asc' }], take: 1000 } }),
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

builder.queryFields((t) => ({
  me: t.prismaField({
    type: 'User',
    description: 'The signed-in user.',
    resolve: async (query, _root, _args, context) => {
      const user = await context.db.user.findUnique({ ...query, where: { id: context.viewer!.id } });
      // A valid token of a deleted account proves nothing any more.
      if (!user) throw unauthenticated('This account no longer exists');
      return user;
    },
  }),
}));

builder.mutationFields((t) => ({
  updateMe: t.withAuth({ loggedIn: true }).prismaField({
    type: 'User',
    description: 'Changes your name or time zone.',
    args: { input: t.arg({ type: UpdateMeInput, required: true, description: 'See UpdateMeInput.' }) },
    resolve: async (query, _root, args, context) => {
      const input = parseInput(z.object({ name: displayName.nullish(), timeZone: timeZone.nullish() }), args.input);
      const { count } = await context.db.user.updateMany({
        where: { id: context.viewer.id },
        data: { name: input.name === undefined ? undefined : input.name, timeZone: input.timeZone ?? undefined },
      });
      if (count === 0) throw unauthenticated('This account no longer exists');
      return context.db.user.findUniqueOrThrow({ ...query, where: { id: context.viewer.id } });
    },
  }),
}));
