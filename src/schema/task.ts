import { z } from 'zod';
import type { Task as TaskRow } from '../generated/prisma/client.js';
import { completeTask, uncompleteTask } from '../tasks/completion.js';
import { createTask, replaceTaskTags, updateTask } from '../tasks/task-writes.js';
import * as rules from '../tasks/task-rules.js';
import type { Context, ViewerContext } from '../context.js';
import type { ViewerStatements } from '../db/compiled-statements.js';
import { builder } from './builder.js';
import { PriorityEnum } from './enums.js';
import { notFound } from './errors.js';
import { decodeId, decodeIds } from './global-id.js';
import { readTask, readTaskPage, taskListQuery } from './task-connection.js';
import { taskListArgs } from './task-list.js';
import { Tag } from './tag.js';
import { parseInput } from './validation.js';

export const Task = builder.prismaNode('Task', {
  description: 'A to-do item of the viewer.',
  // Select mode: a query reads the columns its fields ask for, not all of them, because Prisma maps
  // every value of every row it reads. The four columns almost every list shows are always read, and
  // their fields resolve without plugin-prisma's per-field selection check, which would run for each
  // of them on every row; every other column is read only when its field is selected.
  select: { id: true, title: true, dueAt: true, completed: true },
  id: { field: 'id', description: 'Global ID.' },
  // node(id:) of a task that is not the viewer's answers null, exactly like a missing one.
  nullable: true,
  fields: (t) => ({
    title: t.string({ description: 'Short text, 1 to 500 characters, not blank.', resolve: (task) => task.title }),
    description: t.exposeString('description', { description: 'Longer notes; empty string when none.' }),
    completed: t.boolean({ description: 'Whether the task is done.', resolve: (task) => task.completed }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true, description: 'When it was completed; null while open.' }),
    priority: t.expose('priority', { type: PriorityEnum, description: 'How much it matters.' }),
    dueAt: t.field({ type: 'DateTime', nullable: true, description: 'When it is due (an instant); null for no due date.', resolve: (task) => task.dueAt }),
    remindAt: t.expose('remindAt', { type: 'DateTime', nullable: true, description: 'When to send a reminder (reminderDue subscription); null for none.' }),
    reminderSentAt: t.expose('reminderSentAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the reminder was delivered; null until then. Changing remindAt re-arms it.',
    }),
    recurrence: t.exposeString('recurrence', {
      nullable: true,
      description: "RFC 5545 RRULE (e.g. FREQ=WEEKLY;BYDAY=MO); completing the task creates the next occurrence in the viewer's time zone.",
    }),
    seriesId: t.exposeID('seriesId', { nullable: true, description: 'Shared by every occurrence of one recurring task.' }),
    version: t.exposeInt('version', { description: 'Bumped on every change; pass it as expectedVersion to updateTask to avoid lost updates.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it last changed.' }),
    overdue: t.boolean({
      description: 'Open and due before now. A completed task is never overdue.',
      resolve: (task) => rules.isOverdue(task, Date.now()),
    }),
    tags: t.field({
      type: [Tag],
      description: 'Tags on this task, by name.',
      select: (_args, _context, nestedSelection) => ({
        taskTags: { select: { tag: nestedSelection(true) }, orderBy: { tag: { name: 'asc' } } },
      }),
      resolve: (task) => task.taskTags.map((link) => link.tag),
    }),
  }),
});

/** One connection type for every task list, as client caches (Apollo, urql) expect. */
export const TaskConnection = builder.connectionObject(
  {
    type: Task,
    name: 'TaskConnection',
    description: 'A page of tasks (Relay cursor connection).',
    fields: (t) => ({
      totalCount: t.int({
        description: 'How many tasks match the filter in all pages (counted only when selected).',
        resolve: (connection) => {
          const { totalCount } = connection as { totalCount?: number | (() => number | Promise<number>) };
          return typeof totalCount === 'function' ? totalCount() : (totalCount ?? 0);
        },
      }),
    }),
  },
  { name: 'TaskEdge', description: 'A task in a page, with its cursor.' },
);

// Task lists hang off tags and users too; defined here, beside the connection type they share.
builder.prismaObjectField('Tag', 'tasks', (t) =>
  t.prismaConnection(
    {
      type: 'Task',
      cursor: 'id',
      description: 'Tasks carrying this tag, filtered and ordered, at most 100 a page.',
      args: taskListArgs(t.arg),
      resolve: (query, tag, args, context) => readTaskPage(context, query, args, tag.id),
      totalCount: (tag, args, context) => context.db.task.count({ where: taskListQuery(args, tag.id).where }),
    },
    TaskConnection,
  ),
);

builder.prismaObjectField('User', 'tasks', (t) =>
  t.prismaConnection(
    {
      type: 'Task',
      cursor: 'id',
      description: 'Tasks of this user, filtered and ordered, at most 100 a page.',
      args: taskListArgs(t.arg),
      resolve: (query, _user, args, context) => readTaskPage(context, query, args),
      totalCount: (_user, args, context) => context.db.task.count({ where: taskListQuery(args).where }),
    },
    TaskConnection,
  ),
);

