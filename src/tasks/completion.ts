import { ownedByViewer, type ViewerDb } from '../db/viewer-scope.js';
import { notFound } from '../schema/errors.js';
import { nextOccurrence, remainingRule, shiftReminder } from './recurrence.js';

// Completing a recurring task creates its next occurrence in the same transaction. Exactly one
// completion wins the conditional UPDATE (completed = false), so repeated or concurrent calls create
// one next occurrence; tasks.generated_from_id is UNIQUE as the database's own guarantee.

export async function completeTask(db: ViewerDb, id: string) {
  return db.$transaction(async (tx) => {
    const { count: won } = await tx.task.updateMany({ where: { id, completed: false }, data: { completed: true, completedAt: new Date() } });
    // The owner's time zone comes along (relation join): recurrence repeats in the viewer's zone.
    const task = await tx.task.findUnique({ where: { id }, include: { taskTags: { select: { tagId: true } }, user: { select: { timeZone: true } } } });
    if (!task) throw notFound('Task');
    if (won === 0 || !task.recurrence || !task.dueAt) {
      return { task, nextOccurrence: await tx.task.findUnique({ where: { generatedFromId: id } }) };
    }

    const nextDueAt = nextOccurrence({ rule: task.recurrence, timeZone: task.user.timeZone, seriesStart: task.dueAt, after: task.dueAt });
    if (!nextDueAt) return { task, nextOccurrence: null };

    const next = await tx.task.create({
      data: {
        ...ownedByViewer,
        title: task.title,
        description: task.description,
        priority: task.priority,
        dueAt: nextDueAt,
        remindAt: shiftReminder({ remindAt: task.remindAt, dueAt: task.dueAt, nextDueAt }),
        recurrence: remainingRule(task.recurrence),
        seriesId: task.seriesId ?? task.id,
        generatedFromId: task.id,
      },
    });
    if (task.taskTags.length > 0) {
      await tx.taskTag.createMany({ data: task.taskTags.map(({ tagId }) => ({ ...ownedByViewer, taskId: next.id, tagId })) });
    }
    return { task, nextOccurrence: next };
  });
}

export async function uncompleteTask(db: ViewerDb, id: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const { count } = await tx.task.updateMany({ where: { id, completed: true }, data: { completed: false, completedAt: null } });
    if (count === 0) {
      if (!(await tx.task.findUnique({ where: { id }, select: { id: true } }))) throw notFound('Task');
      return;
    }
    // Undo: the occurrence this completion created goes too, unless it was completed or edited since.
    await tx.task.deleteMany({ where: { generatedFromId: id, completed: false, version: 1 } });
  });
}
