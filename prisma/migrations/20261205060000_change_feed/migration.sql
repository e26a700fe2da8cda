-- The change feed (docs/sync.md): two new tables and the triggers that keep them. Nothing here
-- rewrites tasks; the triggers take a brief SHARE ROW EXCLUSIVE lock on each table they are added to.
-- What existed before gets its rows, numbered 0, in backfill.sql.
SET LOCAL lock_timeout = '10s';

-- CreateTable
CREATE TABLE "changes" (
    "user_id" UUID NOT NULL,
    "typename" TEXT NOT NULL,
    "object_id" UUID NOT NULL,
    "seq" BIGINT,
    "deleted" BOOLEAN NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "changes_pkey" PRIMARY KEY ("user_id","typename","object_id")
);

-- CreateTable
CREATE TABLE "sync_counters" (
    "user_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL DEFAULT 0,
    "purged_through" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "sync_counters_pkey" PRIMARY KEY ("user_id")
);

-- CreateIndex
CREATE INDEX "changes_user_id_seq_typename_object_id_idx" ON "changes"("user_id", "seq", "typename", "object_id");

-- AddForeignKey
ALTER TABLE "changes" ADD CONSTRAINT "changes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sync_counters" ADD CONSTRAINT "sync_counters_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "changes" ADD CONSTRAINT "changes_typename" CHECK ("typename" IN ('Task', 'List', 'Tag'));

-- The users whose rows a transaction recorded, for numbering at commit: kept in a transaction-local
-- setting, since the deferred trigger must lock the users' counters in one order (by id) for all
-- transactions, or two that changed the same users (the reminder worker's batches) could deadlock.
CREATE FUNCTION "note_changed_users"(users UUID[]) RETURNS BOOLEAN LANGUAGE sql AS $$
  SELECT users IS NULL OR set_config('sync.changed_users',
    (coalesce(nullif(current_setting('sync.changed_users', true), ''), '{}')::uuid[] || users)::text, true) IS NOT NULL
$$;

-- Statement triggers record what a statement changed, as one upsert per statement. The row's number
-- is cleared: the deferred trigger below gives it the transaction's number at commit. A concurrent
-- writer of the same object waits on this row until the transaction ends, so each object's row says
-- the last committed change to it.

-- A user being deleted takes their rows with them (the foreign key); their cascaded deletes record nothing.
CREATE FUNCTION "record_task_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  noted BOOLEAN;
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted)
      SELECT n.user_id, 'Task', n.id, n.deleted_at IS NOT NULL FROM new_rows n
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = EXCLUDED.deleted, seq = NULL
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSIF TG_OP = 'UPDATE' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted)
      SELECT n.user_id, 'Task', n.id, n.deleted_at IS NOT NULL FROM new_rows n JOIN old_rows o ON o.id = n.id
       WHERE n IS DISTINCT FROM o
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = EXCLUDED.deleted, seq = NULL
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSE
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted)
      SELECT o.user_id, 'Task', o.id, true FROM old_rows o WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id)
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = true, seq = NULL
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  END IF;
  RETURN NULL;
END $$;

-- Lists and tags: the same, with the typename as the trigger's argument.
CREATE FUNCTION "record_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  noted BOOLEAN;
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted)
      SELECT n.user_id, TG_ARGV[0], n.id, false FROM new_rows n
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = false, seq = NULL
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSIF TG_OP = 'UPDATE' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted)
      SELECT n.user_id, TG_ARGV[0], n.id, false FROM new_rows n JOIN old_rows o ON o.id = n.id
       WHERE n IS DISTINCT FROM o
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = false, seq = NULL
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSE
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted)
      SELECT o.user_id, TG_ARGV[0], o.id, true FROM old_rows o WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id)
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET deleted = true, seq = NULL
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  END IF;
  RETURN NULL;
END $$;

