import { z } from 'zod';
import { violatedUniqueIndex } from '../db/errors.js';
import { ownedByViewer } from '../db/viewer-scope.js';
import { builder } from './builder.js';
import { conflict, notFound } from './errors.js';
import { decodeId } from './global-id.js';
import { parseInput } from './validation.js';

export const Tag = builder.prismaNode('Tag', {
  description: 'A label the viewer puts on tasks. Names are unique per user, ignoring case.',
  // Select mode, as Task: tags mostly come nested in task lists, several per task, where every
  // column read is parsed out of JSON and mapped by Prisma; id and name are always read, the rest
  // only when asked for.
  select: { id: true, name: true },
  id: { field: 'id', description: 'Global ID.' },
  nullable: true,
  fields: (t) => ({
    name: t.string({ description: '1 to 64 characters.', resolve: (tag) => tag.name }),
    color: t.exposeString('color', { nullable: true, description: '#rrggbb, or null.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    taskCount: t.loadable({
      type: 'Int',
      description: 'How many tasks carry this tag (only completed or only open ones when `completed` is given).',
      // byPath: one batch per place in the query, so every tag in it shares the same `completed`.
      byPath: true,
      args: { completed: t.arg.boolean({ description: 'Count only completed (true) or only open (false) tasks.' }) },
      load: async (tagIds: string[], context, args) => {
        const groups = await context.db.taskTag.groupBy({
          by: ['tagId'],
          where: { tagId: { in: tagIds }, ...(args.completed == null ? {} : { task: { completed: args.completed } }) },
          _count: { _all: true },
        });
        const counts = new Map(groups.map((group) => [group.tagId, group._count._all]));
        return tagIds.map((id) => counts.get(id) ?? 0);
      },
      resolve: (tag) => tag.id,
    }),
  }),
});

const tagName = z
  .string()
  .transform((value) => value.trim())
  .pipe(z.string().min(1, 'must not be blank').max(64, 'at most 64 characters'));
const tagColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be #rrggbb').transform((value) => value.toLowerCase());

const CreateTagInput = builder.inputType('CreateTagInput', {
  description: 'A new tag.',
  fields: (t) => ({
    name: t.string({ required: true, description: '1 to 64 characters; unique among your tags, ignoring case.' }),
    color: t.string({ description: '#rrggbb.' }),
    idempotencyKey: t.string({ description: 'A retry with the same key returns the first result and creates nothing.' }),
  }),
});

const UpdateTagInput = builder.inputType('UpdateTagInput', {
  description: 'Changes to a tag; omitted fields stay, a null color clears it.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global ID of the tag.' }),
    name: t.string({ description: 'New name.' }),
    color: t.string({ description: 'New color (#rrggbb) or null.' }),
  }),
});

const duplicateName = (name: string) => conflict(`You already have a tag named "${name}" (names ignore case)`);

builder.queryFields((t) => ({
  tag: t.prismaField({
    type: 'Tag',
    nullable: true,
    description: "One tag by global ID; null when it does not exist or is not the viewer's.",
    args: { id: t.arg.id({ required: true, description: 'Global ID of the tag.' }) },
    resolve: (query, _root, args, context) => context.db.tag.findUnique({ ...query, where: { id: decodeId(args.id, 'Tag', 'id') } }),
  }),
  tags: t.prismaField({
    type: ['Tag'],
    description: "The viewer's tags, by name.",
    resolve: (query, _root, _args, context) => context.db.tag.findMany({ ...query, orderBy: [{ name: 'asc' }, { id: 'asc' }], take: 1000 }),
  }),
}));

builder.mutationFields((t) => ({
  createTag: t.withAuth({ loggedIn: true }).prismaField({
    type: 'Tag',
    description: 'Creates a tag. A name you already use (ignoring case) is a CONFLICT.',
    args: { input: t.arg({ type: CreateTagInput, required: true, description: 'See CreateTagInput.' }) },
    resolve: async (query, _root, args, context) => {
      const input = parseInput(
        z.object({ name: tagName, color: tagColor.nullish(), idempotencyKey: z.string().min(1).max(128).nullish() }),
        args.input,
      );
      const byKey = () => (input.idempotencyKey ? context.db.tag.findFirst({ ...query, where: { idempotencyKey: input.idempotencyKey } }) : null);
      const earlier = await byKey();
      if (earlier) return earlier;
      try {
        return await context.db.tag.create({
          ...query,
          data: { ...ownedByViewer, name: input.name, color: input.color ?? null, idempotencyKey: input.idempotencyKey ?? null },
        });
      } catch (error) {
        // A retry racing its first attempt may trip either unique index (the key or the same name).
        if (input.idempotencyKey && violatedUniqueIndex(error)) {
          const winner = await byKey();
          if (winner) return winner;
        }
        if (violatedUniqueIndex(error) === 'tags_user_id_name_key') throw duplicateName(input.name);
        throw error;
      }
    },
  }),
  updateTag: t.withAuth({ loggedIn: true }).prismaField({
    type: 'Tag',
    description: 'Renames or recolors a tag.',
    args: { input: t.arg({ type: UpdateTagInput, required: true, description: 'See UpdateTagInput.' }) },
    resolve: async (query, _root, args, context) => {
      const input = parseInput(z.object({ id: z.string(), name: tagName.nullish(), color: tagColor.nullable().optional() }), args.input);
      const id = decodeId(input.id, 'Tag', 'input.id');
      try {
        const { count } = await context.db.tag.updateMany({ where: { id }, data: { name: input.name ?? undefined, color: input.color } });
        if (count === 0) throw notFound('Tag');
      } catch (error) {
        if (violatedUniqueIndex(error) === 'tags_user_id_name_key') throw duplicateName(input.name ?? '');
        throw error;
      }
      return context.db.tag.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
  deleteTag: t.withAuth({ loggedIn: true }).id({
    description: 'Deletes a tag and takes it off every task; returns its global ID.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the tag.' }) },
    resolve: async (_root, args, context) => {
      const { count } = await context.db.tag.deleteMany({ where: { id: decodeId(args.id, 'Tag', 'id') } });
      if (count === 0) throw notFound('Tag');
      return args.id;
    },
  }),
}));
