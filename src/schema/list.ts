import { sql, type SqlBool } from 'kysely';
import { z } from 'zod';
import { archiveList, changeList, createList, deleteList, moveList } from '../lists/list-writes.js';
import { readConnection, readFrom, readList, readObject } from '../reads/declarations.js';
import type { Row } from '../reads/index.js';
import { bound } from '../reads/parameters.js';
import { col, from, param, rowId, type Alias, type AnySelect, type ReadEnv } from '../reads/sources.js';
import { completedArg, POSITION_ORDER, tasksOf, type CompletedArg } from '../reads/task-list.js';
import { checkPlacement } from '../tasks/positions.js';
import * as rules from '../tasks/task-rules.js';
import type { ArgBuilder } from '@pothos/core';
import { builder, type SchemaTypes } from './builder.js';
import { decodeId, decodeOptionalId } from './global-id.js';
import { Task, TaskConnection } from './task.js';
import { taskListArgs } from './task-list.js';
import { User } from './user.js';
import { parseInput } from './validation.js';

const list = readFrom('lists');

export const List = builder.objectRef<Row>('List');

/** A viewer's lists are few; the cap keeps a list of them bounded all the same. */
export const MAX_LISTS = 1_000;

builder.node(List, {
  description: 'A list of tasks (a project). Every user has one Inbox, which cannot be archived or deleted.',
  ...list.type,
  id: { resolve: (row) => row.id as string, description: 'Global ID.' },
  loadMany: (ids, context) => context.services.reads.rowsByIds(context, 'lists', ids),
  fields: (t) => ({
    name: t.string({ description: '1 to 100 characters.', ...list.column('name') }),
    color: t.string({ nullable: true, description: '#rrggbb, or null.', ...list.column('color') }),
    isInbox: t.boolean({ description: 'Whether this is the Inbox, where tasks created without a list go.', ...list.column('is_inbox') }),
    archived: t.boolean({ description: 'Archived lists are left out of `lists` unless asked for.', ...list.value({ value: (_env, l) => sql`(${col(l, 'archived_at')} IS NOT NULL)` }) }),
    archivedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was archived; null while active.', ...list.column('archived_at') }),
    position: t.string({ description: 'Opaque key of its place among your lists; lists are read in this order.', ...list.column('position') }),
    version: t.int({ description: 'Bumped on every change; pass it as expectedVersion to updateList.', ...list.column('version') }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', ...list.column('created_at') }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', ...list.column('updated_at') }),
    taskCount: t.int({
      description: 'How many tasks (subtasks included) the list holds; only completed or only open ones when `completed` is given.',
      args: { completed: t.arg.boolean({ description: 'Count only completed (true) or only open (false) tasks.' }) },
      ...list.value<CompletedArg>({ input: completedArg, value: (env, l, input) => tasksOf(env, l, 'list_id', input) }),
    }),
    tasks: t.connection(
      {
        type: Task,
        description: 'Tasks in this list (subtasks included; filter with topLevel or parentId), by POSITION unless orderBy says otherwise.',
        args: taskListArgs(t.arg),
        ...readConnection({ within: (_env, l, tasks) => sql<SqlBool>`${col(tasks, 'list_id')} = ${rowId(l!)}`, defaultOrder: POSITION_ORDER }),
      },
      TaskConnection,
    ),
  }),
});

export const byPosition = (l: Alias<'lists'>) => [col(l, 'position'), rowId(l)];

/** The viewer's lists, active ones by default; `archived: null` reads all of them. */
const listsRead = readList<'lists', { archived?: boolean }>({
  table: 'lists',
  input: (args) => (args.archived == null ? {} : { archived: args.archived as boolean }),
  rows: (env: ReadEnv, _parent: Alias | null, l: Alias<'lists'>, input): AnySelect => {
    const rows = from(env.q, l);
    if (input.archived === undefined) return rows;
    return rows.where(input.archived ? sql<SqlBool>`${col(l, 'archived_at')} IS NOT NULL` : sql<SqlBool>`${col(l, 'archived_at')} IS NULL`);
  },
  order: byPosition,
  limit: MAX_LISTS,
});
const inboxRead = readObject({ table: 'lists', row: (env, _parent, l) => from(env.q, l).where(col(l, 'is_inbox'), '=', sql.lit(true)) });
const archivedArg = (arg: ArgBuilder<SchemaTypes>) => ({
  archived: arg.boolean({ defaultValue: false, description: 'false: active lists (default); true: archived ones; null: all.' }),
});

builder.queryFields((t) => ({
  list: t.field({
    type: List,
    nullable: true,
    description: "One list by global ID; null when it does not exist or is not the viewer's.",
    args: { id: t.arg.id({ required: true, description: 'Global ID of the list.' }) },
    ...readObject({
      table: 'lists',
      input: (args) => ({ id: bound(decodeId(args.id as string, 'List', 'id')) }),
      row: (env, _parent, l, input) => from(env.q, l).where(rowId(l), '=', param(input.id)),
    }),
  }),
  lists: t.field({ type: [List], description: "The viewer's lists, in their order.", args: archivedArg(t.arg), ...listsRead }),
  inbox: t.field({ type: List, description: "The viewer's Inbox.", ...inboxRead }),
}));

