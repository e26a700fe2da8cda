import { z } from 'zod';
import { parseRecurrence } from './recurrence.js';

// What a valid task looks like, checked before anything is written. The database checks the same
// rules again (CHECK constraints) so that no other path can store a bad row.

export const TITLE_MAX = 500;
export const DESCRIPTION_MAX = 20_000;

export const title = z
  .string()
  .max(TITLE_MAX, `at most ${TITLE_MAX} characters`)
  .refine((value) => value.trim().length > 0, 'must not be blank')
  .transform((value) => value.trim());

export const description = z.string().max(DESCRIPTION_MAX, `at most ${DESCRIPTION_MAX} characters`);

export const recurrence = z
  .string()
  .transform((value, context) => {
    const parsed = parseRecurrence(value);
    if (!parsed.ok) {
      context.addIssue({ code: 'custom', message: `not a supported RRULE: ${parsed.reason}` });
      return z.NEVER;
    }
    return parsed.rule;
  });

/** The version a client last read (updateTask, completeTask, uncompleteTask, deleteTask, moveTask). */
export const expectedVersion = z.number().int().min(1).optional();

export const idempotencyKey = z.string().min(1).max(128, 'at most 128 characters');

const instant = z.date().refine((date) => !Number.isNaN(date.getTime()), 'not a valid date');
export const dueAt = instant;
/** A calendar day, as the Date scalar gives it (YYYY-MM-DD). */
export const dueDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a calendar day as YYYY-MM-DD');
export const remindAt = instant;

/** Rules that span fields, checked on the task as it will be after the write. */
export function crossFieldProblems(task: { dueAt: Date | null; dueDate: string | null; recurrence: string | null }): { path: string; message: string }[] {
  if (task.dueAt && task.dueDate) return [{ path: 'input.dueDate', message: 'a task is due on a day (dueDate) or at an instant (dueAt), not both' }];
  return task.recurrence && !task.dueAt && !task.dueDate ? [{ path: 'input.recurrence', message: 'a recurring task needs a due date (dueAt or dueDate)' }] : [];
}
