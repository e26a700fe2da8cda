-- Each task's remind_at becomes its first absolute reminder, 200 users at a time (the trigger that keeps
-- them in step from now on is already in place, so a task written meanwhile is mirrored already).
WITH batch AS (SELECT id FROM users WHERE id > $1::uuid ORDER BY id LIMIT 200),
copied AS (
  INSERT INTO reminders (user_id, task_id, at, sent_at, is_primary)
  SELECT t.user_id, t.id, t.remind_at, t.reminder_sent_at, true
    FROM tasks t JOIN batch ON t.user_id = batch.id
   WHERE t.remind_at IS NOT NULL
  ON CONFLICT (task_id) WHERE is_primary DO NOTHING
)
SELECT max(id::text) AS next FROM batch
