import pg from 'pg';
import { isDatabaseUnavailable } from '../db/errors.js';
import type { Logger } from '../logger.js';
import { claimQueue, settleBatch, type BatchOutcome, type QueuedDelivery } from './delivery-queue.js';
import type { PayloadReader } from './payloads.js';
import { nextAttemptAt, type RetryPolicy } from './retry.js';
import type { Sender } from './send.js';
import { signature } from './signature.js';

// The webhook worker: `concurrency` lanes, each claiming one webhook's queue at a time and sending it
// in order (src/webhooks/delivery-queue.ts). Its connections are its own pool's, so a slow receiver
// holds a lane, never a connection the API needs. Woken by the commit that queues deliveries (LISTEN
// webhook_deliveries) and by a poll, for retries and for databases that cannot LISTEN (a pooler).

export interface WebhookWorkerOptions {
  connectionString: string;
  payloads: PayloadReader;
  sender: Sender;
  logger: Logger;
  retry: RetryPolicy;
  concurrency: number;
  pollMs: number;
  /** A lane sends at most this many deliveries, or for this long, before it commits what it sent. */
  batchSize?: number;
  batchMs?: number;
}

export interface WebhookWorker {
  /** Ends attempts in flight, records what was delivered, and closes the worker's connections. */
  stop(): Promise<void>;
}

const CHANNEL = 'webhook_deliveries';

export function startWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const { payloads, sender, logger, retry, concurrency, pollMs, batchSize = 100, batchMs = 1_000 } = options;
  const pool = new pg.Pool({ connectionString: options.connectionString, max: concurrency + 1 });
  pool.on('error', (error) => logger.warn({ err: error }, 'webhook worker: idle connection lost'));
  let stopping = false;
  let wake: (() => void) | undefined;
  let wakeUp = new Promise<void>((resolve) => (wake = resolve));
  const nudge = () => {
    wake?.();
    wakeUp = new Promise<void>((resolve) => (wake = resolve));
  };

  /** Bodies of the deliveries that have none yet, read in one request per owner. */
  async function withBodies(queue: QueuedDelivery[]): Promise<Map<string, string>> {
    const bodies = new Map<string, string>();
    const unread = queue.filter((delivery) => delivery.body === null);
    const refOf = (delivery: QueuedDelivery) => ({ typename: delivery.typename, objectId: delivery.object_id, event: delivery.event });
    const dataOf = unread.length > 0 ? await payloads(unread[0]!.user_id, unread.map(refOf)) : undefined;
    for (const delivery of queue) {
      const body = delivery.body ?? JSON.stringify({ id: delivery.id, event: delivery.event, occurredAt: delivery.occurred_at.toISOString(), data: dataOf!(refOf(delivery)) });
      bodies.set(delivery.id, body);
    }
    return bodies;
  }

  /** One lane's turn: claims a webhook's queue and sends it; resolves to how many were delivered, or null when nothing was due. */
  async function deliverBatch(): Promise<number | null> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const queue = await claimQueue(client, batchSize);
      if (queue.length === 0) {
        await client.query('COMMIT');
        return null;
      }
      const bodies = await withBodies(queue);
      const outcome: BatchOutcome = { webhookId: queue[0]!.webhook_id, delivered: [], lastAttemptAt: new Date(), lastStatus: null };
      const started = Date.now();
      for (const delivery of queue) {
        if (stopping || Date.now() - started > batchMs) break;
        const body = bodies.get(delivery.id)!;
        const timestamp = Math.floor(Date.now() / 1000);
        const attempt = await sender.send(
          delivery.url,
          {
            'x-tasks-event': delivery.event,
            'x-tasks-delivery': delivery.id,
            'x-tasks-timestamp': String(timestamp),
            'x-tasks-signature': signature(delivery.secret, timestamp, body),
          },
          body,
        );
        if (attempt.delivered) {
          outcome.delivered.push(delivery.id);
          outcome.lastAttemptAt = new Date();
          outcome.lastStatus = attempt.status;
          continue;
        }
        // Cut off by the shutdown: not the receiver's failure. It stays at the head, to be sent again.
        if (stopping) break;
        outcome.lastAttemptAt = new Date();
        outcome.lastStatus = attempt.status;
        const retryAt = nextAttemptAt(retry, delivery.occurred_at, delivery.attempts + 1, outcome.lastAttemptAt);
        outcome.failed = retryAt ? { id: delivery.id, body, retryAt } : { id: delivery.id, giveUp: true };
        logger.info(
          { webhook: delivery.webhook_id, delivery: delivery.id, status: attempt.status, error: attempt.error, attempts: delivery.attempts + 1, retryAt },
          retryAt ? 'webhook delivery failed; will retry' : 'webhook delivery failed for its whole retry window; webhook turned off',
        );
        break;
      }
      await settleBatch(client, outcome);
      await client.query('COMMIT');
      return outcome.delivered.length;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async function lane(): Promise<void> {
    while (!stopping) {
      try {
        if ((await deliverBatch()) !== null) continue;
      } catch (error) {
        if (isDatabaseUnavailable(error)) logger.warn({ err: error }, 'webhook lane failed: database unavailable');
        else logger.error({ err: error }, 'webhook lane failed');
      }
      if (stopping) break;
      const pause = new Promise<void>((resolve) => setTimeout(resolve, pollMs).unref());
      await Promise.race([pause, wakeUp]);
    }
  }

  // LISTEN on a connection of its own; lost, it is opened again on the next poll (the poll covers meanwhile).
  let listener: pg.PoolClient | undefined;
  async function listen(): Promise<void> {
    if (listener || stopping) return;
    try {
      const client = await pool.connect();
      client.on('notification', nudge);
      client.on('error', (error) => {
        logger.warn({ err: error }, 'webhook worker: LISTEN connection lost');
        listener = undefined;
        client.release(error);
      });
      await client.query(`LISTEN ${CHANNEL}`);
      listener = client;
    } catch (error) {
      logger.warn({ err: error }, 'webhook worker: cannot LISTEN; polling only');
    }
  }
  const relisten = setInterval(() => void listen(), pollMs * 10);
  relisten.unref();
  const ready = listen();
  const lanes = ready.then(() => Promise.all(Array.from({ length: concurrency }, lane)));

  return {
    async stop() {
      stopping = true;
      clearInterval(relisten);
      nudge();
      // Attempts in flight end now instead of at their timeout.
      sender.close();
      await lanes;
      listener?.release();
      listener = undefined;
      await pool.end();
    },
  };
}
