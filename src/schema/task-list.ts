import type { TaskFilter, TaskOrder } from '../tasks/task-query.js';
import { builder } from './builder.js';
import { OrderDirectionEnum, PriorityEnum, TaskOrderFieldEnum } from './enums.js';
import { decodeIds } from './global-id.js';
import { badInput } from './errors.js';
import type { ArgBuilder } from '@pothos/core';
import type { SchemaTypes } from './builder.js';

// The arguments every task list takes (Query.tasks, User.tasks, Tag.tasks), decoded in one place.

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

type FilterArg = typeof TaskFilterInput.$inferInput | null | undefined;

export function decodeTaskFilter(filter: FilterArg): TaskFilter | undefined {
  if (!filter) return undefined;
  const search = filter.search?.trim();
  if (search && search.length > 200) throw badInput([{ path: 'filter.search', message: 'at most 200 characters' }]);
  return { ...filter, tagIds: filter.tagIds ? decodeIds(filter.tagIds, 'Tag', 'filter.tagIds') : filter.tagIds };
}

export function decodeTaskOrder(orderBy: readonly (typeof TaskOrderInput.$inferInput)[] | null | undefined): TaskOrder[] | undefined {
  if (orderBy && orderBy.length > 5) throw badInput([{ path: 'orderBy', message: 'at most 5 keys' }]);
  return orderBy?.map((order) => ({ field: order.field, direction: order.direction }));
}
