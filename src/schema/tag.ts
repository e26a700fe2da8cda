import { sql, type SqlBool } from 'kysely';
import { z } from 'zod';
import { violatedUniqueIndex } from '../db/errors.js';
import { ownedByViewer } from '../db/viewer-scope.js';
import { readFrom, readList, readObject } from '../reads/declarations.js';
import type { Row } from '../reads/index.js';
import { bound } from '../reads/parameters.js';
import { completedArg, type CompletedArg } from '../reads/task-list.js';
import { col, from, join, param, rowId, type Alias } from '../reads/sources.js';
import { builder } from './builder.js';
import { conflict, notFound } from './errors.js';
import { decodeId } from './global-id.js';
import { parseInput } from './validation.js';

const tag = readFrom('tags');

export const Tag = builder.objectRef<Row>('Tag');

builder.node(Tag, {
  description: 'A label the viewer puts on tasks. Names are unique per user, ignoring case.',
  ...tag.type,
  id: { resolve: (row) => row.id as string, description: 'Global ID.' },
  loadMany: (ids, context) => context.services.reads.rowsByIds(context, 'tags', ids),
  fields: (t) => ({
    name: t.string({ description: '1 to 64 characters.', ...tag.column('name') }),
    color: t.string({ nullable: true, description: '#rrggbb, or null.', ...tag.column('color') }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', ...tag.column('created_at') }),
    taskCount: t.int({
      description: 'How many tasks carry this tag (only completed or only open ones when `completed` is given).',
      args: { completed: t.arg.boolean({ description: 'Count only completed (true) or only open (false) tasks.' }) },
      ...tag.value<CompletedArg>({
        input: completedArg,
        value: (env, row, input) => {
          const link = env.alias('task_tags');
          const tasks = env.alias('tasks');
          let carried = join(from(env.q, link), tasks, sql<SqlBool>`${rowId(tasks)} = ${col(link, 'task_id')}`)
            .select(sql<number>`count(*)::int`.as('count'))
            .where(col(link, 'tag_id'), '=', rowId(row));
          if (input.completed !== undefined) carried = carried.where(col(tasks, 'completed'), '=', sql.lit(input.completed));
          return carried;
        },
      }),
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

/** A viewer's tags are few; the cap keeps a list of them bounded all the same. */
export const MAX_TAGS = 1_000;
export const byName = (g: Alias<'tags'>) => [col(g, 'name'), rowId(g)];

const duplicateName = (name: string) => conflict(`You already have a tag named "${name}" (names ignore case)`);

builder.queryFields((t) => ({
  tag: t.field({
    type: Tag,
    nullable: true,
    description: "One tag by global ID; null when it does not exist or is not the viewer's.",
    args: { id: t.arg.id({ required: true, description: 'Global ID of the tag.' }) },
    ...readObject({
      table: 'tags',
      input: (args) => ({ id: bound(decodeId(args.id as string, 'Tag', 'id')) }),
      row: (env, _parent, g, input) => from(env.q, g).where(rowId(g), '=', param(input.id)),
    }),
  }),
  tags: t.field({
    type: [Tag],
    description: "The viewer's tags, by name.",
    ...readList({ table: 'tags', rows: (env, _parent, g) => from(env.q, g), order: byName, limit: MAX_TAGS }),
  }),
}));

builder.mutationFields((t) => ({
  createTag: t.withAuth({ loggedIn: true }).field({
    type: Tag,
    description: 'Creates a tag. A name you already use (ignoring case) is a CONFLICT.',
    args: { input: t.arg({ type: CreateTagInput, required: true, description: 'See CreateTagInput.' }) },
    resolve: async (_root, args, context) => {
      const input = parseInput(
        z.object({ name: tagName, color: tagColor.nullish(), idempotencyKey: z.string().min(1).max(128).nullish() }),
        args.input,
      );
      const byKey = async () =>
        input.idempotencyKey ? ((await context.db.tag.findFirst({ where: { idempotencyKey: input.idempotencyKey }, select: { id: true } }))?.id ?? null) : null;
      const readBack = (id: string) => context.services.reads.written(context, 'tags', id);
      const earlier = await byKey();
      if (earlier) return readBack(earlier);
      try {
        const created = await context.db.tag.create({
          data: { ...ownedByViewer, name: input.name, color: input.color ?? null, idempotencyKey: input.idempotencyKey ?? null },
          select: { id: true },
        });
        return readBack(created.id);
      } catch (error) {
        // A retry racing its first attempt may trip either unique index (the key or the same name).
        if (input.idempotencyKey && violatedUniqueIndex(error)) {
          const winner = await byKey();
          if (winner) return readBack(winner);
        }
        if (violatedUniqueIndex(error) === 'tags_user_id_name_key') throw duplicateName(input.name);
        throw error;
      }
    },
  }),
  updateTag: t.withAuth({ loggedIn: true }).field({
    type: Tag,
    description: 'Renames or recolors a tag.',
    args: { input: t.arg({ type: UpdateTagInput, required: true, description: 'See UpdateTagInput.' }) },
    resolve: async (_root, args, context) => {
      const input = parseInput(z.object({ id: z.string(), name: tagName.nullish(), color: tagColor.nullable().optional() }), args.input);
      const id = decodeId(input.id, 'Tag', 'input.id');
      try {
        const { count } = await context.db.tag.updateMany({ where: { id }, data: { name: input.name ?? undefined, color: input.color } });
        if (count === 0) throw notFound('Tag');
      } catch (error) {
        if (violatedUniqueIndex(error) === 'tags_user_id_name_key') throw duplicateName(input.name ?? '');
        throw error;
      }
      return context.services.reads.written(context, 'tags', id);
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
