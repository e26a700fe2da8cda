import { sql, type SqlBool } from 'kysely';
import { z } from 'zod';
import { checkBulkIds, moveTasks, updateTasks } from '../tasks/bulk-writes.js';
import { completeTask, completeTasks, skipOccurrence, uncompleteTask } from '../tasks/completion.js';
import { createTask, moveTask, replaceTaskTags, updateTask } from '../tasks/task-writes.js';
import { trashTasks } from '../tasks/trash.js';
import * as rules from '../tasks/task-rules.js';
import type { Row } from '../reads/index.js';
import { dayText } from '../reads/calendar.js';
import { readConnection, readFrom, readList, readObject } from '../reads/declarations.js';
import { bound } from '../reads/parameters.js';
import { col, from, join, param, rowId, type Alias } from '../reads/sources.js';
import { completedArg, isOverdue, tasksOf, type CompletedArg } from '../reads/task-list.js';
import type { ViewerContext } from '../context.js';
import { builder } from './builder.js';
import { badInput } from './errors.js';
import { PriorityEnum } from './enums.js';
import { decodeId, decodeIds, decodeOptionalId } from './global-id.js';
import { taskListArgs } from './task-list.js';
import { Tag } from './tag.js';
import { parseInput } from './validation.js';

const task = readFrom('tasks');

/** Subtasks of one task are few; the cap keeps the list bounded all the same. */
const MAX_SUBTASKS = 500;

export const Task = builder.objectRef<Row>('Task');

builder.node(Task, {
  description: 'A to-do item of the viewer.',
  ...task.type,
  id: { resolve: (row) => row.id as string, description: 'Global ID.' },
  // node(id:) of a task that is not the viewer's answers null, exactly like a missing one.
  loadMany: (ids, context) => context.services.reads.rowsByIds(context, 'tasks', ids),
  fields: (t) => ({
    title: t.string({ description: 'Short text, 1 to 500 characters, not blank.', ...task.column('title') }),
    description: t.string({ description: 'Longer notes; empty string when none.', ...task.column('description') }),
    completed: t.boolean({ description: 'Whether the task is done.', ...task.column('completed') }),
    completedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was completed; null while open.', ...task.column('completed_at') }),
    priority: t.field({ type: PriorityEnum, description: 'How much it matters.', ...task.column('priority') }),
    dueAt: t.field({ type: 'DateTime', nullable: true, description: 'When it is due (a timed task); null for an all-day task or none.', ...task.column('due_at') }),
    dueDate: t.field({
      type: 'Date',
      nullable: true,
      description: "The day it is due (an all-day task, overdue from the next day in the viewer's zone); null for a timed task or none.",
      ...task.value({ value: (_env, t) => dayText(col(t, 'due_date')) }),
    }),
    remindAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When to send a reminder (reminderDue subscription); null for none.',
      ...task.column('remind_at'),
    }),
    reminderSentAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the reminder was delivered; null until then. Changing remindAt re-arms it.',
      ...task.column('reminder_sent_at'),
    }),
    recurrence: t.string({
      nullable: true,
      description: "RFC 5545 RRULE (e.g. FREQ=WEEKLY;BYDAY=MO); completing the task creates the next occurrence in the viewer's time zone.",
      ...task.column('recurrence'),
    }),
    seriesId: t.id({ nullable: true, description: 'Shared by every occurrence of one recurring task.', ...task.column('series_id') }),
    version: t.int({ description: 'Bumped on every change; pass it as expectedVersion to updateTask to avoid lost updates.', ...task.column('version') }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', ...task.column('created_at') }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', ...task.column('updated_at') }),
    overdue: t.boolean({ description: 'Open and due before now. A completed task is never overdue.', ...task.value({ value: isOverdue }) }),
    position: t.string({ description: 'Opaque key of its place among its siblings (drag-and-drop order); POSITION orders by it.', ...task.column('position') }),
    parent: t.field({
      type: Task,
      nullable: true,
      description: 'The task this one is a subtask of; null at the top level.',
      ...readObject({ table: 'tasks', row: (env, child, p) => from(env.q, p).where(sql<SqlBool>`${rowId(p)} = ${col(child as Alias<'tasks'>, 'parent_id')}`) }),
    }),
    subtasks: t.field({
      type: [Task],
      description: 'Its direct subtasks, in their order (at most 4 levels in all).',
      ...readList({
        table: 'tasks',
        rows: (env, parent, s) => from(env.q, s).where(col(s, 'parent_id'), '=', rowId(parent!)),
        order: (s) => [col(s, 'position'), rowId(s)],
        limit: MAX_SUBTASKS,
      }),
    }),
    subtaskCount: t.int({
      description: 'How many direct subtasks it has (only completed or only open ones when `completed` is given).',
      args: { completed: t.arg.boolean({ description: 'Count only completed (true) or only open (false) subtasks.' }) },
      ...task.value<CompletedArg>({ input: completedArg, value: (env, parent, input) => tasksOf(env, parent, 'parent_id', input) }),
    }),
    tags: t.field({
      type: [Tag],
      description: 'Tags on this task, by name.',
      ...readList({
        table: 'tags',
        // From the task's links: task_tags is keyed (user_id, task_id, tag_id), so a page's links sit
        // in one or two index pages.
        rows: (env, parent, tag) => {
          const link = env.alias('task_tags');
          return join(from(env.q, link), tag, sql<SqlBool>`${rowId(tag)} = ${col(link, 'tag_id')}`).where(col(link, 'task_id'), '=', rowId(parent!));
        },
        order: (tag) => [col(tag, 'name'), rowId(tag)],
      }),
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
        resolve: (connection) => (connection as unknown as { totalCount: () => Promise<number> }).totalCount(),
      }),
    }),
  },
  { name: 'TaskEdge', description: 'A task in a page, with its cursor.' },
);

