import { filter, map, pipe, Repeater } from 'graphql-yoga';
import type { ReminderEvent } from '../events/pubsub.js';
import type { Row } from '../reads/index.js';
import { builder } from './builder.js';
import { Task } from './task.js';

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
  t.withAuth({ loggedIn: true }).field({
    type: Task,
    description: "Each of the viewer's tasks whose remindAt has come, once, as the reminder worker delivers it.",
    // The topic is the viewer's own id: no event of another user is ever routed here. A task deleted
    // between the worker's claim and this delivery is skipped rather than answered with an error.
    subscribe: (_root, _args, context) =>
      pipe(
        untilAborted(context.services.pubsub.subscribe('reminderDue', context.viewer.id), context.services.shutdownSignal),
        map((event: ReminderEvent) => {
          context.services.reads.forget(context);
          return context.services.reads.rowById(context, 'tasks', event.taskId);
        }),
        filter((row): row is Row => row !== null),
      ),
    resolve: (row) => row as unknown as Row,
  }),
);
