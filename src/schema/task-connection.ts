import type { Prisma } from '../generated/prisma/client.js';
import { allOf, taskOrderBy, taskWhere } from '../tasks/task-query.js';
import { decodeTaskFilter, decodeTaskOrder } from './task-list.js';
import { badInput } from './errors.js';

// The Prisma arguments of a paginated task list (Query.tasks, User.tasks, Tag.tasks); `scope`
// narrows it to the parent (e.g. one tag).

export interface TaskListArgs {
  after?: string | null;
  filter?: Parameters<typeof decodeTaskFilter>[0];
  orderBy?: Parameters<typeof decodeTaskOrder>[0];
}

export function taskListQuery(args: TaskListArgs, scope: Prisma.TaskWhereInput = {}) {
  const where = allOf([scope, taskWhere(decodeTaskFilter(args.filter), new Date())]);
  return { where, orderBy: taskOrderBy(decodeTaskOrder(args.orderBy)) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The whole findMany argument of a page: plugin-prisma's paging and selection (`query`) with the
 * list's where and order. A cursor that does not hold one of our ids is bad input, not a query.
 */
export function taskPageQuery<Query extends { cursor?: { id?: unknown } }>(query: Query, args: TaskListArgs, scope: Prisma.TaskWhereInput = {}) {
  const cursorId = query.cursor?.id;
  if (query.cursor && !(typeof cursorId === 'string' && UUID.test(cursorId))) {
    throw badInput([{ path: 'after' in args && args.after ? 'after' : 'before', message: 'not a cursor of this list' }]);
  }
  return { ...query, ...taskListQuery(args, scope) };
}
