-- A task's remind_at is mirrored as its primary reminder (20261205020000_reminders). On INSERT that was a
-- row trigger: one INSERT INTO reminders per task, each firing the reminders' change-feed triggers, so
-- a statement inserting many tasks with reminders (a seed, an import) ran three statements per such
-- task. Inserted tasks now get their reminders in one statement. UPDATE keeps its row trigger: a
-- trigger with a column list cannot have transition tables, and updates of remind_at come one task at a
-- time. Replacing the trigger takes a brief SHARE ROW EXCLUSIVE lock on tasks (reads go on).
SET LOCAL lock_timeout = '10s';

CREATE FUNCTION "mirror_inserted_primary_reminders"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Most inserts carry no reminder: then no statement on reminders (and none of its triggers) runs.
  IF EXISTS (SELECT 1 FROM new_rows WHERE remind_at IS NOT NULL) THEN
    INSERT INTO reminders (user_id, task_id, at, sent_at, is_primary)
    SELECT user_id, id, remind_at, reminder_sent_at, true FROM new_rows WHERE remind_at IS NOT NULL;
  END IF;
  RETURN NULL;
END $$;

DROP TRIGGER "tasks_primary_reminder_insert" ON "tasks";
CREATE TRIGGER "tasks_primary_reminder_insert" AFTER INSERT ON "tasks" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "mirror_inserted_primary_reminders"();

-- A task row whose reminder already says the same (the reminder worker marks the reminder sent, then its
-- task) writes nothing to reminders: no statement there, so none of its triggers.
CREATE OR REPLACE FUNCTION "mirror_primary_reminder"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.remind_at IS NULL THEN
    DELETE FROM reminders WHERE task_id = NEW.id AND is_primary;
  ELSIF NOT EXISTS (SELECT 1 FROM reminders WHERE task_id = NEW.id AND is_primary AND at = NEW.remind_at
                      AND sent_at IS NOT DISTINCT FROM NEW.reminder_sent_at) THEN
    INSERT INTO reminders (user_id, task_id, at, sent_at, is_primary)
    VALUES (NEW.user_id, NEW.id, NEW.remind_at, NEW.reminder_sent_at, true)
    ON CONFLICT (task_id) WHERE is_primary DO UPDATE SET at = EXCLUDED.at, sent_at = EXCLUDED.sent_at
      WHERE reminders.at IS DISTINCT FROM EXCLUDED.at OR reminders.sent_at IS DISTINCT FROM EXCLUDED.sent_at;
  END IF;
  RETURN NULL;
END $$;
