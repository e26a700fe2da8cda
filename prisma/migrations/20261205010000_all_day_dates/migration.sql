-- All-day due dates. Adding nullable columns without a default rewrites nothing; the CHECK is added
-- NOT VALID (no scan) and validated by the next migration under a lock that lets reads and writes go on.

-- Waits at most 10 s for its locks: queued behind a long transaction, an ALTER would hold up every
-- read and write of tasks behind it. Failing instead changes nothing; run the migration again.
SET LOCAL lock_timeout = '10s';

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN "due_date" DATE,
ADD COLUMN "due_day_starts_at" TIMESTAMPTZ(3);

ALTER TABLE "tasks" ADD CONSTRAINT "tasks_due_date_or_due_at" CHECK ("due_date" IS NULL OR "due_at" IS NULL) NOT VALID;
-- A series repeats from a due date of either kind.
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_recurrence_needs_due_at";
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_recurrence_needs_due" CHECK ("recurrence" IS NULL OR "due_at" IS NOT NULL OR "due_date" IS NOT NULL) NOT VALID;

-- Where a calendar day begins in a time zone; midnight that a zone skips maps past the gap.
CREATE FUNCTION "day_starts_at"(day DATE, zone TEXT) RETURNS TIMESTAMPTZ LANGUAGE sql STABLE AS $$
  SELECT (day::timestamp AT TIME ZONE zone)
$$;

-- due_day_starts_at follows due_date in the owner's zone: written with the date ...
CREATE FUNCTION "set_due_day_start"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.due_day_starts_at := CASE WHEN NEW.due_date IS NULL THEN NULL
    ELSE day_starts_at(NEW.due_date, (SELECT time_zone FROM users WHERE id = NEW.user_id)) END;
  RETURN NEW;
END $$;
CREATE TRIGGER "tasks_due_day_start" BEFORE INSERT OR UPDATE OF "due_date", "user_id" ON "tasks" FOR EACH ROW EXECUTE FUNCTION "set_due_day_start"();

-- ... and again when the owner moves to another zone: the date stays, the instant it begins moves.
CREATE FUNCTION "move_due_days_to_zone"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tasks SET due_day_starts_at = day_starts_at(due_date, NEW.time_zone)
   WHERE user_id = NEW.id AND due_date IS NOT NULL;
  RETURN NULL;
END $$;
CREATE TRIGGER "users_move_due_days" AFTER UPDATE OF "time_zone" ON "users" FOR EACH ROW
  WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone) EXECUTE FUNCTION "move_due_days_to_zone"();

-- A zone change is no change to a task a client holds: its version stays.
CREATE OR REPLACE FUNCTION "bump_task_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('tasks.rebalancing', true) = 'on' THEN
    NEW.updated_at := OLD.updated_at;
    NEW.version := OLD.version;
    RETURN NEW;
  END IF;
  IF NEW.version = OLD.version
     AND (to_jsonb(NEW) - 'reminder_sent_at' - 'updated_at' - 'version' - 'due_day_starts_at') IS NOT DISTINCT FROM (to_jsonb(OLD) - 'reminder_sent_at' - 'updated_at' - 'version' - 'due_day_starts_at')
     AND NEW.due_day_starts_at IS DISTINCT FROM OLD.due_day_starts_at THEN
    NEW.updated_at := OLD.updated_at;
    RETURN NEW;
  END IF;
  NEW.updated_at := now();
  IF NEW.version > OLD.version
     OR (to_jsonb(NEW) - 'reminder_sent_at' - 'updated_at' - 'version') IS DISTINCT FROM (to_jsonb(OLD) - 'reminder_sent_at' - 'updated_at' - 'version') THEN
    NEW.version := OLD.version + 1;
  ELSE
    NEW.version := OLD.version;
  END IF;
  RETURN NEW;
END $$;
