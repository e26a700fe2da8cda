import type { Prisma } from '../generated/prisma/client.js';
import type { Context, ViewerContext } from '../context.js';
import { allOf, taskOrderBy, taskWhere } from '../tasks/task-query.js';
import { compileTaskById, compileTaskPage, type PrismaTaskQuery, type TaskJsonField, type TaskJsonRow, type TaskPageRequest } from '../tasks/task-sql.js';
import { decodeTaskFilter, decodeTaskOrder } from './task-list.js';
import { badInput } from './errors.js';
import { prismaConnectionHelpers } from '@pothos/plugin-prisma';
import { builder } from './builder.js';

// A paginated task list (Query.tasks, User.tasks, Tag.tasks) and task(id:): one compiled SQL
// statement for the selections src/tasks/task-sql.ts knows, Prisma for the rest. `tagId` narrows a
// list to one tag.

export interface TaskListArgs {
  after?: string | null;
  filter?: Parameters<typeof decodeTaskFilter>[0];
  orderBy?: Parameters<typeof decodeTaskOrder>[0];
}

const tagScope = (tagId: string | undefined): Prisma.TaskWhereInput => (tagId === undefined ? {} : { taskTags: { some: { tagId } } });

export function taskListQuery(args: TaskListArgs, tagId?: string) {
  const where = allOf([tagScope(tagId), taskWhere(decodeTaskFilter(args.filter), new Date())]);
  return { where, orderBy: taskOrderBy(decodeTaskOrder(args.orderBy)) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The compiler's request for a page; a cursor that does not hold one of our ids is bad input, not a query. */
function pageRequest(viewerId: string, query: PrismaTaskQuery, args: TaskListArgs, tagId: string | undefined): TaskPageRequest {
  const cursorId = query.cursor?.id;
  if (query.cursor && !(typeof cursorId === 'string' && UUID.test(cursorId))) {
    throw badInput([{ path: 'after' in args && args.after ? 'after' : 'before', message: 'not a cursor of this list' }]);
  }
  return { viewerId, query, filter: decodeTaskFilter(args.filter), order: decodeTaskOrder(args.orderBy), tagId, now: new Date() };
}

/** A page of the viewer's tasks for plugin-prisma's paging and selection (`query`). */
export async function readTaskPage<Query extends PrismaTaskQuery>(context: Context, query: Query, args: TaskListArgs, tagId?: string) {
  // Checked and decoded with or without a viewer, so that bad input is reported the same either way.
  const request = pageRequest(context.viewer?.id ?? '', query, args, tagId);
  const statement = context.viewer ? compileTaskPage(request) : null;
  if (statement) return context.services.runStatement(statement);
  return context.db.task.findMany({ ...query, ...taskListQuery(args, tagId) } as Prisma.TaskFindManyArgs);
}

/**
 * A page of the viewer's tasks for plugin-prisma's paging (`query`), each as its id and the JSON
 * `fields` ask for (the direct task reads, src/execution/); null for a page only Prisma reads.
 */
export async function readTaskJsonPage(viewer: ViewerContext, query: PrismaTaskQuery, args: TaskListArgs, fields: readonly TaskJsonField[]) {
  const statement = compileTaskPage({ ...pageRequest(viewer.viewer.id, query, args, undefined), json: fields });
  return statement && ((await viewer.services.runStatement(statement)) as unknown as TaskJsonRow[]);
}

/** One of the viewer's tasks, or null. */
export async function readTask<Query extends PrismaTaskQuery>(context: Context, query: Query, id: string) {
  const statement = context.viewer && compileTaskById(context.viewer.id, id, query);
  if (!statement) return context.db.task.findUnique({ ...query, where: { id } } as Prisma.TaskFindUniqueArgs);
  const [row] = await context.services.runStatement(statement);
  return row ?? null;
}

const createConnectionHelpers = () => prismaConnectionHelpers(builder, 'Task', { cursor: 'id' });
let connectionHelpers: ReturnType<typeof createConnectionHelpers> | undefined;

/**
 * plugin-prisma's paging for task lists outside a resolver (src/execution/direct-task-reads.ts): the
 * same page sizes, cursor format and pageInfo as the `tasks` connections. Made on first use, once
 * the Task type exists.
 */
export function taskConnection() {
  connectionHelpers ??= createConnectionHelpers();
  return connectionHelpers;
}
