import type pg from 'pg';

export interface PurgeOptions {
  retentionDays: number;
  /** Tombstones removed per statement, so that no statement holds many rows for long. */
  batchSize?: number;
}

/**
 * Removes deletions older than the retention from the change feed, batch by batch, and records per
 * user the highest number removed: a sync token from before it may have missed one of them and is
 * answered SYNC_TOKEN_EXPIRED (src/sync/change-feed.ts). Returns how many were removed.
 */
export async function purgeTombstones(pool: Pick<pg.Pool, 'query'>, { retentionDays, batchSize = 1_000 }: PurgeOptions): Promise<number> {
  let purged = 0;
  for (;;) {
    const { rows } = await pool.query<{ count: number }>(
      `WITH doomed AS (
         SELECT user_id, typename, object_id FROM changes
          WHERE deleted AND changed_at < now() - $1 * interval '1 day'
          LIMIT $2 FOR UPDATE SKIP LOCKED
       ),
       purged AS (
         DELETE FROM changes c USING doomed d
          WHERE c.user_id = d.user_id AND c.typename = d.typename AND c.object_id = d.object_id
         RETURNING c.user_id, c.seq
       ),
       marked AS (
         INSERT INTO sync_counters AS s (user_id, purged_through)
         SELECT user_id, max(seq) FROM purged GROUP BY user_id
         ON CONFLICT (user_id) DO UPDATE SET purged_through = greatest(s.purged_through, EXCLUDED.purged_through)
       )
       SELECT count(*)::int AS count FROM purged`,
      [retentionDays, batchSize],
    );
    purged += rows[0]!.count;
    if (rows[0]!.count < batchSize) return purged;
  }
}
