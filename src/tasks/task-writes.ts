import { randomUUID } from 'node:crypto';
import { violatedUniqueIndex } from '../db/errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { ownedByViewer, type ViewerDb } from '../db/viewer-scope.js';
import { badInput, conflict, notFound } from '../schema/errors.js';
import { crossFieldProblems } from './task-rules.js';
import type { ViewerContext } from '../context.js';
import type { Row } from '../reads/index.js';
import { bound, type Bound } from '../reads/parameters.js';
import type { Priority } from '../reads/task-list.js';

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

/**
 * Creates a task and answers it as the viewer reads it. Without tags it is a single
 * INSERT ... RETURNING (atomic on its own, and its empty tag list known without reading); with tags
 * the task and its links are written in one transaction, after checking that every tag is the
 * viewer's, and then read.
 */
export async function createTask(context: ViewerContext, input: NewTask): Promise<Row> {
  const problems = crossFieldProblems({ dueAt: input.dueAt ?? null, recurrence: input.recurrence ?? null });
  if (problems.length > 0) throw badInput(problems);
  const { db } = context;
  const { reads } = context.services;

  const read = (id: string) => reads.written(context, 'tasks', id);
  const byKey = () => (input.idempotencyKey ? db.task.findFirst({ where: { idempotencyKey: input.idempotencyKey }, select: { id: true } }) : null);
  const earlier = await byKey();
  if (earlier) return read(earlier.id);

  const id = randomUUID();
  // Only the columns given are written; the rest take their defaults ('' / NONE / null).
  const columns: NewTaskColumns = {
    id: bound(id),
    title: bound(input.title),
    ...(input.description != null ? { description: bound(input.description) } : {}),
    ...(input.priority != null ? { priority: bound(input.priority) } : {}),
    ...(input.dueAt != null ? { due_at: bound(input.dueAt.toISOString()) } : {}),
    ...(input.remindAt != null ? { remind_at: bound(input.remindAt.toISOString()) } : {}),
    ...(input.recurrence != null ? { recurrence: bound(input.recurrence), series_id: bound(id) } : {}),
    ...(input.idempotencyKey != null ? { idempotency_key: bound(input.idempotencyKey) } : {}),
  };
  try {
    if (input.tagIds.length === 0) {
      const [row] = await reads.statements.run(INSERT_TASK, context.viewer.id, columns, (env, values) => {
        const inserted = { table: 'tasks', name: 'tasks' } as const;
        return env.q.insertInto('tasks').values(values as never).returning(reads.model.rowSelections(env, inserted) as never);
      });
      reads.forget(context);
      reads.prime(context, 'tasks', 'tags', id, []);
      return row!;
    }
    await db.$transaction(async (tx) => {
      await assertTagsExist(tx, input.tagIds, 'input.tagIds');
      await tx.task.create({
        data: {
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
        },
        select: { id: true },
      });
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

type NewTaskColumns = { [Column in 'id' | 'title' | 'description' | 'priority' | 'due_at' | 'remind_at' | 'recurrence' | 'series_id' | 'idempotency_key']?: Bound<string> };

/** The statement cache's key for createTask's insert. */
const INSERT_TASK = {};

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

export async function deleteTask(db: ViewerDb, id: string): Promise<void> {
  const { count } = await db.task.deleteMany({ where: { id } });
  if (count === 0) throw notFound('Task');
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
