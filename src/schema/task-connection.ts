import type { Prisma } from '../generated/prisma/client.js';
import { taskOrderBy, taskWhere } from '../tasks/task-query.js';
import { decodeTaskFilter, decodeTaskOrder } from './task-list.js';

// The Prisma arguments of a paginated task list (Query.tasks, User.tasks, Tag.tasks); `scope`
// narrows it to the parent (e.g. one tag).

export interface TaskListArgs {
  filter?: Parameters<typeof decodeTaskFilter>[0];
  orderBy?: Parameters<typeof decodeTaskOrder>[0];
}

export function taskListQuery(args: TaskListArgs, scope: Prisma.TaskWhereInput = {}) {
  const where: Prisma.TaskWhereInput = { AND: [scope, taskWhere(decodeTaskFilter(args.filter), new Date())] };
  return { where, orderBy: taskOrderBy(decodeTaskOrder(args.orderBy)) };
}
