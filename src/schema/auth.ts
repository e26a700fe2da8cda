import { encodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import type { Row } from '../reads/index.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { violatedUniqueIndex } from '../db/errors.js';
import { builder } from './builder.js';
import { badInput, conflict, unauthenticated } from './errors.js';
import { displayName, timeZone, User } from './user.js';
import { parseInput } from './validation.js';
import type { Context } from '../context.js';

const PASSWORD_MIN = 8;
// argon2 cost grows with input; a cap keeps a megabyte "password" from being a denial of service.
const PASSWORD_MAX = 256;

const email = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.string().max(254, 'at most 254 characters').email('not an email address'));
const password = z.string().min(PASSWORD_MIN, `at least ${PASSWORD_MIN} characters`).max(PASSWORD_MAX, `at most ${PASSWORD_MAX} characters`);

const AuthPayload = builder.objectRef<{ token: string; user: Row }>('AuthPayload').implement({
  description: 'A bearer token and the user it signs in.',
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Send as `Authorization: Bearer <token>`. HS256 JWT; expires (exp claim).' }),
    user: t.expose('user', { type: User, description: 'The signed-in user.' }),
  }),
});

const SignUpInput = builder.inputType('SignUpInput', {
  description: 'A new account.',
  fields: (t) => ({
    email: t.string({ required: true, description: 'Email address (stored lower-cased).' }),
    password: t.string({ required: true, description: `${PASSWORD_MIN} to ${PASSWORD_MAX} characters.` }),
    name: t.string({ description: 'Display name.' }),
    timeZone: t.string({ description: 'IANA time zone, default UTC.' }),
  }),
});

const SignInInput = builder.inputType('SignInInput', {
  description: 'Credentials.',
  fields: (t) => ({
    email: t.string({ required: true, description: 'Email address.' }),
    password: t.string({ required: true, description: 'Password.' }),
  }),
});

const DeleteAccountInput = builder.inputType('DeleteAccountInput', {
  description: 'Confirmation for deleting your account.',
  fields: (t) => ({
    password: t.string({ description: 'Your password (required for accounts that have one).' }),
  }),
});

async function rateLimit(context: Context, action: string, email: string): Promise<void> {
  await context.services.rateLimiter.check([`${action}:client:${context.clientAddress}`, `${action}:email:${email}`]);
}

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayload,
    skipTypeScopes: true,
    description: 'Creates an account and signs it in. An email already registered is a CONFLICT.',
    args: { input: t.arg({ type: SignUpInput, required: true, description: 'See SignUpInput.' }) },
    resolve: async (_root, args, context) => {
      const input = parseInput(z.object({ email, password, name: displayName.nullish(), timeZone: timeZone.nullish() }), args.input);
      await rateLimit(context, 'signUp', input.email);
      try {
        const user = await context.prisma.user.create({
          data: { email: input.email, passwordHash: await hashPassword(input.password), name: input.name ?? null, timeZone: input.timeZone ?? 'UTC' },
        });
        return { token: await context.services.tokens.issue(user.id), user };
      } catch (error) {
        if (violatedUniqueIndex(error) === 'users_email_key') throw conflict('An account with this email already exists');
        throw error;
      }
    },
  }),
  signIn: t.field({
    type: AuthPayload,
    skipTypeScopes: true,
    description: 'Signs in. A wrong password and an unknown email get the same answer.',
    args: { input: t.arg({ type: SignInInput, required: true, description: 'See SignInInput.' }) },
    resolve: async (_root, args, context) => {
      const input = parseInput(z.object({ email, password: z.string().max(PASSWORD_MAX, `at most ${PASSWORD_MAX} characters`) }), args.input);
      await rateLimit(context, 'signIn', input.email);
      const user = await context.prisma.user.findUnique({ where: { email: input.email } });
      if (!(await verifyPassword(user?.passwordHash, input.password)) || !user) throw unauthenticated('Wrong email or password');
      return { token: await context.services.tokens.issue(user.id), user };
    },
  }),
  deleteAccount: t.withAuth({ loggedIn: true }).id({
    description: 'Deletes your account and everything in it, after checking your password. Returns the global ID of the deleted user.',
    args: { input: t.arg({ type: DeleteAccountInput, required: true, description: 'See DeleteAccountInput.' }) },
    resolve: async (_root, args, context) => {
      const user = await context.db.user.findUnique({ where: { id: context.viewer.id }, select: { id: true, passwordHash: true } });
      if (!user) throw unauthenticated('This account no longer exists');
      if (user.passwordHash !== null) {
        if (!args.input.password) throw badInput([{ path: 'input.password', message: 'required to delete an account that has a password' }]);
        if (!(await verifyPassword(user.passwordHash, args.input.password))) throw unauthenticated('Wrong password');
      }
      await context.db.user.deleteMany({ where: { id: user.id } });
      return encodeGlobalID('User', user.id);
    },
  }),
}));

