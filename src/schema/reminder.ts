import { filter, pipe, Repeater } from 'graphql-yoga';
import type { ReminderEvent } from '../events/pubsub.js';
import { builder } from './builder.js';

/** Ends a subscription when the server shuts down, so its stream does not hold the drain open. */
function untilAborted<T>(events: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  const aborted = new Repeater<T>(async (_push, stop) => {
    if (signal.aborted) stop();
    else signal.addEventListener('abort', () => stop(), { once: true });
    await stop;
  });
  return Repeater.race([events, aborted]) as AsyncIterable<T>;
}

builder.subscriptionType({
  description: 'Live events, over Server-Sent Events (or graphql-ws at /graphql). Needs a signed-in viewer.',
  authScopes: { loggedIn: true },
});

builder.subscriptionField('reminderDue', (t) =>
  t.withAuth({ loggedIn: true }).prismaField({
    type: 'Task',
    description: "Each of the viewer's tasks whose remindAt has come, once, as the reminder worker delivers it.",
    // The topic is the viewer's own id: no event of another user is ever routed here. A task deleted
    // between the worker's claim and this delivery is skipped rather than answered with an error.
    subscribe: (_root, _args, context) =>
      pipe(
        untilAborted(context.services.pubsub.subscribe('reminderDue', context.viewer.id), context.services.shutdownSignal),
        filter(async (event: ReminderEvent) => (await context.db.task.count({ where: { id: event.taskId } })) > 0),
      ),
    resolve: (query, event, _args, context) =>
      context.db.task.findUniqueOrThrow({ ...query, where: { id: (event as unknown as ReminderEvent).taskId } }),
  }),
);
