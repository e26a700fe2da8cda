import type { ViewerStatements } from '../db/compiled-statements.js';
import type { ViewerDb } from '../db/viewer-scope.js';
import { Prisma, type Task } from '../generated/prisma/client.js';
import { conflict, notFound } from '../schema/errors.js';
import { nextOccurrence, remainingRule, shiftReminder } from './recurrence.js';

// Completing a task is one read of the viewer's task and one statement that claims the task and, for
// a recurring task, creates its next occurrence with its tags. Both run on pg directly
// (src/db/compiled-statements.ts): through Prisma's engine they cost most of the request's CPU. The claim is a
// conditional UPDATE (still open, still the version that was read), so of any number of concurrent
// completions exactly one writes; the others read again and answer with what the winner wrote.
// tasks.generated_from_id is UNIQUE as the database's own guarantee of one next occurrence.
//
// The statement is SQL because its steps depend on each other (no next occurrence unless the claim
// won) and, as one statement, they need no transaction: 2 statements instead of BEGIN, claim, read,
// insert, insert tags, COMMIT (5-6). It stays scoped to the viewer by construction: the read names
// the viewer, and the claim is keyed by the id and owner of the row it returned, never by an id from
// the request.

const MAX_ATTEMPTS = 3;

/** Every column of tasks under the name Prisma gives it, so that a row reads like Prisma's Task. */
const TASK_COLUMNS = Prisma.raw(
  `id, user_id AS "userId", title, description, completed, completed_at AS "completedAt", priority::text AS priority,
   due_at AS "dueAt", remind_at AS "remindAt", reminder_sent_at AS "reminderSentAt", recurrence, series_id AS "seriesId",
   generated_from_id AS "generatedFromId", idempotency_key AS "idempotencyKey", version, created_at AS "createdAt", updated_at AS "updatedAt"`,
);

type ReadTask = Task & { user: { timeZone: string } };
type WrittenRow = Task & { written: 'task' | 'next' };

interface NextOccurrence {
  dueAt: Date;
  remindAt: Date | null;
  recurrence: string;
}

/** The next occurrence of an open task, or null for a one-off task or a series that has ended. */
function nextOf(task: ReadTask): NextOccurrence | null {
  if (!task.recurrence || !task.dueAt) return null;
  const dueAt = nextOccurrence({ rule: task.recurrence, timeZone: task.user.timeZone, seriesStart: task.dueAt, after: task.dueAt });
  if (!dueAt) return null;
  return { dueAt, remindAt: shiftReminder({ remindAt: task.remindAt, dueAt: task.dueAt, nextDueAt: dueAt }), recurrence: remainingRule(task.recurrence) };
}

const instant = (date: Date | null) => (date ? date.toISOString() : null);

/**
 * Claims `task` if it is still open and unchanged, and then creates `next` (with the task's tags).
 * An occurrence already generated from this task (kept by uncompleteTask because it was edited)
 * stays, and no second one is made. Answers the claimed row and the created one, if any.
 */
function claimAndContinue(task: ReadTask, next: NextOccurrence | null): Prisma.Sql {
  const claim = Prisma.sql`
    UPDATE tasks SET completed = true, completed_at = now()
    WHERE id = ${task.id}::uuid AND user_id = ${task.userId}::uuid AND completed = false AND version = ${task.version}
    RETURNING ${TASK_COLUMNS}`;
  if (!next) return Prisma.sql`WITH claimed AS (${claim}) SELECT 'task' AS written, * FROM claimed`;
  return Prisma.sql`
    WITH claimed AS (${claim}),
    next AS (
      INSERT INTO tasks (user_id, title, description, priority, due_at, remind_at, recurrence, series_id, generated_from_id)
      SELECT "userId", title, description, priority::"Priority", ${instant(next.dueAt)}::timestamptz, ${instant(next.remindAt)}::timestamptz,
             ${next.recurrence}, coalesce("seriesId", id), id
      FROM claimed
      ON CONFLICT (generated_from_id) DO NOTHING
      RETURNING ${TASK_COLUMNS}
    ),
    next_tags AS (
      -- The links as they are now, not as read: a tag deleted since the read is not copied.
      INSERT INTO task_tags (task_id, tag_id, user_id)
      SELECT next.id, link.tag_id, next."userId" FROM next JOIN task_tags AS link ON link.task_id = next."generatedFromId" AND link.user_id = next."userId"
    )
    SELECT 'task' AS written, * FROM claimed
    UNION ALL
    SELECT 'next' AS written, * FROM next`;
}

/** The viewer's task with its owner's time zone: recurrence repeats in the viewer's zone. */
async function readForCompletion(id: string, sql: ViewerStatements): Promise<ReadTask | null> {
  const read = Prisma.sql`
    SELECT ${TASK_COLUMNS}, json_build_object('timeZone', (SELECT time_zone FROM users WHERE users.id = tasks.user_id)) AS "user"
    FROM tasks WHERE user_id = ${sql.viewerId}::uuid AND id = ${id}::uuid`;
  const [row] = await sql.run({ text: read.text, values: read.values, tagDates: [] });
  return (row as ReadTask | undefined) ?? null;
}

export async function completeTask(db: ViewerDb, id: string, sql: ViewerStatements): Promise<{ task: Task; nextOccurrence: Task | null }> {
  const generatedFrom = () => db.task.findUnique({ where: { generatedFromId: id } });
  for (let attempt = 1; ; attempt++) {
    const task = await readForCompletion(id, sql);
    if (!task) throw notFound('Task');
    if (task.completed) return { task, nextOccurrence: await generatedFrom() };

    const next = nextOf(task);
    const claim = claimAndContinue(task, next);
    const rows = (await sql.run({ text: claim.text, values: claim.values, tagDates: [] })) as WrittenRow[];
    const claimed = rows.find((row) => row.written === 'task');
    if (claimed) {
      const created = rows.find((row) => row.written === 'next');
      return { task: withoutMarker(claimed), nextOccurrence: created ? withoutMarker(created) : next ? await generatedFrom() : null };
    }
    // Completed by someone else, or changed (e.g. its rule) since it was read: read it again.
    if (attempt === MAX_ATTEMPTS) throw conflict('The task changed while it was being completed; try again');
  }
}

function withoutMarker({ written: _written, ...row }: WrittenRow): Task {
  return row;
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