// Task lists hang off tags and users too; defined here, beside the connection type they share.
builder.objectField(Tag, 'tasks', (t) =>
  t.connection(
    {
      type: Task,
      description: 'Tasks carrying this tag, filtered and ordered, at most 100 a page.',
      args: taskListArgs(t.arg),
      ...readConnection({
        within: (env, tag, t) => {
          const link = env.alias('task_tags');
          const carries = from(env.q, link).select(sql.lit(1).as('one')).where(col(link, 'task_id'), '=', rowId(t)).where(col(link, 'tag_id'), '=', rowId(tag!));
          return sql<SqlBool>`EXISTS (${carries})`;
        },
      }),
    },
    TaskConnection,
  ),
);

builder.queryType({
  description: 'Reads. Everything but schema introspection needs a signed-in viewer.',
  authScopes: { loggedIn: true },
});

builder.queryFields((t) => ({
  task: t.field({
    type: Task,
    nullable: true,
    description: "One task by global ID; null when it does not exist or is not the viewer's.",
    args: { id: t.arg.id({ required: true, description: 'Global ID of the task.' }) },
    ...readObject({
      table: 'tasks',
      input: (args) => ({ id: bound(decodeId(args.id as string, 'Task', 'id')) }),
      row: (env, _parent, t, input) => from(env.q, t).where(rowId(t), '=', param(input.id)),
    }),
  }),
  tasks: t.connection(
    {
      type: Task,
      description: "The viewer's tasks, filtered and ordered, at most 100 a page.",
      args: taskListArgs(t.arg),
      // The viewer's tasks are all the scope lets through: no further condition.
      ...readConnection({ within: () => null }),
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
    dueAt: t.field({ type: 'DateTime', description: 'Due instant (a timed task).' }),
    dueDate: t.field({ type: 'Date', description: 'Due day (an all-day task); not together with dueAt.' }),
    remindAt: t.field({ type: 'DateTime', description: 'Reminder instant.' }),
    recurrence: t.string({ description: 'RRULE; needs dueAt or dueDate.' }),
    tagIds: t.idList({ description: "Global IDs of the viewer's tags to put on the task." }),
    listId: t.id({ description: "The list to put it in (default: the parent's list, else the Inbox). It goes after the last task there." }),
    parentId: t.id({ description: 'Makes it a subtask of this task, after its last subtask (at most 4 levels in all).' }),
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
  dueDate: rules.dueDate.nullish(),
  remindAt: rules.remindAt.nullish(),
  recurrence: rules.recurrence.nullish(),
  tagIds: z.array(z.string()).max(50, 'at most 50 tags').nullish(),
  listId: z.string().nullish(),
  parentId: z.string().nullish(),
  idempotencyKey: rules.idempotencyKey.nullish(),
});

const UpdateTaskInput = builder.inputType('UpdateTaskInput', {
  description: 'Changes to a task: omitted fields stay as they are; null clears a nullable field.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global ID of the task.' }),
    title: t.string({ description: '1 to 500 characters, not blank.' }),
    description: t.string({ description: 'Notes.' }),
    priority: t.field({ type: PriorityEnum, description: 'Priority.' }),
    dueAt: t.field({ type: 'DateTime', description: 'Due instant; replaces a dueDate; null clears it (not allowed while recurring).' }),
    dueDate: t.field({ type: 'Date', description: 'Due day (all-day); replaces a dueAt; null clears it (not allowed while recurring).' }),
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
  dueDate: rules.dueDate.nullable().optional(),
  remindAt: rules.remindAt.nullable().optional(),
  recurrence: rules.recurrence.nullable().optional(),
  tagIds: z.array(z.string()).max(50, 'at most 50 tags').optional(),
  expectedVersion: rules.expectedVersion,
});

/** GraphQL gives null for an explicit null: fields that cannot be cleared treat null as "unchanged". */
function withoutNulls<T extends Record<string, unknown>>(input: T, keep: readonly string[]): T {
  return Object.fromEntries(Object.entries(input).filter(([key, value]) => value !== null || keep.includes(key))) as T;
}

/** The task as the viewer reads it, after a write. */
const readBack = (context: ViewerContext, id: string) => context.services.reads.written(context, 'tasks', id);

const MoveTaskInput = builder.inputType('MoveTaskInput', {
  description:
    'Where a task goes, with its whole subtree. afterId / beforeId name a sibling in the destination; without them the task goes last. ' +
    "parentId null makes it a top-level task; listId alone moves it to that list's top level.",
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global ID of the task.' }),
    listId: t.id({ description: 'The destination list.' }),
    parentId: t.id({ description: 'The new parent, or null for the top level.' }),
    afterId: t.id({ description: 'The sibling it should follow (not together with beforeId).' }),
    beforeId: t.id({ description: 'The sibling it should precede.' }),
    expectedVersion: t.int({ description: 'The version you last read: if the task changed since, nothing moves and the answer is CONFLICT.' }),
  }),
});

