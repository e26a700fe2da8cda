-- Webhooks (docs/webhooks.md): registrations, the delivery queue, and the change feed's triggers taught
-- what each change was (changes.event), so that the commit that numbers a user's changes also queues
-- their deliveries. New tables and a column without a default: no existing row is rewritten.
SET LOCAL lock_timeout = '10s';

-- AlterTable
ALTER TABLE "changes" ADD COLUMN     "event" TEXT;

-- CreateTable
CREATE TABLE "webhooks" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "url" VARCHAR(2048) NOT NULL,
    "events" TEXT[],
    "secret" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "failure_count" INTEGER NOT NULL DEFAULT 0,
    "last_delivery_at" TIMESTAMPTZ(3),
    "last_status" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhooks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "webhook_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "typename" TEXT NOT NULL,
    "object_id" UUID NOT NULL,
    "event" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "body" TEXT,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhooks_user_id_idx" ON "webhooks"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "webhooks_id_user_id_key" ON "webhooks"("id", "user_id");

-- CreateIndex
CREATE INDEX "webhook_deliveries_webhook_id_seq_typename_object_id_idx" ON "webhook_deliveries"("webhook_id", "seq", "typename", "object_id");

-- AddForeignKey
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_user_id_fkey" FOREIGN KEY ("webhook_id", "user_id") REFERENCES "webhooks"("id", "user_id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_events" CHECK ("events" IS NOT NULL AND cardinality("events") BETWEEN 1 AND 20);
-- NOT VALID: checked for every row written from now on, without scanning the feed's existing rows
-- (all null) under this migration's lock on the table.
ALTER TABLE "changes" ADD CONSTRAINT "changes_event" CHECK ("event" IN ('created', 'updated', 'completed', 'deleted')) NOT VALID;

-- A transaction that changes an object twice is told as one event: what the object became, seen from
-- before the transaction. Created and then changed is still created; created and deleted is nothing.
CREATE FUNCTION "change_event_after"(earlier TEXT, later TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN earlier = 'created' AND later = 'deleted' THEN NULL
    WHEN earlier = 'created' THEN 'created'
    WHEN earlier = 'deleted' AND later = 'created' THEN 'updated'
    WHEN earlier = 'deleted' THEN 'deleted'
    WHEN earlier = 'completed' AND later IS DISTINCT FROM 'deleted' THEN 'completed'
    ELSE coalesce(later, earlier)
  END
$$;

-- The triggers of 20261205060000_change_feed, with the event. A row whose seq is null was written by
-- this transaction (another writer's row would be locked until its commit numbered it), so its event
-- combines with the new one; a numbered row's event is replaced.
-- A task is created or deleted for webhooks when it enters or leaves the live tasks: going to the trash
-- is task.deleted, a restore is task.created, and a change to a task in the trash is nothing.
CREATE OR REPLACE FUNCTION "record_task_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  noted BOOLEAN;
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted, event)
      SELECT n.user_id, 'Task', n.id, n.deleted_at IS NOT NULL, CASE WHEN n.deleted_at IS NULL THEN 'created' END FROM new_rows n
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = EXCLUDED.deleted, seq = NULL,
        event = CASE WHEN c.seq IS NULL THEN change_event_after(c.event, EXCLUDED.event) ELSE EXCLUDED.event END
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSIF TG_OP = 'UPDATE' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted, event)
      SELECT n.user_id, 'Task', n.id, n.deleted_at IS NOT NULL,
             CASE WHEN n.deleted_at IS NOT NULL AND o.deleted_at IS NULL THEN 'deleted'
                  WHEN n.deleted_at IS NOT NULL THEN NULL
                  WHEN o.deleted_at IS NOT NULL THEN 'created'
                  WHEN n.completed AND NOT o.completed THEN 'completed'
                  ELSE 'updated' END
        FROM new_rows n JOIN old_rows o ON o.id = n.id
       WHERE n IS DISTINCT FROM o
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = EXCLUDED.deleted, seq = NULL,
        event = CASE WHEN c.seq IS NULL THEN change_event_after(c.event, EXCLUDED.event) ELSE EXCLUDED.event END
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSE
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted, event)
      SELECT o.user_id, 'Task', o.id, true, CASE WHEN o.deleted_at IS NULL THEN 'deleted' END
        FROM old_rows o WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id)
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = true, seq = NULL,
        event = CASE WHEN c.seq IS NULL THEN change_event_after(c.event, EXCLUDED.event) ELSE EXCLUDED.event END
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "record_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  noted BOOLEAN;
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted, event)
      SELECT n.user_id, TG_ARGV[0], n.id, false, 'created' FROM new_rows n
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = false, seq = NULL,
        event = CASE WHEN c.seq IS NULL THEN change_event_after(c.event, EXCLUDED.event) ELSE EXCLUDED.event END
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSIF TG_OP = 'UPDATE' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted, event)
      SELECT n.user_id, TG_ARGV[0], n.id, false, 'updated' FROM new_rows n JOIN old_rows o ON o.id = n.id
       WHERE n IS DISTINCT FROM o
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = false, seq = NULL,
        event = CASE WHEN c.seq IS NULL THEN change_event_after(c.event, EXCLUDED.event) ELSE EXCLUDED.event END
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSE
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted, event)
      SELECT o.user_id, TG_ARGV[0], o.id, true, 'deleted' FROM old_rows o WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id)
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = true, seq = NULL,
        event = CASE WHEN c.seq IS NULL THEN change_event_after(c.event, EXCLUDED.event) ELSE EXCLUDED.event END
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  END IF;
  RETURN NULL;
