import type pg from 'pg';
import { isDatabaseUnavailable } from './db/errors.js';
import type { PubSub } from './events/pubsub.js';
import type { Logger } from './logger.js';
import { purgeTombstones } from './sync/tombstones.js';
import { purgeTrash } from './tasks/trash.js';

// What the worker removes on a schedule: tasks in the trash past TRASH_RETENTION_DAYS, then the
// change feed's deletions past SYNC_RETENTION_DAYS. Both run in short batches and may run on any
// number of instances at once (SKIP LOCKED).

export interface Housekeeping {
  runOnce(): Promise<{ trash: number; tombstones: number }>;
  stop(): Promise<void>;
}

export function startHousekeeping(options: {
  pool: Pick<pg.Pool, 'query'>;
  pubsub: PubSub;
  logger: Logger;
  retention: { trashDays: number; syncDays: number };
  intervalMs?: number;
}): Housekeeping {
  const { pool, pubsub, logger, retention, intervalMs = 3_600_000 } = options;
  let running: Promise<unknown> = Promise.resolve();

  async function runOnce() {
    const trash = await purgeTrash(pool, retention.trashDays);
    // A purged task is a deletion in its owners' feeds.
    for (const userId of trash.users) pubsub.publish('changed', userId, true);
    const tombstones = await purgeTombstones(pool, { retentionDays: retention.syncDays });
    if (trash.purged || tombstones) logger.info({ trash: trash.purged, tombstones }, 'housekeeping: purged');
    return { trash: trash.purged, tombstones };
  }

  const tick = () => {
    running = runOnce().catch((error: unknown) => {
      if (isDatabaseUnavailable(error)) logger.warn({ err: error }, 'housekeeping failed: database unavailable');
      else logger.error({ err: error }, 'housekeeping failed');
    });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();

  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
