import type { ArgBuilder } from '@pothos/core';
import { builder, type SchemaTypes } from './builder.js';
import { OrderDirectionEnum, PriorityEnum, TaskOrderFieldEnum } from './enums.js';

// The arguments every task list takes (Query.tasks, User.tasks, Tag.tasks). What they mean is
// src/reads/task-list.ts.

export const TaskFilterInput = builder.inputType('TaskFilter', {
  description: 'Conditions a task must all meet (AND). Omitted fields do not filter.',
  fields: (t) => ({
    completed: t.boolean({ description: 'Only completed (true) or only open (false) tasks.' }),
    priorityIn: t.field({ type: [PriorityEnum], description: 'Only tasks with one of these priorities.' }),
    tagIds: t.idList({ description: 'Only tasks carrying at least one of these tags.' }),
    dueBefore: t.field({ type: 'DateTime', description: 'Only tasks due strictly before this instant (tasks without a due date are left out).' }),
    dueAfter: t.field({ type: 'DateTime', description: 'Only tasks due at or after this instant (tasks without a due date are left out).' }),
    overdue: t.boolean({ description: 'true: open tasks due before now. false: every other task. A completed task is never overdue.' }),
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
