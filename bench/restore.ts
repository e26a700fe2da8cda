// Puts the seeded data back before a run: S3 and S6 create tasks and S4 completes recurring ones
// (creating their next occurrences), so without this every run would read a larger, more completed
// data set than the last (the search scenario slows run after run: more newer tasks to skip).
// Set-based and exact, because of two facts about bench/seed.ts: every seeded task was created at
// or before the seed's anchor (bench users were created 200 days before it), and the seed completes
// no recurring task.
import pg from 'pg';
import { benchUserEmail } from './fixtures.js';

export interface Restored {
  deleted: number;
  reopened: number;
}

export async function restoreSeededData(url: string): Promise<Restored> {
  // Seq scans of tasks at 10M take a while: no 60-second bound here.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('BEGIN');
    const deleted = await client.query(
      `DELETE FROM tasks
       WHERE created_at > (SELECT created_at + interval '200 days' FROM users WHERE email = $1)`,
      [benchUserEmail(1)],
    );
    // The trigger that moves updated_at and version on every change would make the reopened rows
    // differ from the seeded ones; it is off only inside this transaction.
    await client.query('ALTER TABLE tasks DISABLE TRIGGER tasks_bump_version');
    const reopened = await client.query(
      `UPDATE tasks SET completed = false, completed_at = NULL, version = 1, updated_at = created_at
       WHERE recurrence IS NOT NULL AND completed`,
    );
    await client.query('ALTER TABLE tasks ENABLE TRIGGER tasks_bump_version');
    await client.query('COMMIT');
    const restored = { deleted: deleted.rowCount ?? 0, reopened: reopened.rowCount ?? 0 };
    // Dead rows and stale statistics would otherwise slow the first reads of the run.
    if (restored.deleted + restored.reopened > 0) await client.query('VACUUM (ANALYZE) tasks, task_tags');
    return restored;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}
