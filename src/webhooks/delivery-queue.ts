import type pg from 'pg';

// The delivery queue in PostgreSQL (webhook_deliveries), queued at commit by the change feed's
// numbering trigger and worked through here. A webhook's deliveries go out one after another in the
// order of its changes: only the first of a webhook's queue (its head) can be claimed, and the worker
// that holds the head's row lock (FOR UPDATE SKIP LOCKED, other workers pass it by) sends the queue in
// order until it meets a failure, then deletes what was delivered in the same transaction. A worker
// that dies mid-batch drops its connection: the lock goes and the batch is sent again, with the same
// delivery ids (at least once). The transaction holds locks only on deliveries, never on the webhook
// row, so updateWebhook does not wait for a slow receiver.

export interface QueuedDelivery {
  id: string;
  webhook_id: string;
  user_id: string;
  typename: string;
  object_id: string;
  event: string;
  occurred_at: Date;
  attempts: number;
  body: string | null;
  url: string;
  secret: string;
}

/** Locks the head of one webhook's queue that is due, skipping heads other workers hold. */
const CLAIM_HEAD = `
  SELECT d.webhook_id FROM webhook_deliveries d
   WHERE d.id IN (
     SELECT head.id FROM webhooks w
      CROSS JOIN LATERAL (
        SELECT e.id, e.next_attempt_at FROM webhook_deliveries e
         WHERE e.webhook_id = w.id ORDER BY e.seq, e.typename, e.object_id LIMIT 1
      ) head
      WHERE w.active AND head.next_attempt_at <= now())
   ORDER BY d.next_attempt_at
   LIMIT 1
   FOR UPDATE OF d SKIP LOCKED`;

/** The claimed webhook's queue from its head, in order. */
const QUEUE = `
  SELECT d.id, d.webhook_id, d.user_id, d.typename, d.object_id, d.event, d.occurred_at, d.attempts, d.body, w.url, w.secret
    FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
   WHERE d.webhook_id = $1 AND w.active
   ORDER BY d.seq, d.typename, d.object_id
   LIMIT $2`;

export async function claimQueue(client: pg.PoolClient, batchSize: number): Promise<QueuedDelivery[]> {
  const { rows } = await client.query<{ webhook_id: string }>(CLAIM_HEAD);
  if (rows.length === 0) return [];
  return (await client.query<QueuedDelivery>(QUEUE, [rows[0]!.webhook_id, batchSize])).rows;
}

export interface BatchOutcome {
  webhookId: string;
  delivered: string[];
  /** The last attempt's time and status (null: no answer). */
  lastAttemptAt: Date;
  lastStatus: number | null;
  /** The delivery that failed, with when to try it again, or `giveUp` when its retry window is over. */
  failed?: { id: string; body: string; retryAt: Date } | { id: string; giveUp: true };
}

/** Records a batch: delivered rows go, a failure is scheduled or ends the webhook. */
export async function settleBatch(client: pg.PoolClient, outcome: BatchOutcome): Promise<void> {
  const { webhookId, delivered, failed } = outcome;
  // Nothing was attempted (a shutdown came first): nothing to record.
  if (delivered.length === 0 && !failed) return;
  if (delivered.length > 0) await client.query('DELETE FROM webhook_deliveries WHERE id = ANY($1::uuid[])', [delivered]);
  if (failed && 'giveUp' in failed) {
    // Its last retry failed: the webhook stops, and its queue with it (updateWebhook turns it on again).
    await client.query('UPDATE webhooks SET active = false, failure_count = failure_count + 1, last_delivery_at = $2, last_status = $3 WHERE id = $1', [
      webhookId,
      outcome.lastAttemptAt,
      outcome.lastStatus,
    ]);
    await client.query('DELETE FROM webhook_deliveries WHERE webhook_id = $1', [webhookId]);
    return;
  }
  if (failed) {
    await client.query('UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $2, body = $3 WHERE id = $1', [failed.id, failed.retryAt, failed.body]);
  }
  await client.query(
    'UPDATE webhooks SET last_delivery_at = $2, last_status = $3, failure_count = CASE WHEN $4 THEN failure_count + 1 ELSE 0 END WHERE id = $1',
    [webhookId, outcome.lastAttemptAt, outcome.lastStatus, failed !== undefined],
  );
}