const EXPECTED_VERSION = 'The version you last read: if the task changed since, nothing is written and the answer is CONFLICT.';

/** An optional expectedVersion argument, checked (a positive integer) at `path`. */
function expectedVersionAt(value: number | null | undefined, path: string): number | undefined {
  const parsed = rules.expectedVersion.safeParse(value ?? undefined);
  if (!parsed.success) throw badInput([{ path, message: 'a version is a positive integer' }]);
  return parsed.data;
}

const UpdateTasksInput = builder.inputType('UpdateTasksInput', {
  description: 'The same change to many tasks (1 to 500): all of them change, or none.',
  fields: (t) => ({
    ids: t.idList({ required: true, description: 'Global IDs of the tasks.' }),
    priority: t.field({ type: PriorityEnum, description: 'New priority.' }),
    dueAt: t.field({ type: 'DateTime', description: 'New due instant (replacing an all-day dueDate); null clears the due date (refused if one of the tasks is recurring).' }),
    addTagIds: t.idList({ description: 'Tags to put on every task.' }),
    removeTagIds: t.idList({ description: 'Tags to take off every task.' }),
  }),
});

const MoveTasksInput = builder.inputType('MoveTasksInput', {
  description: "Moves many tasks (1 to 500, with their subtasks) to the end of a list's top level, or under a parent there, in the order given.",
  fields: (t) => ({
    ids: t.idList({ required: true, description: 'Global IDs of the tasks.' }),
    listId: t.id({ required: true, description: 'The destination list.' }),
    parentId: t.id({ description: 'The new parent (in that list); omitted: the top level.' }),
  }),
});

/** Decodes and checks a bulk operation's ids (1 to 500, duplicates once). */
const bulkIds = (ids: readonly string[], path: string) => {
  const decoded = decodeIds(ids, 'Task', path);
  checkBulkIds(decoded, path);
  return decoded;
};

