import { z } from 'zod';
import { planQuickAdd, quickAddTask, type QuickAddPlan } from '../quick-add/quick-add-task.js';
import * as rules from '../tasks/task-rules.js';
import { builder } from './builder.js';
import { PriorityEnum } from './enums.js';
import { decodeOptionalId } from './global-id.js';
import { List } from './list.js';
import { Tag } from './tag.js';
import { Task } from './task.js';
import { parseInput } from './validation.js';

// Quick add: one line of text as people type it ("Water plants every monday 9am #Home @garden p2"),
// read in the viewer's time zone. What it understands is src/quick-add/parse-quick-add.ts.

const MAX_TEXT = 500;
const text = z
  .string()
  .max(MAX_TEXT, `at most ${MAX_TEXT} characters`)
  .refine((value) => value.trim().length > 0, 'must not be blank')
  // A title cannot hold NUL; the preview refuses it as the task would.
  .refine((value) => !value.includes('\u0000'), 'must not contain NUL (\\u0000) characters');

const QuickAddPreview = builder.objectRef<QuickAddPlan>('QuickAddPreview').implement({
  description: 'What quickAddTask would create from the text; nothing is written.',
  fields: (t) => ({
    title: t.exposeString('title', { description: 'The text that is not a date, a repeat, a #list, an @tag or a priority.' }),
    dueAt: t.expose('dueAt', { type: 'DateTime', nullable: true, description: 'The due instant, when the text gives a time of day.' }),
    dueDate: t.expose('dueDate', { type: 'Date', nullable: true, description: 'The due day (all-day), when the text gives a day without a time.' }),
    recurrence: t.exposeString('recurrence', { nullable: true, description: 'The RRULE of a repeat phrase ("every monday").' }),
    priority: t.field({ type: PriorityEnum, nullable: true, description: 'p1 (URGENT) .. p4 (LOW), or !urgent .. !low.', resolve: (plan) => plan.priority }),
    list: t.field({
      type: List,
      nullable: true,
      description: 'The list #Name names (ignoring case); null when it names none. A #Name that is no list stays in the title.',
      resolve: (plan, _args, context) => (plan.listId ? context.services.reads.rowById(context, 'lists', plan.listId) : null),
    }),
    tags: t.field({
      type: [Tag],
      description: 'Your tags the text names with @.',
      resolve: async (plan, _args, context) => (await context.services.reads.rowsByIds(context, 'tags', plan.tagIds)).filter((row) => row !== null),
    }),
    newTagNames: t.exposeStringList('newTagNames', { description: '@names that are not yet tags: quickAddTask creates them.' }),
  }),
});

builder.queryField('parseQuickAdd', (t) =>
  t.withAuth({ loggedIn: true }).field({
    type: QuickAddPreview,
    description: 'Reads a line of text as quickAddTask would, in your time zone, without writing anything.',
    args: { text: t.arg.string({ required: true, description: `The line, at most ${MAX_TEXT} characters.` }) },
    resolve: (_root, args, context) => planQuickAdd(context, parseInput(z.object({ text }), args).text),
  }),
);

const QuickAddInput = builder.inputType('QuickAddInput', {
  description: 'A task as one line of text.',
  fields: (t) => ({
    text: t.string({ required: true, description: `At most ${MAX_TEXT} characters, e.g. "Water plants every monday 9am #Home @garden p2".` }),
    listId: t.id({ description: 'The list when the text names none (default: the Inbox).' }),
    idempotencyKey: t.string({ description: 'As for createTask: a retry with the same key returns the first result.' }),
  }),
});

builder.mutationField('quickAddTask', (t) =>
  t.withAuth({ loggedIn: true }).field({
    type: Task,
    description: 'Creates a task from one line of text: dates, repeats, #list, @tags (created when new) and priority are read out of it; the rest is the title.',
    args: { input: t.arg({ type: QuickAddInput, required: true, description: 'See QuickAddInput.' }) },
    resolve: (_root, args, context) => {
      const input = parseInput(z.object({ text, listId: z.string().nullish(), idempotencyKey: rules.idempotencyKey.nullish() }), args.input);
      return quickAddTask(context, { text: input.text, listId: decodeOptionalId(input.listId, 'List', 'input.listId'), idempotencyKey: input.idempotencyKey });
    },
  }),
);
