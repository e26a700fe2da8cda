import type { Prisma } from '../generated/prisma/client.js';
import type { Context } from '../context.js';
import { allOf, taskOrderBy, taskWhere } from '../tasks/task-query.js';
import { compileTaskById, compileTaskPage, type PrismaTaskQuery } from '../tasks/task-sql.js';
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

/**
 * A page of the viewer's tasks for plugin-prisma's paging and selection (`query`). A cursor that does
 * not hold one of our ids is bad input, not a query.
 */
export async function readTaskPage<Query extends PrismaTaskQuery>(context: Context, query: Query, args: TaskListArgs, tagId?: string) {
  const cursorId = query.cursor?.id;
  if (query.cursor && !(typeof cursorId === 'string' && UUID.test(cursorId))) {
    throw badInput([{ path: 'after' in args && args.after ? 'after' : 'before', message: 'not a cursor of this list' }]);
  }
  const filter = decodeTaskFilter(args.filter);
  const order = decodeTaskOrder(args.orderBy);
  const statement = context.viewer && compileTaskPage({ viewerId: context.viewer.id, query, filter, order, tagId, now: new Date() });
  if (statement) return context.services.runStatement(statement);
  return context.db.task.findMany({ ...query, ...taskListQuery(args, tagId) } as Prisma.TaskFindManyArgs);
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
