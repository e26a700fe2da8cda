-- Puts the tasks of the next 200 users (by id) into their Inbox, numbered in the order they were
-- created: 'a0' followed by a 10-digit rank and '1' is a fractional-indexing key (integer part 'a0',
-- a fraction that does not end in 0), so later moves place tasks between them. A user's tasks are
-- numbered in one statement, so an interrupted backfill never leaves a user half numbered.
WITH batch AS (
  SELECT id FROM users WHERE id > $1::uuid ORDER BY id LIMIT 200
), numbered AS (
  SELECT t.id, l.id AS list_id,
         'a0' || lpad(row_number() OVER (PARTITION BY t.user_id ORDER BY t.created_at, t.id)::text, 10, '0') || '1' AS position
    FROM tasks t
    JOIN batch b ON b.id = t.user_id
    JOIN lists l ON l.user_id = t.user_id AND l.is_inbox
   WHERE t.list_id IS NULL
), filled AS (
  UPDATE tasks SET list_id = numbered.list_id, position = numbered.position
    FROM numbered WHERE tasks.id = numbered.id
  RETURNING 1
)
SELECT (SELECT id::text FROM batch ORDER BY id DESC LIMIT 1) AS next, (SELECT count(*) FROM filled) AS filled
