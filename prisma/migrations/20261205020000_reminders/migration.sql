-- Several reminders per task. A new, empty table: nothing here locks tasks for long. Existing
-- remind_at values become reminders in backfill.sql, in batches, before the next migration.

-- Waits at most 10 s for its locks: queued behind a long transaction, an ALTER would hold up every
-- read and write of tasks behind it. Failing instead changes nothing; run the migration again.
SET LOCAL lock_timeout = '10s';

-- CreateTable
CREATE TABLE "reminders" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "task_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3),
    "minutes_before" INTEGER,
    "fire_at" TIMESTAMPTZ(3),
    "sent_at" TIMESTAMPTZ(3),
    "is_primary" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "reminders_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "reminders_user_id_task_id_idx" ON "reminders"("user_id", "task_id");

-- CreateIndex
CREATE INDEX "reminders_due_idx" ON "reminders"("fire_at") WHERE (sent_at IS NULL);

-- CreateIndex
CREATE UNIQUE INDEX "reminders_id_user_id_key" ON "reminders"("id", "user_id");

-- CreateIndex
CREATE UNIQUE INDEX "reminders_one_primary_per_task" ON "reminders"("task_id") WHERE (is_primary);

-- AddForeignKey
ALTER TABLE "reminders" ADD CONSTRAINT "reminders_task_id_user_id_fkey" FOREIGN KEY ("task_id", "user_id") REFERENCES "tasks"("id", "user_id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "reminders" ADD CONSTRAINT "reminders_at_or_minutes_before" CHECK (("at" IS NULL) <> ("minutes_before" IS NULL));
ALTER TABLE "reminders" ADD CONSTRAINT "reminders_minutes_before_range" CHECK ("minutes_before" BETWEEN 0 AND 40320);
ALTER TABLE "reminders" ADD CONSTRAINT "reminders_primary_is_absolute" CHECK (NOT "is_primary" OR "at" IS NOT NULL);

-- When a reminder fires: at its instant, or minutes before its task's due instant (an all-day task's
-- at 09:00 of its day in the owner's zone); never while its task has no due date.
CREATE FUNCTION "reminder_fire_at"(at TIMESTAMPTZ, minutes_before INTEGER, due_at TIMESTAMPTZ, due_date DATE, zone TEXT)
RETURNS TIMESTAMPTZ LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN at IS NOT NULL THEN at
    WHEN due_at IS NOT NULL THEN due_at - minutes_before * interval '1 minute'
    WHEN due_date IS NOT NULL THEN ((due_date + time '09:00') AT TIME ZONE zone) - minutes_before * interval '1 minute'
  END
$$;

-- fire_at follows what the reminder says (a snooze sets fire_at alone and is left as it is), and a
-- task has at most 5 reminders: counted under the task's row lock, so two concurrent adds cannot both
-- be the fifth.
CREATE FUNCTION "set_reminder_fire_at"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    -- The first absolute reminder comes with its task's own write (which holds the row already).
    IF NOT NEW.is_primary THEN
      PERFORM 1 FROM tasks WHERE id = NEW.task_id AND user_id = NEW.user_id FOR UPDATE;
    END IF;
    IF (SELECT count(*) FROM reminders WHERE user_id = NEW.user_id AND task_id = NEW.task_id) >= 5 THEN
      RAISE EXCEPTION 'a task has at most 5 reminders' USING ERRCODE = '23514', CONSTRAINT = 'reminders_at_most_5';
    END IF;
  END IF;
  NEW.fire_at := (SELECT reminder_fire_at(NEW.at, NEW.minutes_before, t.due_at, t.due_date, u.time_zone)
                    FROM tasks t JOIN users u ON u.id = t.user_id WHERE t.id = NEW.task_id);
  RETURN NEW;
END $$;
CREATE TRIGGER "reminders_fire_at" BEFORE INSERT OR UPDATE OF "at", "minutes_before" ON "reminders" FOR EACH ROW
  EXECUTE FUNCTION "set_reminder_fire_at"();

-- tasks.remind_at is the task's first absolute reminder: kept as a reminder row (is_primary), with
-- reminder_sent_at as its sent_at.
CREATE FUNCTION "mirror_primary_reminder"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.remind_at IS NULL THEN
    DELETE FROM reminders WHERE task_id = NEW.id AND is_primary;
  ELSE
    INSERT INTO reminders (user_id, task_id, at, sent_at, is_primary)
    VALUES (NEW.user_id, NEW.id, NEW.remind_at, NEW.reminder_sent_at, true)
    ON CONFLICT (task_id) WHERE is_primary DO UPDATE SET at = EXCLUDED.at, sent_at = EXCLUDED.sent_at
      WHERE reminders.at IS DISTINCT FROM EXCLUDED.at OR reminders.sent_at IS DISTINCT FROM EXCLUDED.sent_at;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER "tasks_primary_reminder_insert" AFTER INSERT ON "tasks" FOR EACH ROW
  WHEN (NEW.remind_at IS NOT NULL) EXECUTE FUNCTION "mirror_primary_reminder"();
CREATE TRIGGER "tasks_primary_reminder_update" AFTER UPDATE OF "remind_at", "reminder_sent_at" ON "tasks" FOR EACH ROW
  WHEN (OLD.remind_at IS DISTINCT FROM NEW.remind_at OR OLD.reminder_sent_at IS DISTINCT FROM NEW.reminder_sent_at)
  EXECUTE FUNCTION "mirror_primary_reminder"();

-- Relative reminders move with the due date, and fire again at their new time.
CREATE FUNCTION "move_relative_reminders"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE reminders r SET fire_at = reminder_fire_at(NULL, r.minutes_before, NEW.due_at, NEW.due_date, u.time_zone), sent_at = NULL
    FROM users u WHERE u.id = NEW.user_id AND r.user_id = NEW.user_id AND r.task_id = NEW.id AND r.minutes_before IS NOT NULL;
  RETURN NULL;
END $$;
CREATE TRIGGER "tasks_move_relative_reminders" AFTER UPDATE OF "due_at", "due_date" ON "tasks" FOR EACH ROW
  WHEN (OLD.due_at IS DISTINCT FROM NEW.due_at OR OLD.due_date IS DISTINCT FROM NEW.due_date)
  EXECUTE FUNCTION "move_relative_reminders"();

-- A zone change moves the start of every all-day task's day, and the reminders before 09:00 of it.
CREATE OR REPLACE FUNCTION "move_due_days_to_zone"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tasks SET due_day_starts_at = day_starts_at(due_date, NEW.time_zone)
   WHERE user_id = NEW.id AND due_date IS NOT NULL;
  UPDATE reminders r SET fire_at = reminder_fire_at(NULL, r.minutes_before, NULL, t.due_date, NEW.time_zone)
    FROM tasks t
   WHERE r.user_id = NEW.id AND t.id = r.task_id AND t.user_id = NEW.id AND r.minutes_before IS NOT NULL AND t.due_date IS NOT NULL;
  RETURN NULL;
END $$;