builder.queryType({
  description: 'Reads. Everything but schema introspection needs a signed-in viewer.',
  authScopes: { loggedIn: true },
});

builder.queryFields((t) => ({
  task: t.prismaField({
    type: 'Task',
    nullable: true,
    description: "One task by global ID; null when it does not exist or is not the viewer's.",
    args: { id: t.arg.id({ required: true, description: 'Global ID of the task.' }) },
    resolve: (query, _root, args, context) => readTask(context, query, decodeId(args.id, 'Task', 'id')),
  }),
  tasks: t.prismaConnection(
    {
      type: 'Task',
      cursor: 'id',
      description: "The viewer's tasks, filtered and ordered, at most 100 a page.",
      args: taskListArgs(t.arg),
      resolve: (query, _parent, args, context) => readTaskPage(context, query, args),
      // Counted only when a client selects totalCount.
      totalCount: (_parent, args, context) => context.db.task.count({ where: taskListQuery(args).where }),
    },
    TaskConnection,
  ),
}));

const CreateTaskInput = builder.inputType('CreateTaskInput', {
  description: 'A new task. Only the title is required.',
  fields: (t) => ({
    title: t.string({ required: true, description: '1 to 500 characters, not blank (trimmed).' }),
    description: t.string({ description: 'Notes, at most 20,000 characters.' }),
    priority: t.field({ type: PriorityEnum, description: 'Default NONE.' }),
    dueAt: t.field({ type: 'DateTime', description: 'Due instant.' }),
    remindAt: t.field({ type: 'DateTime', description: 'Reminder instant.' }),
    recurrence: t.string({ description: 'RRULE; needs dueAt.' }),
    tagIds: t.idList({ description: "Global IDs of the viewer's tags to put on the task." }),
    idempotencyKey: t.string({
      description: 'Any string up to 128 characters, unique per intended task: a retry with the same key returns the first result and creates nothing.',
    }),
  }),
});

const createTaskSchema = z.object({
  title: rules.title,
  description: rules.description.nullish(),
  priority: z.enum(['NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT']).nullish(),
  dueAt: rules.dueAt.nullish(),
  remindAt: rules.remindAt.nullish(),
  recurrence: rules.recurrence.nullish(),
  tagIds: z.array(z.string()).max(50, 'at most 50 tags').nullish(),
  idempotencyKey: rules.idempotencyKey.nullish(),
});

const UpdateTaskInput = builder.inputType('UpdateTaskInput', {
  description: 'Changes to a task: omitted fields stay as they are; null clears a nullable field.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global ID of the task.' }),
    title: t.string({ description: '1 to 500 characters, not blank.' }),
    description: t.string({ description: 'Notes.' }),
    priority: t.field({ type: PriorityEnum, description: 'Priority.' }),
    dueAt: t.field({ type: 'DateTime', description: 'Due instant; null clears it (not allowed while recurring).' }),
    remindAt: t.field({ type: 'DateTime', description: 'Reminder instant; a new value re-arms the reminder, null cancels it.' }),
    recurrence: t.string({ description: 'RRULE; null makes the task one-off.' }),
    tagIds: t.idList({ description: 'Replaces the tags when given.' }),
    expectedVersion: t.int({ description: 'The version you last read: if the task changed since, nothing is written and the answer is CONFLICT.' }),
  }),
});

const updateTaskSchema = z.object({
  id: z.string(),
  title: rules.title.optional(),
  description: rules.description.optional(),
  priority: z.enum(['NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT']).optional(),
  dueAt: rules.dueAt.nullable().optional(),
  remindAt: rules.remindAt.nullable().optional(),
  recurrence: rules.recurrence.nullable().optional(),
  tagIds: z.array(z.string()).max(50, 'at most 50 tags').optional(),
  expectedVersion: z.number().int().min(1).optional(),
});

/** Compiled statements (src/tasks/task-sql.ts) for the signed-in viewer. */
const compiledFor = (context: ViewerContext): ViewerStatements => ({ viewerId: context.viewer.id, run: context.services.runStatement });

/** GraphQL gives null for an explicit null: fields that cannot be cleared treat null as "unchanged". */
function withoutNulls<T extends Record<string, unknown>>(input: T, keep: readonly string[]): T {
  return Object.fromEntries(Object.entries(input).filter(([key, value]) => value !== null || keep.includes(key))) as T;
}

/**
 * A task a write already holds, as a field's selection (`query`) wants it: the row itself when the
 * selection asks only for its columns, read again when it asks for relations (tags). A row not
 * shaped by the selection would otherwise make every field of it load the task on its own.
 */
