-- The worker reads reminders now; the index it used on tasks goes.

-- Waits at most 10 s for its locks: queued behind a long transaction, an ALTER would hold up every
-- read and write of tasks behind it. Failing instead changes nothing; run the migration again.
SET LOCAL lock_timeout = '10s';

DROP INDEX "tasks_reminder_due_idx";
