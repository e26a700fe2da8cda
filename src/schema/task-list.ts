import type { ArgBuilder } from '@pothos/core';
import { builder, type SchemaTypes } from './builder.js';
import { OrderDirectionEnum, PriorityEnum, TaskOrderFieldEnum } from './enums.js';

// The arguments every task list takes (Query.tasks, User.tasks, Tag.tasks). What they mean is
// src/reads/task-list.ts.

export const DateRangeInput = builder.inputType('DateRange', {
  description: "Calendar days in the viewer's time zone, both ends included; an omitted end is open.",
  fields: (t) => ({
    from: t.field({ type: 'Date', description: 'The first day.' }),
    to: t.field({ type: 'Date', description: 'The last day.' }),
  }),
});

export const TaskFilterInput = builder.inputType('TaskFilter', {
  description: 'Conditions a task must all meet (AND). Omitted fields do not filter.',
  fields: (t) => ({
    completed: t.boolean({ description: 'Only completed (true) or only open (false) tasks.' }),
    priorityIn: t.field({ type: [PriorityEnum], description: 'Only tasks with one of these priorities.' }),
    tagIds: t.idList({ description: 'Only tasks carrying at least one of these tags.' }),
    dueBefore: t.field({
      type: 'DateTime',
      description: 'Only tasks due strictly before this instant; an all-day task counts from the start of its day (tasks without a due date are left out).',
    }),
    dueAfter: t.field({
      type: 'DateTime',
      description: 'Only tasks due at or after this instant; an all-day task counts from the start of its day (tasks without a due date are left out).',
    }),
    dueOn: t.field({
      type: DateRangeInput,
      description: "Only tasks due on these days of the viewer's calendar: all-day tasks by their date, timed tasks by their local date. Today's list: { to: me.today } with completed: false.",
    }),
    overdue: t.boolean({
      description: "true: open tasks past due (a timed task from its instant, an all-day task from the next day in the viewer's zone). false: every other task.",
    }),
    hasDueDate: t.boolean({ description: 'Only tasks with (true) or without (false) a due date.' }),
    recurring: t.boolean({ description: 'Only recurring (true) or one-off (false) tasks.' }),
    search: t.string({ description: 'Case-insensitive substring of the title or the description (at most 200 characters).' }),
    listIds: t.idList({ description: 'Only tasks in one of these lists.' }),
    parentId: t.id({ description: 'Only the subtasks of this task (its direct children).' }),
    topLevel: t.boolean({ description: 'Only tasks without a parent (true) or only subtasks (false).' }),
  }),
});

export const TaskOrderInput = builder.inputType('TaskOrder', {
  description: 'One key of a task ordering; ties are always broken by id.',
  fields: (t) => ({
    field: t.field({ type: TaskOrderFieldEnum, required: true, description: 'The key.' }),
    direction: t.field({ type: OrderDirectionEnum, required: true, description: 'Its direction.' }),
  }),
});

export const taskListArgs = (t: ArgBuilder<SchemaTypes>) => ({
  filter: t({ type: TaskFilterInput, description: 'Which tasks.' }),
  orderBy: t({ type: [TaskOrderInput], description: 'In which order (default: CREATED_AT DESC). Ties are broken by id.' }),
});