END $$;

-- A tag link or a reminder changed its task: task.updated, unless the task is in the trash. Whether it
-- is, is read from the task's own change row under its lock (see 20261205060000_change_feed).
CREATE OR REPLACE FUNCTION "record_task_part_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  noted BOOLEAN;
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted, event)
      SELECT t.user_id, 'Task', t.id, t.deleted_at IS NOT NULL, CASE WHEN t.deleted_at IS NULL THEN 'updated' END
        FROM tasks t WHERE t.id IN (SELECT task_id FROM new_rows)
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET seq = NULL,
        event = CASE WHEN c.seq IS NULL THEN change_event_after(c.event, CASE WHEN NOT c.deleted THEN 'updated' END)
                     WHEN NOT c.deleted THEN 'updated' END
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSIF TG_OP = 'UPDATE' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted, event)
      SELECT t.user_id, 'Task', t.id, t.deleted_at IS NOT NULL, CASE WHEN t.deleted_at IS NULL THEN 'updated' END FROM tasks t
       WHERE t.id IN (SELECT task_id FROM new_rows UNION SELECT task_id FROM old_rows)
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET seq = NULL,
        event = CASE WHEN c.seq IS NULL THEN change_event_after(c.event, CASE WHEN NOT c.deleted THEN 'updated' END)
                     WHEN NOT c.deleted THEN 'updated' END
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSE
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted, event)
      SELECT t.user_id, 'Task', t.id, t.deleted_at IS NOT NULL, CASE WHEN t.deleted_at IS NULL THEN 'updated' END
        FROM tasks t WHERE t.id IN (SELECT task_id FROM old_rows)
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET seq = NULL,
        event = CASE WHEN c.seq IS NULL THEN change_event_after(c.event, CASE WHEN NOT c.deleted THEN 'updated' END)
                     WHEN NOT c.deleted THEN 'updated' END
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  END IF;
  RETURN NULL;
END $$;

-- Numbering at commit (20261205060000_change_feed), now also queueing the deliveries of the user's
-- active webhooks whose events match, with the change's number: they are in commit order like the
-- feed, and queued in the transaction that made the change, so none is lost and none is made for a
-- change that rolled back. A user without an active webhook pays one index probe.
CREATE OR REPLACE FUNCTION "number_changes_at_commit"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  noted_users UUID[] := nullif(current_setting('sync.changed_users', true), '')::uuid[];
  changed_user UUID;
  next_seq BIGINT;
  queued BIGINT := 0;
BEGIN
  -- The first of a transaction's rows to get here numbers them all; the others find nothing to do.
  IF noted_users IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('sync.changed_users', '', true);
  FOR changed_user IN SELECT DISTINCT u FROM unnest(noted_users) u ORDER BY u LOOP
    -- A user deleted later in the transaction took their rows with them.
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM users WHERE id = changed_user);
    INSERT INTO sync_counters AS s (user_id, seq) VALUES (changed_user, 1)
    ON CONFLICT (user_id) DO UPDATE SET seq = s.seq + 1
    RETURNING s.seq INTO next_seq;
    IF EXISTS (SELECT 1 FROM webhooks WHERE user_id = changed_user AND active) THEN
      WITH numbered AS (
        UPDATE changes SET seq = next_seq, changed_at = now() WHERE user_id = changed_user AND seq IS NULL
        RETURNING typename, object_id, lower(typename) || '.' || event AS event, changed_at
      ), deliveries AS (
        INSERT INTO webhook_deliveries (webhook_id, user_id, seq, typename, object_id, event, occurred_at)
        SELECT w.id, changed_user, next_seq, n.typename, n.object_id, n.event, n.changed_at
          FROM numbered n JOIN webhooks w ON w.user_id = changed_user AND w.active
         WHERE n.event IS NOT NULL AND w.events && ARRAY[n.event, split_part(n.event, '.', 1) || '.*', '*']
        RETURNING 1
      )
      SELECT queued + count(*) INTO queued FROM deliveries;
    ELSE
      UPDATE changes SET seq = next_seq, changed_at = now() WHERE user_id = changed_user AND seq IS NULL;
    END IF;
  END LOOP;
  -- Wakes the delivery workers when the commit is visible (they also poll).
  IF queued > 0 THEN
    PERFORM pg_notify('webhook_deliveries', '');
  END IF;
  RETURN NULL;
END $$;
