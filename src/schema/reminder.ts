import type { ReminderEvent } from '../events/pubsub.js';
import { builder } from './builder.js';

builder.subscriptionType({
  description: 'Live events, over Server-Sent Events (or graphql-ws at /graphql). Needs a signed-in viewer.',
  authScopes: { loggedIn: true },
});

builder.subscriptionField('reminderDue', (t) =>
  t.withAuth({ loggedIn: true }).prismaField({
    type: 'Task',
    description: "Each of the viewer's tasks whose remindAt has come, once, as the reminder worker delivers it.",
    // The topic is the viewer's own id: no event of another user is ever routed here.
    subscribe: (_root, _args, context) => context.services.pubsub.subscribe('reminderDue', context.viewer.id),
    resolve: (query, event, _args, context) =>
      context.db.task.findUniqueOrThrow({ ...query, where: { id: (event as unknown as ReminderEvent).taskId } }),
  }),
);
