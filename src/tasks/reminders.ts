import type { PrismaClient } from '../db/prisma.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import type { PubSub } from '../events/pubsub.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';

// The reminder worker: the one unscoped reader of reminders and tasks. It serves every user, so it talks to the
// database with the raw client, never through a viewer-scoped one.

export const DEFAULT_REMINDER_BATCH_SIZE = 100;

export interface ReminderWorkerOptions {
  prisma: PrismaClient;
  pubsub: PubSub;
  logger: Logger;
  /** Pause between ticks when there is no backlog. */
  pollMs: number;
  batchSize?: number;
}

export interface ReminderWorker {
  /** Delivers every reminder due now, batch after batch while batches come back full; resolves to how many. */
  runOnce(): Promise<number>;
  /** Stops polling; resolves once every tick in progress has finished. */
  stop(): Promise<void>;
}

interface ClaimedReminder {
  id: string;
  task_id: string;
  user_id: string;
}

/**
 * Claims up to `batchSize` due reminders and marks them sent, in one statement. FOR UPDATE SKIP LOCKED
 * lets any number of workers share the table: a row another worker holds is skipped, and a row another
 * worker has just marked fails the WHERE re-check PostgreSQL makes on locking, so each reminder is
 * claimed exactly once. ORDER BY fire_at walks reminders_due_idx (the partial index) oldest first. A
 * completed or trashed task's reminders wait (reopening or restoring it brings them back). The first absolute reminder is
 * also marked on its task (reminderSentAt); the version trigger ignores that column.
 */
export function claimDueReminders(batchSize: number): Prisma.Sql {
  return Prisma.sql`
    WITH claimed AS (
      UPDATE reminders SET sent_at = now()
      WHERE id = ANY(ARRAY(
        SELECT r.id FROM reminders r JOIN tasks t ON t.id = r.task_id AND t.user_id = r.user_id
        WHERE r.fire_at <= now() AND r.sent_at IS NULL AND NOT t.completed AND t.deleted_at IS NULL
        ORDER BY r.fire_at
        LIMIT ${batchSize}
        FOR UPDATE OF r SKIP LOCKED
      ))
      RETURNING id, task_id, user_id, is_primary, sent_at
    ), primary_sent AS (
      UPDATE tasks SET reminder_sent_at = claimed.sent_at FROM claimed
      WHERE claimed.is_primary AND tasks.id = claimed.task_id AND tasks.user_id = claimed.user_id
    )
    SELECT id, task_id, user_id FROM claimed`;
}

export function startReminderWorker(options: ReminderWorkerOptions): ReminderWorker {
  const { prisma, pubsub, logger, pollMs, batchSize = DEFAULT_REMINDER_BATCH_SIZE } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);

  let stopping = false;
  let wakeUp: (() => void) | undefined;
  const ticksInProgress = new Set<Promise<unknown>>();

  async function claimBatch(): Promise<number> {
    const claimed = await prisma.$queryRaw<ClaimedReminder[]>(claimDueReminders(batchSize));
    // Marked sent before published: a crash in between loses a reminder rather than sending it twice.
    for (const reminder of claimed) pubsub.publish('reminderDue', reminder.user_id, { taskId: reminder.task_id, reminderId: reminder.id });
    // A delivered reminder changed its task (Task.reminders[].sentAt): the owners' feeds have news.
    for (const userId of new Set(claimed.map((reminder) => reminder.user_id))) pubsub.publish('changed', userId, true);
    return claimed.length;
  }

  async function drain(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const count = await claimBatch();
      delivered += count;
      // A full batch means a backlog: go on at once instead of one batch per poll interval.
      if (count < batchSize || stopping) break;
    }
    if (delivered > 0) logger.info({ delivered }, 'reminders delivered');
    return delivered;
  }

  function runOnce(): Promise<number> {
    const tick = drain();
    ticksInProgress.add(tick);
    const forget = () => ticksInProgress.delete(tick);
    tick.then(forget, forget);
    return tick;
  }

  function pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async function poll(): Promise<void> {
    while (!stopping) {
      try {
        await runOnce();
      } catch (error) {
        // The process must outlive the database: the next tick tries again.
        if (isDatabaseUnavailable(error)) logger.warn({ err: error }, 'reminder tick failed: database unavailable');
        else logger.error({ err: error }, 'reminder tick failed');
      }
      if (!stopping) await pause();
    }
  }

  const polling = poll();
  logger.info({ pollMs, batchSize }, 'reminder worker started');

  return {
    runOnce,
    async stop() {
      stopping = true;
      wakeUp?.();
      await polling;
      await Promise.allSettled([...ticksInProgress]);
      logger.info('reminder worker stopped');
    },
  };
}
