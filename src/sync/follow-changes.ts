import { Repeater } from 'graphql-yoga';
import type { ViewerContext } from '../context.js';
import { readChanges, MAX_CHANGES, type Change } from './change-feed.js';
import { decodeSyncToken, type SyncPosition } from './sync-token.js';

/**
 * The viewer's changes after `position`, then each new one as it commits. The feed is the only
 * source of events: a notice on the `changed` topic (published after a write of the viewer commits,
 * on any instance) only says "read again from your last token". Listening starts before the first
 * read, so a change that commits during a read is either in it or followed by a notice: nothing falls
 * in between, and nothing is sent twice because every read starts after the last change sent.
 */
export function followChanges(context: ViewerContext, position: SyncPosition | null): AsyncIterable<Change> {
  const { pubsub, shutdownSignal } = context.services;
  return new Repeater<Change>(async (push, stop) => {
    const notices = pubsub.subscribe('changed', context.viewer.id)[Symbol.asyncIterator]();
    let stopped = false;
    let pending = true;
    let wake = () => {};
    void stop.then(() => {
      stopped = true;
      wake();
    });
    const onShutdown = () => stop();
    shutdownSignal.addEventListener('abort', onShutdown, { once: true });
    if (shutdownSignal.aborted) stop();
    // However many notices arrive during a read, one more read follows it.
    void (async () => {
      for (let notice = await notices.next(); !notice.done; notice = await notices.next()) {
        pending = true;
        wake();
      }
    })();
    let from = position;
    try {
      while (!stopped) {
        if (!pending) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        pending = false;
        const page = await readChanges(context, from, MAX_CHANGES);
        for (const change of page.changes) await push(change);
        from = decodeSyncToken(page.syncToken, 'syncToken');
        if (page.hasMore) pending = true;
      }
    } catch (error) {
      stop(error);
    } finally {
      shutdownSignal.removeEventListener('abort', onShutdown);
      await notices.return?.();
    }
  });
}
