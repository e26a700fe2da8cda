import type { ViewerContext } from '../context.js';
import { readFrom } from '../reads/declarations.js';
import { emptyTrash, readTrash, restoreTask } from '../tasks/trash.js';
import { builder } from './builder.js';
import { decodeId } from './global-id.js';
import { Task, TaskConnection } from './task.js';

builder.objectField(Task, 'deletedAt', (t) =>
  t.field({
    type: 'DateTime',
    nullable: true,
    description: 'When it went to the trash (with its subtasks); null for a live task. Only `trash` shows such tasks.',
    ...readFrom('tasks').column('deleted_at'),
  }),
);

builder.queryField('trash', (t) =>
  t.withAuth({ loggedIn: true }).field({
    type: TaskConnection,
    description: `The viewer's deleted tasks, most recently deleted first, at most 100 a page; purged after TRASH_RETENTION_DAYS.`,
    args: {
      first: t.arg.int({ description: 'Page size (default 20, at most 100).' }),
      after: t.arg.string({ description: 'Cursor to page forward from.' }),
    },
    resolve: (_root, args, context) => readTrash(context as ViewerContext, args) as never,
  }),
);

builder.mutationFields((t) => ({
  restoreTask: t.withAuth({ loggedIn: true }).field({
    type: Task,
    description:
      'Brings a task back from the trash with the subtasks deleted with it, its tags and reminders, to its place (the end of its list if that place is taken; the Inbox if its list was deleted). Its deleted parents come back too.',
    args: { id: t.arg.id({ required: true, description: 'Global ID of the task in the trash.' }) },
    resolve: (_root, args, context) => restoreTask(context as ViewerContext, decodeId(args.id, 'Task', 'id')),
  }),
  emptyTrash: t.withAuth({ loggedIn: true }).int({
    description: 'Deletes every task in the trash for good; returns how many.',
    resolve: (_root, _args, context) => emptyTrash(context as ViewerContext),
  }),
}));