builder.objectFields(User, (t) => ({
  inbox: t.field({ type: List, description: "This user's Inbox.", ...inboxRead }),
  lists: t.field({ type: [List], description: "This user's lists, in their order.", args: archivedArg(t.arg), ...listsRead }),
}));

builder.objectFields(Task, (t) => ({
  list: t.field({
    type: List,
    description: 'The list the task is in (a subtask is always in its parent\'s list).',
    ...readObject({ table: 'lists', row: (env, task, l) => from(env.q, l).where(sql<SqlBool>`${rowId(l)} = ${col(task as Alias<'tasks'>, 'list_id')}`) }),
  }),
}));

const listName = z
  .string()
  .transform((value) => value.trim())
  .pipe(z.string().min(1, 'must not be blank').max(100, 'at most 100 characters'));
const listColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be #rrggbb').transform((value) => value.toLowerCase());

const CreateListInput = builder.inputType('CreateListInput', {
  description: 'A new list; it goes after your last list.',
  fields: (t) => ({
    name: t.string({ required: true, description: '1 to 100 characters.' }),
    color: t.string({ description: '#rrggbb.' }),
    idempotencyKey: t.string({ description: 'A retry with the same key returns the first result and creates nothing.' }),
  }),
});

const UpdateListInput = builder.inputType('UpdateListInput', {
  description: 'Changes to a list; omitted fields stay, a null color clears it.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global ID of the list.' }),
    name: t.string({ description: 'New name.' }),
    color: t.string({ description: 'New color (#rrggbb) or null.' }),
    expectedVersion: t.int({ description: 'The version you last read: if the list changed since, nothing is written and the answer is CONFLICT.' }),
  }),
});

const MoveListInput = builder.inputType('MoveListInput', {
  description: 'Where a list goes: right after afterId, or right before beforeId (one of the two), or last.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global ID of the list.' }),
    afterId: t.id({ description: 'The list it should follow.' }),
    beforeId: t.id({ description: 'The list it should precede.' }),
  }),
});

const listId = (id: string, path: string) => decodeId(id, 'List', path);

builder.mutationFields((t) => ({
  createList: t.withAuth({ loggedIn: true }).field({
    type: List,
    description: 'Creates a list after your last one.',
    args: { input: t.arg({ type: CreateListInput, required: true, description: 'See CreateListInput.' }) },
    resolve: (_root, args, context) =>
      createList(context, parseInput(z.object({ name: listName, color: listColor.nullish(), idempotencyKey: rules.idempotencyKey.nullish() }), args.input)),
  }),
  updateList: t.withAuth({ loggedIn: true }).field({
    type: List,
    description: 'Renames or recolors a list. With expectedVersion, answers CONFLICT instead of overwriting a newer change.',
    args: { input: t.arg({ type: UpdateListInput, required: true, description: 'See UpdateListInput.' }) },
    resolve: (_root, args, context) => {
      const input = parseInput(
        z.object({ id: z.string(), name: listName.nullish(), color: listColor.nullable().optional(), expectedVersion: z.number().int().min(1).nullish() }),
        args.input,
      );
      return changeList(context, listId(input.id, 'input.id'), { name: input.name ?? undefined, color: input.color, expectedVersion: input.expectedVersion ?? undefined });
    },
  }),
  archiveList: t.withAuth({ loggedIn: true }).field({
    type: List,
    description: 'Archives a list (its tasks stay in it). The Inbox cannot be archived.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the list.' }) },
    resolve: (_root, args, context) => archiveList(context, listId(args.id, 'id'), true),
  }),
  unarchiveList: t.withAuth({ loggedIn: true }).field({
    type: List,
    description: 'Brings an archived list back.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the list.' }) },
    resolve: (_root, args, context) => archiveList(context, listId(args.id, 'id'), false),
  }),
  deleteList: t.withAuth({ loggedIn: true }).id({
    description: 'Deletes a list; its tasks go to the trash (restored, they come back in the Inbox). Returns its global ID. The Inbox cannot be deleted.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the list.' }) },
    resolve: async (_root, args, context) => {
      await deleteList(context, listId(args.id, 'id'));
      return args.id;
    },
  }),
  moveList: t.withAuth({ loggedIn: true }).field({
    type: List,
    description: 'Moves a list among your lists.',
    args: { input: t.arg({ type: MoveListInput, required: true, description: 'See MoveListInput.' }) },
    resolve: (_root, args, context) => {
      const id = listId(args.input.id, 'input.id');
      const placement = {
        afterId: decodeOptionalId(args.input.afterId, 'List', 'input.afterId') ?? null,
        beforeId: decodeOptionalId(args.input.beforeId, 'List', 'input.beforeId') ?? null,
      };
      checkPlacement(id, placement, 'input');
      return moveList(context, id, placement);
    },
  }),
}));
