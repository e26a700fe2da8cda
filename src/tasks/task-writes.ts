import { randomUUID } from 'node:crypto';
import { violatedUniqueIndex } from '../db/errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { ownedByViewer, type ViewerDb } from '../db/viewer-scope.js';
import { badInput, conflict, notFound } from '../schema/errors.js';
import { crossFieldProblems } from './task-rules.js';
import type { Priority } from './task-query.js';
import { compileTaskInsert, type PrismaTaskQuery } from './task-sql.js';
import type { ViewerStatements } from '../db/compiled-statements.js';

type Transaction = Parameters<Parameters<ViewerDb['$transaction']>[0]>[0];

export interface NewTask {
  title: string;
  description?: string | null;
  priority?: Priority | null;
  dueAt?: Date | null;
  remindAt?: Date | null;
  recurrence?: string | null;
  tagIds: string[];
  idempotencyKey?: string | null;
}

/** Every id in tagIds must be one of the viewer's tags; another user's tag is reported as missing. */
async function assertTagsExist(tx: Transaction, tagIds: string[], path: string): Promise<void> {
  if (tagIds.length === 0) return;
  const found = await tx.tag.findMany({ where: { id: { in: tagIds } }, select: { id: true } });
  if (found.length !== tagIds.length) {
    const known = new Set(found.map((tag) => tag.id));
    throw notFound(`Tag ${tagIds.filter((id) => !known.has(id)).join(', ')} (${path})`);
  }
}

/** What the GraphQL layer wants read back: plugin-prisma's `query` (select or include). */
export interface TaskSelection {
  select?: Prisma.TaskSelect | null;
  include?: Prisma.TaskInclude | null;
}

/**
 * Creates a task and reads it back as `selection` asks. Without tags it is a single
 * INSERT ... RETURNING (atomic on its own), compiled by `sql` when it knows the selection; with tags
 * the task and its links are written in one transaction, after checking that every tag is the viewer's.
 */
export async function createTask(db: ViewerDb, input: NewTask, selection: TaskSelection, sql: ViewerStatements) {
  const problems = crossFieldProblems({ dueAt: input.dueAt ?? null, recurrence: input.recurrence ?? null });
  if (problems.length > 0) throw badInput(problems);

  const read = (id: string) => db.task.findUniqueOrThrow({ ...selection, where: { id } });
  const byKey = () => (input.idempotencyKey ? db.task.findFirst({ where: { idempotencyKey: input.idempotencyKey }, select: { id: true } }) : null);
  const earlier = await byKey();
  if (earlier) return read(earlier.id);

  const id = randomUUID();
  // Only the columns given are sent (Prisma leaves out undefined ones); the rest take their defaults
  // ('' / NONE / null). Prisma fills its SQL template parameter by parameter, so each column sent
  // costs CPU even when it only repeats the default.
  const data = {
    ...ownedByViewer,
    id,
    title: input.title,
    description: input.description ?? undefined,
    priority: input.priority ?? undefined,
    dueAt: input.dueAt ?? undefined,
    remindAt: input.remindAt ?? undefined,
    recurrence: input.recurrence ?? undefined,
    seriesId: input.recurrence ? id : undefined,
    idempotencyKey: input.idempotencyKey ?? undefined,
  } satisfies Prisma.TaskUncheckedCreateInput;
  try {
    if (input.tagIds.length === 0) {
      const { userId: _owner, ...columns } = data;
      const insert = compileTaskInsert(sql.viewerId, columns, selection as PrismaTaskQuery);
      return insert ? (await sql.run(insert))[0]! : await db.task.create({ ...selection, data });
    }
    await db.$transaction(async (tx) => {
      await assertTagsExist(tx, input.tagIds, 'input.tagIds');
      await tx.task.create({ data, select: { id: true } });
      await tx.taskTag.createMany({ data: input.tagIds.map((tagId) => ({ ...ownedByViewer, taskId: id, tagId })) });
    });
    return await read(id);
  } catch (error) {
    // The same key arriving twice at once: the loser of the race answers with the winner's task.
    if (input.idempotencyKey && violatedUniqueIndex(error) === 'tasks_user_id_idempotency_key_key') {
      const winner = await byKey();
      if (winner) return read(winner.id);
    }
    throw error;
  }
}

export interface TaskChanges {
  title?: string;
  description?: string;
  priority?: Priority;
  dueAt?: Date | null;
  remindAt?: Date | null;
  recurrence?: string | null;
  tagIds?: string[];
  expectedVersion?: number;
}

export async function updateTask(db: ViewerDb, id: string, changes: TaskChanges): Promise<void> {
  await db.$transaction(async (tx) => {
    const current = await tx.task.findUnique({
      where: { id },
      select: { dueAt: true, remindAt: true, recurrence: true, seriesId: true, version: true },
    });
    if (!current) throw notFound('Task');
    if (changes.expectedVersion !== undefined && changes.expectedVersion !== current.version) {
      throw conflict(`Task changed since version ${changes.expectedVersion}: it is now at version ${current.version}`, { currentVersion: current.version });
    }
    const after = {
      dueAt: changes.dueAt !== undefined ? changes.dueAt : current.dueAt,
      recurrence: changes.recurrence !== undefined ? changes.recurrence : current.recurrence,
    };
    const problems = crossFieldProblems(after);
    if (problems.length > 0) throw badInput(problems);
    if (changes.tagIds) await assertTagsExist(tx, changes.tagIds, 'input.tagIds');

    const remindAtChanged = changes.remindAt !== undefined && changes.remindAt?.getTime() !== current.remindAt?.getTime();
    // The version in the WHERE makes the read-check-write atomic: a write that slipped in between
    // leaves nothing to update, and that is a conflict.
    const { count } = await tx.task.updateMany({
      where: { id, version: current.version },
      data: {
        title: changes.title,
        description: changes.description,
        priority: changes.priority,
        dueAt: changes.dueAt,
        remindAt: changes.remindAt,
        recurrence: changes.recurrence,
        seriesId: after.recurrence && !current.seriesId ? id : undefined,
        reminderSentAt: remindAtChanged ? null : undefined,
        version: changes.tagIds ? { increment: 1 } : undefined,
      },
    });
    if (count === 0) throw conflict('Task changed while this update was being made; read it again and retry');
    if (changes.tagIds) await writeTags(tx, id, changes.tagIds);
  });
}

async function writeTags(tx: Transaction, taskId: string, tagIds: string[]): Promise<void> {
  await tx.taskTag.deleteMany({ where: { taskId, tagId: { notIn: tagIds } } });
  await tx.taskTag.createMany({ data: tagIds.map((tagId) => ({ ...ownedByViewer, taskId, tagId })), skipDuplicates: true });
}

export async function replaceTaskTags(db: ViewerDb, taskId: string, tagIds: string[]): Promise<void> {
  await db.$transaction(async (tx) => {
    // Bumping the version doubles as the existence check and orders concurrent tag changes.
    const { count } = await tx.task.updateMany({ where: { id: taskId }, data: { version: { increment: 1 } } });
    if (count === 0) throw notFound('Task');
    await assertTagsExist(tx, tagIds, 'tagIds');
    await writeTags(tx, taskId, tagIds);
  });
}