function asSelected(row: TaskRow, query: { select?: object }, db: Context['db']): TaskRow | Promise<TaskRow>;
function asSelected(row: TaskRow | null, query: { select?: object }, db: Context['db']): TaskRow | Promise<TaskRow> | null;
function asSelected(row: TaskRow | null, query: { select?: object }, db: Context['db']) {
  // Read before the null check: plugin-prisma reports (in development) a query a resolver never looks at.
  const wanted = Object.entries(query.select ?? {});
  if (!row) return null;
  const inRow = wanted.every(([key, value]) => value === true && key in row);
  return inRow ? row : (db.task.findUniqueOrThrow({ ...query, where: { id: row.id } }) as Promise<TaskRow>);
}

const CompleteTaskPayload = builder.objectRef<{ task: TaskRow; nextOccurrence: TaskRow | null }>('CompleteTaskPayload').implement({
  description: 'The completed task and, for a recurring task, the occurrence it created.',
  fields: (t) => ({
    task: t.prismaField({
      type: 'Task',
      description: 'The task, now completed.',
      resolve: (query, payload, _args, context) => asSelected(payload.task, query, context.db),
    }),
    nextOccurrence: t.prismaField({
      type: 'Task',
      nullable: true,
      description: 'The next occurrence of a recurring task; null for a one-off task or when the series has ended (COUNT/UNTIL).',
      resolve: (query, payload, _args, context) => asSelected(payload.nextOccurrence, query, context.db),
    }),
  }),
});

builder.mutationType({
  description: 'Writes. Everything but signUp and signIn needs a signed-in viewer. Invalid input changes nothing.',
  authScopes: { loggedIn: true },
});

builder.mutationFields((t) => ({
  createTask: t.withAuth({ loggedIn: true }).prismaField({
    type: 'Task',
    description: 'Creates a task.',
    args: { input: t.arg({ type: CreateTaskInput, required: true, description: 'See CreateTaskInput.' }) },
    resolve: async (query, _root, args, context) => {
      const input = parseInput(createTaskSchema, args.input);
      const tagIds = input.tagIds ? decodeIds(input.tagIds, 'Tag', 'input.tagIds') : [];
      return createTask(context.db, { ...input, tagIds }, query, compiledFor(context));
    },
  }),
  updateTask: t.withAuth({ loggedIn: true }).prismaField({
    type: 'Task',
    description: 'Changes a task. With expectedVersion, answers CONFLICT instead of overwriting a newer change.',
    args: { input: t.arg({ type: UpdateTaskInput, required: true, description: 'See UpdateTaskInput.' }) },
    resolve: async (query, _root, args, context) => {
      const input = parseInput(updateTaskSchema, withoutNulls(args.input, ['dueAt', 'remindAt', 'recurrence']));
      const id = decodeId(input.id, 'Task', 'input.id');
      const tagIds = input.tagIds ? decodeIds(input.tagIds, 'Tag', 'input.tagIds') : undefined;
      await updateTask(context.db, id, { ...input, tagIds });
      return context.db.task.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
  deleteTask: t.withAuth({ loggedIn: true }).id({
    description: 'Deletes a task (and cancels its reminder); returns its global ID.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the task.' }) },
    resolve: async (_root, args, context) => {
      const id = decodeId(args.id, 'Task', 'id');
      const { count } = await context.db.task.deleteMany({ where: { id } });
      if (count === 0) throw notFound('Task');
      return args.id;
    },
  }),
  completeTask: t.withAuth({ loggedIn: true }).field({
    type: CompleteTaskPayload,
    description: 'Marks a task completed; for a recurring task also creates the next occurrence, once, however often it is called.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the task.' }) },
    resolve: (_root, args, context) => completeTask(context.db, decodeId(args.id, 'Task', 'id'), compiledFor(context)),
  }),
  uncompleteTask: t.withAuth({ loggedIn: true }).prismaField({
    type: 'Task',
    description:
      'Reopens a completed task. If completing it had created a next occurrence that is still open and was never edited, that occurrence is deleted (undo); otherwise it is kept.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the task.' }) },
    resolve: async (query, _root, args, context) => {
      const id = decodeId(args.id, 'Task', 'id');
      await uncompleteTask(context.db, id);
      return context.db.task.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
  setTaskTags: t.withAuth({ loggedIn: true }).prismaField({
    type: 'Task',
    description: 'Replaces the tags of a task.',
    args: {
      taskId: t.arg.id({ required: true, description: 'Global ID of the task.' }),
      tagIds: t.arg.idList({ required: true, description: "Global IDs of the viewer's tags (may be empty)." }),
    },
    resolve: async (query, _root, args, context) => {
      const id = decodeId(args.taskId, 'Task', 'taskId');
      if (args.tagIds.length > 50) throw parseInput(z.array(z.string()).max(50, 'at most 50 tags'), args.tagIds, 'tagIds');
      await replaceTaskTags(context.db, id, decodeIds(args.tagIds, 'Tag', 'tagIds'));
      return context.db.task.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
}));
