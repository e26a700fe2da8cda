import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import type { PubSub } from '../events/pubsub.js';

/**
 * After each mutation of a signed-in viewer, a notice on the viewer's `changed` topic: their live
 * `changes` subscriptions, on every instance, read the feed again. A notice after a mutation that
 * changed nothing costs a read that finds nothing; a missing one would leave a change unsent until
 * the next, so every mutation sends one.
 */
export function useChangeNotices(pubsub: PubSub): Plugin {
  return {
    onExecute({ args }) {
      const viewer = (args.contextValue as Partial<Context>).viewer;
      if (!viewer || getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      return { onExecuteDone: () => pubsub.publish('changed', viewer.id, true) };
    },
  };
}