const CompleteTaskPayload = builder.objectRef<{ task: Row; nextOccurrence: Row | null }>('CompleteTaskPayload').implement({
  description: 'The completed task and, for a recurring task, the occurrence it created.',
  fields: (t) => ({
    task: t.field({ type: Task, description: 'The task, now completed.', resolve: (payload) => payload.task }),
    nextOccurrence: t.field({
      type: Task,
      nullable: true,
      description: 'The next occurrence of a recurring task; null for a one-off task or when the series has ended (COUNT/UNTIL).',
      resolve: (payload) => payload.nextOccurrence,
    }),
  }),
});

builder.mutationType({
  description: 'Writes. Everything but signUp and signIn needs a signed-in viewer. Invalid input changes nothing.',
  authScopes: { loggedIn: true },
});

builder.mutationFields((t) => ({
  createTask: t.withAuth({ loggedIn: true }).field({
    type: Task,
    description: 'Creates a task.',
    args: { input: t.arg({ type: CreateTaskInput, required: true, description: 'See CreateTaskInput.' }) },
    resolve: async (_root, args, context) => {
      const input = parseInput(createTaskSchema, args.input);
      const tagIds = input.tagIds ? decodeIds(input.tagIds, 'Tag', 'input.tagIds') : [];
      return createTask(context, {
        ...input,
        tagIds,
        listId: decodeOptionalId(input.listId, 'List', 'input.listId'),
        parentId: decodeOptionalId(input.parentId, 'Task', 'input.parentId'),
      });
    },
  }),
  updateTask: t.withAuth({ loggedIn: true }).field({
    type: Task,
    description: 'Changes a task. With expectedVersion, answers CONFLICT instead of overwriting a newer change.',
    args: { input: t.arg({ type: UpdateTaskInput, required: true, description: 'See UpdateTaskInput.' }) },
    resolve: async (_root, args, context) => {
      const input = parseInput(updateTaskSchema, withoutNulls(args.input, ['dueAt', 'dueDate', 'remindAt', 'recurrence']));
      const id = decodeId(input.id, 'Task', 'input.id');
      const tagIds = input.tagIds ? decodeIds(input.tagIds, 'Tag', 'input.tagIds') : undefined;
      await updateTask(context.db, id, { ...input, tagIds });
      return readBack(context, id);
    },
  }),
  deleteTask: t.withAuth({ loggedIn: true }).id({
    description: 'Moves a task with its subtasks to the trash (restoreTask brings it back); returns its global ID.',
    args: {
      id: t.arg.id({ required: true, description: 'Global ID of the task.' }),
      expectedVersion: t.arg.int({ description: EXPECTED_VERSION }),
    },
    resolve: async (_root, args, context) => {
      const expectedVersion = expectedVersionAt(args.expectedVersion, 'expectedVersion');
      await trashTasks(context, [decodeId(args.id, 'Task', 'id')], { path: 'id', expectedVersion });
      return args.id;
    },
  }),
  skipOccurrence: t.withAuth({ loggedIn: true }).field({
    type: Task,
    description:
      'Moves a recurring task to its next occurrence (due date and reminder) without completing it; BAD_USER_INPUT for a one-off task or when the series has ended.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the task.' }) },
    resolve: (_root, args, context) => skipOccurrence(context, decodeId(args.id, 'Task', 'id')),
  }),
  completeTask: t.withAuth({ loggedIn: true }).field({
    type: CompleteTaskPayload,
    description: 'Marks a task completed; for a recurring task also creates the next occurrence, once, however often it is called.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the task.' }), expectedVersion: t.arg.int({ description: EXPECTED_VERSION }) },
    resolve: (_root, args, context) => completeTask(context, decodeId(args.id, 'Task', 'id'), expectedVersionAt(args.expectedVersion, 'expectedVersion')),
  }),
  uncompleteTask: t.withAuth({ loggedIn: true }).field({
    type: Task,
    description:
      'Reopens a completed task. If completing it had created a next occurrence that is still open and was never edited, that occurrence is deleted (undo); otherwise it is kept.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the task.' }), expectedVersion: t.arg.int({ description: EXPECTED_VERSION }) },
    resolve: async (_root, args, context) => {
      const id = decodeId(args.id, 'Task', 'id');
      await uncompleteTask(context, id, expectedVersionAt(args.expectedVersion, 'expectedVersion'));
      return readBack(context, id);
    },
  }),
  moveTask: t.withAuth({ loggedIn: true }).field({
    type: Task,
    description: 'Moves a task (and its subtasks) to another place: another list, under another parent, or between two siblings.',
    args: { input: t.arg({ type: MoveTaskInput, required: true, description: 'See MoveTaskInput.' }) },
    resolve: (_root, args, context) => {
      const { input } = args;
      const id = decodeId(input.id, 'Task', 'input.id');
      const expectedVersion = expectedVersionAt(input.expectedVersion, 'input.expectedVersion');
      return moveTask(
        context,
        id,
        {
          listId: decodeOptionalId(input.listId, 'List', 'input.listId'),
          parentId: input.parentId === null ? null : decodeOptionalId(input.parentId, 'Task', 'input.parentId'),
          afterId: decodeOptionalId(input.afterId, 'Task', 'input.afterId'),
          beforeId: decodeOptionalId(input.beforeId, 'Task', 'input.beforeId'),
        },
        expectedVersion,
      );
    },
  }),
  completeTasks: t.withAuth({ loggedIn: true }).field({
    type: [CompleteTaskPayload],
    description: 'Completes up to 500 tasks, all or none, each as completeTask does; payloads in the order of ids.',
    args: { ids: t.arg.idList({ required: true, description: 'Global IDs of the tasks.' }) },
    resolve: (_root, args, context) => completeTasks(context, bulkIds(args.ids, 'ids')),
  }),
  updateTasks: t.withAuth({ loggedIn: true }).field({
    type: [Task],
    description: 'Changes up to 500 tasks the same way, all or none.',
    args: { input: t.arg({ type: UpdateTasksInput, required: true, description: 'See UpdateTasksInput.' }) },
    resolve: (_root, args, context) => {
      const input = parseInput(
        z.object({
          ids: z.array(z.string()),
          priority: z.enum(['NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT']).nullish(),
          dueAt: rules.dueAt.nullable().optional(),
          addTagIds: z.array(z.string()).max(50, 'at most 50 tags').nullish(),
          removeTagIds: z.array(z.string()).max(50, 'at most 50 tags').nullish(),
        }),
        args.input,
      );
      return updateTasks(context, bulkIds(input.ids, 'input.ids'), {
        priority: input.priority ?? undefined,
        dueAt: input.dueAt,
        addTagIds: input.addTagIds ? decodeIds(input.addTagIds, 'Tag', 'input.addTagIds') : undefined,
        removeTagIds: input.removeTagIds ? decodeIds(input.removeTagIds, 'Tag', 'input.removeTagIds') : undefined,
      });
    },
  }),
  moveTasks: t.withAuth({ loggedIn: true }).field({
    type: [Task],
    description: 'Moves up to 500 tasks, all or none, to the end of a list (or under a parent), in the order given.',
    args: { input: t.arg({ type: MoveTasksInput, required: true, description: 'See MoveTasksInput.' }) },
    resolve: (_root, args, context) =>
      moveTasks(context, bulkIds(args.input.ids, 'input.ids'), {
        listId: decodeId(args.input.listId, 'List', 'input.listId'),
        parentId: decodeOptionalId(args.input.parentId, 'Task', 'input.parentId'),
      }),
  }),
  deleteTasks: t.withAuth({ loggedIn: true }).field({
    type: ['ID'],
    description: 'Moves up to 500 tasks with their subtasks to the trash, all or none; returns their global IDs.',
    args: { ids: t.arg.idList({ required: true, description: 'Global IDs of the tasks.' }) },
    resolve: async (_root, args, context) => {
      await trashTasks(context, bulkIds(args.ids, 'ids'), { path: 'ids' });
      return args.ids;
    },
  }),
  setTaskTags: t.withAuth({ loggedIn: true }).field({
    type: Task,
    description: 'Replaces the tags of a task.',
    args: {
      taskId: t.arg.id({ required: true, description: 'Global ID of the task.' }),
      tagIds: t.arg.idList({ required: true, description: "Global IDs of the viewer's tags (may be empty)." }),
    },
    resolve: async (_root, args, context) => {
      const id = decodeId(args.taskId, 'Task', 'taskId');
      if (args.tagIds.length > 50) throw parseInput(z.array(z.string()).max(50, 'at most 50 tags'), args.tagIds, 'tagIds');
      await replaceTaskTags(context.db, id, decodeIds(args.tagIds, 'Tag', 'tagIds'));
      return readBack(context, id);
    },
  }),
}));