-- A tag link or a reminder is part of its task (Task.tags, Task.reminders): the task changed. A task
-- deleted in the same statement (a cascade) is no longer there and records nothing here. Whether the
-- task is deleted (or in the trash) is left to the tasks trigger, which knows it under the task's row
-- lock: read here, it could be older than a restore that commits while this statement waits for the
-- row, and would undo it.
CREATE FUNCTION "record_task_part_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  noted BOOLEAN;
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted)
      SELECT t.user_id, 'Task', t.id, t.deleted_at IS NOT NULL FROM tasks t WHERE t.id IN (SELECT task_id FROM new_rows)
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET seq = NULL
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSIF TG_OP = 'UPDATE' THEN
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted)
      SELECT t.user_id, 'Task', t.id, t.deleted_at IS NOT NULL FROM tasks t
       WHERE t.id IN (SELECT task_id FROM new_rows UNION SELECT task_id FROM old_rows)
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET seq = NULL
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  ELSE
    WITH recorded AS (
      INSERT INTO changes AS c (user_id, typename, object_id, deleted)
      SELECT t.user_id, 'Task', t.id, t.deleted_at IS NOT NULL FROM tasks t WHERE t.id IN (SELECT task_id FROM old_rows)
      ON CONFLICT (user_id, typename, object_id) DO UPDATE SET seq = NULL
      RETURNING user_id
    )
    SELECT note_changed_users(array_agg(DISTINCT user_id)) INTO STRICT noted FROM recorded;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "tasks_record_inserts" AFTER INSERT ON "tasks" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_task_changes"();
CREATE TRIGGER "tasks_record_updates" AFTER UPDATE ON "tasks" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_task_changes"();
CREATE TRIGGER "tasks_record_deletes" AFTER DELETE ON "tasks" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_task_changes"();

CREATE TRIGGER "lists_record_inserts" AFTER INSERT ON "lists" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_changes"('List');
CREATE TRIGGER "lists_record_updates" AFTER UPDATE ON "lists" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_changes"('List');
CREATE TRIGGER "lists_record_deletes" AFTER DELETE ON "lists" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_changes"('List');

CREATE TRIGGER "tags_record_inserts" AFTER INSERT ON "tags" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_changes"('Tag');
CREATE TRIGGER "tags_record_updates" AFTER UPDATE ON "tags" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_changes"('Tag');
CREATE TRIGGER "tags_record_deletes" AFTER DELETE ON "tags" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_changes"('Tag');

CREATE TRIGGER "task_tags_record_inserts" AFTER INSERT ON "task_tags" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_task_part_changes"();
CREATE TRIGGER "task_tags_record_deletes" AFTER DELETE ON "task_tags" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_task_part_changes"();

CREATE TRIGGER "reminders_record_inserts" AFTER INSERT ON "reminders" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_task_part_changes"();
CREATE TRIGGER "reminders_record_updates" AFTER UPDATE ON "reminders" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_task_part_changes"();
CREATE TRIGGER "reminders_record_deletes" AFTER DELETE ON "reminders" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "record_task_part_changes"();

-- At commit, the transaction's rows of a user get the user's next number. The number is taken under
-- the user's sync_counters row lock, which the transaction keeps until its commit is visible: a later
-- transaction of the same user waits for it and takes a higher number, so numbers follow commit order
-- and a reader that has seen number n has seen every change numbered up to n. The lock is held only
-- while committing, after every other lock the transaction takes, so it adds no lock-order cycle.
CREATE FUNCTION "number_changes_at_commit"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  noted_users UUID[] := nullif(current_setting('sync.changed_users', true), '')::uuid[];
  changed_user UUID;
  next_seq BIGINT;
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
    UPDATE changes SET seq = next_seq, changed_at = now() WHERE user_id = changed_user AND seq IS NULL;
  END LOOP;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER "changes_number_at_commit" AFTER INSERT OR UPDATE ON "changes"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.seq IS NULL)
  EXECUTE FUNCTION "number_changes_at_commit"();
