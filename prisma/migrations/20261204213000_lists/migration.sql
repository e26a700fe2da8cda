-- Lists, and the columns that put every task in one: added here without NOT NULL so that adding
-- them is instant on a large tasks table. backfill.sql then gives each existing user's tasks their
-- Inbox and a position, in short batches; the next migration makes the columns NOT NULL and adds
-- the keys that rely on them.

-- CreateTable
CREATE TABLE "lists" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "color" TEXT,
    "is_inbox" BOOLEAN NOT NULL DEFAULT false,
    "archived_at" TIMESTAMPTZ(3),
    "position" TEXT COLLATE "C" NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "idempotency_key" VARCHAR(128),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "lists_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "lists_id_user_id_key" ON "lists"("id", "user_id");
CREATE UNIQUE INDEX "lists_user_id_position_key" ON "lists"("user_id", "position");
CREATE UNIQUE INDEX "lists_user_id_idempotency_key_key" ON "lists"("user_id", "idempotency_key");
CREATE UNIQUE INDEX "lists_one_inbox_per_user" ON "lists"("user_id") WHERE is_inbox;

-- AddForeignKey
ALTER TABLE "lists" ADD CONSTRAINT "lists_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddCheckConstraint
ALTER TABLE "lists" ADD CONSTRAINT "lists_name_not_blank" CHECK (btrim(name) <> '');
ALTER TABLE "lists" ADD CONSTRAINT "lists_color_hex" CHECK (color ~ '^#[0-9a-fA-F]{6}$');
ALTER TABLE "lists" ADD CONSTRAINT "lists_inbox_stays" CHECK (NOT is_inbox OR archived_at IS NULL);
ALTER TABLE "lists" ADD CONSTRAINT "lists_version_positive" CHECK (version >= 1);

-- CreateTrigger: a change a client can see bumps a list's version, as for tasks.
CREATE FUNCTION "bump_list_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  IF (to_jsonb(NEW) - 'updated_at' - 'version') IS DISTINCT FROM (to_jsonb(OLD) - 'updated_at' - 'version') THEN
    NEW.version := OLD.version + 1;
  ELSE
    NEW.version := OLD.version;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER "lists_bump_version" BEFORE UPDATE ON "lists" FOR EACH ROW EXECUTE FUNCTION "bump_list_version"();

-- Every user has exactly one Inbox from the moment they exist, however they came to exist (sign-up,
-- or first sight of an external identity): the database gives it, not each code path. 'a0' is the
-- first key fractional-indexing hands out.
CREATE FUNCTION "create_inbox"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lists (user_id, name, is_inbox, position) VALUES (NEW.id, 'Inbox', true, 'a0');
  RETURN NULL;
END $$;
CREATE TRIGGER "users_create_inbox" AFTER INSERT ON "users" FOR EACH ROW EXECUTE FUNCTION "create_inbox"();

INSERT INTO lists (user_id, name, is_inbox, position) SELECT id, 'Inbox', true, 'a0' FROM users;

-- AlterTable: nullable for now, so no table rewrite and no scan.
ALTER TABLE "tasks" ADD COLUMN "list_id" UUID,
ADD COLUMN "parent_id" UUID,
ADD COLUMN "position" TEXT COLLATE "C";

-- A task written without a list (by a server of the previous release still running during a rolling
-- deploy, or by hand in SQL) lands at the end of its owner's Inbox. Keys made here sort after the
-- backfilled ones ('a0' + a 10-digit rank) and before keys fractional-indexing makes after them.
CREATE FUNCTION "task_default_list"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.list_id IS NULL AND NEW.parent_id IS NULL THEN
    SELECT id INTO NEW.list_id FROM lists WHERE user_id = NEW.user_id AND is_inbox;
  END IF;
  IF NEW.position IS NULL THEN
    NEW.position := 'a0' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS') || substr(md5(NEW.id::text), 1, 8) || '1';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER "tasks_default_list" BEFORE INSERT ON "tasks" FOR EACH ROW WHEN (NEW.list_id IS NULL OR NEW.position IS NULL) EXECUTE FUNCTION "task_default_list"();

-- The backfill fills list_id for the first time: no change a client can see, so neither version nor
-- updated_at moves. The next migration restores the function as it was.
CREATE OR REPLACE FUNCTION "bump_task_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.list_id IS NULL AND NEW.list_id IS NOT NULL THEN
    NEW.updated_at := OLD.updated_at;
    NEW.version := OLD.version;
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
