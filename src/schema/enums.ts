import { builder } from './builder.js';

export const PriorityEnum = builder.enumType('Priority', {
  description: 'How much a task matters; orders by rank NONE < LOW < MEDIUM < HIGH < URGENT.',
  values: {
    NONE: { description: 'No priority set.' },
    LOW: { description: 'Can wait.' },
    MEDIUM: { description: 'Should be done soon.' },
    HIGH: { description: 'Important.' },
    URGENT: { description: 'Do it now.' },
  } as const,
});

export const TaskOrderFieldEnum = builder.enumType('TaskOrderField', {
  description: 'A key tasks can be ordered by.',
  values: {
    DUE_AT: { description: 'Due date: an all-day task before the timed tasks of its day; tasks without one come last in both directions.' },
    PRIORITY: { description: 'Priority rank (NONE lowest, URGENT highest).' },
    CREATED_AT: { description: 'Creation time.' },
    UPDATED_AT: { description: 'Time of the last change.' },
    TITLE: { description: 'Title, by byte order.' },
    POSITION: { description: "The user's own order among siblings (drag and drop); meaningful within one list's top level or one task's subtasks." },
  } as const,
});

export const OrderDirectionEnum = builder.enumType('OrderDirection', {
  description: 'Ascending or descending.',
  values: { ASC: { description: 'Smallest first.' }, DESC: { description: 'Largest first.' } } as const,
});
