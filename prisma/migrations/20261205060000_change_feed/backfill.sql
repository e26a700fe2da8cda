-- What existed before the feed, as number 0, 200 users at a time: a full sync starts from it. The
-- triggers are in place already, so an object written meanwhile has its own row and keeps it.
WITH batch AS (SELECT id FROM users WHERE id > $1::uuid ORDER BY id LIMIT 200),
tasks_recorded AS (
  INSERT INTO changes (user_id, typename, object_id, seq, deleted)
  SELECT t.user_id, 'Task', t.id, 0, t.deleted_at IS NOT NULL FROM tasks t JOIN batch ON t.user_id = batch.id
  ON CONFLICT DO NOTHING
),
lists_recorded AS (
  INSERT INTO changes (user_id, typename, object_id, seq, deleted)
  SELECT l.user_id, 'List', l.id, 0, false FROM lists l JOIN batch ON l.user_id = batch.id
  ON CONFLICT DO NOTHING
),
tags_recorded AS (
  INSERT INTO changes (user_id, typename, object_id, seq, deleted)
  SELECT g.user_id, 'Tag', g.id, 0, false FROM tags g JOIN batch ON g.user_id = batch.id
  ON CONFLICT DO NOTHING
)
SELECT max(id::text) AS next FROM batch
