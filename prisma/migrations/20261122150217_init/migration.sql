-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "citext";

-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateEnum
CREATE TYPE "Priority" AS ENUM ('NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" TEXT,
    "password_hash" TEXT,
    "external_id" TEXT,
    "name" TEXT,
    "time_zone" TEXT NOT NULL DEFAULT 'UTC',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tasks" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "title" VARCHAR(500) NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "completed" BOOLEAN NOT NULL DEFAULT false,
    "completed_at" TIMESTAMPTZ(3),
    "priority" "Priority" NOT NULL DEFAULT 'NONE',
    "due_at" TIMESTAMPTZ(3),
    "remind_at" TIMESTAMPTZ(3),
    "reminder_sent_at" TIMESTAMPTZ(3),
    "recurrence" TEXT,
    "series_id" UUID,
    "generated_from_id" UUID,
    "idempotency_key" VARCHAR(128),
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tasks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tags" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "name" CITEXT NOT NULL,
    "color" TEXT,
    "idempotency_key" VARCHAR(128),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tags_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task_tags" (
    "task_id" UUID NOT NULL,
    "tag_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,

    CONSTRAINT "task_tags_pkey" PRIMARY KEY ("task_id","tag_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "users_external_id_key" ON "users"("external_id");

-- CreateIndex
CREATE UNIQUE INDEX "tasks_generated_from_id_key" ON "tasks"("generated_from_id");

-- CreateIndex
CREATE INDEX "tasks_user_id_due_at_id_idx" ON "tasks"("user_id", "due_at", "id");

-- CreateIndex
CREATE INDEX "tasks_user_id_created_at_id_idx" ON "tasks"("user_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "tasks_user_id_updated_at_id_idx" ON "tasks"("user_id", "updated_at", "id");

-- CreateIndex
CREATE INDEX "tasks_series_id_idx" ON "tasks"("series_id");

-- CreateIndex
CREATE INDEX "tasks_reminder_due_idx" ON "tasks"("remind_at") WHERE (reminder_sent_at IS NULL AND completed = false AND remind_at IS NOT NULL);

-- CreateIndex
CREATE INDEX "tasks_title_trgm_idx" ON "tasks" USING GIN ("title" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "tasks_description_trgm_idx" ON "tasks" USING GIN ("description" gin_trgm_ops);

-- CreateIndex
CREATE UNIQUE INDEX "tasks_id_user_id_key" ON "tasks"("id", "user_id");

-- CreateIndex
CREATE UNIQUE INDEX "tasks_user_id_idempotency_key_key" ON "tasks"("user_id", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "tags_user_id_name_key" ON "tags"("user_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "tags_id_user_id_key" ON "tags"("id", "user_id");

-- CreateIndex
CREATE UNIQUE INDEX "tags_user_id_idempotency_key_key" ON "tags"("user_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "task_tags_tag_id_user_id_idx" ON "task_tags"("tag_id", "user_id");

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_generated_from_id_fkey" FOREIGN KEY ("generated_from_id") REFERENCES "tasks"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tags" ADD CONSTRAINT "tags_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task_tags" ADD CONSTRAINT "task_tags_task_id_user_id_fkey" FOREIGN KEY ("task_id", "user_id") REFERENCES "tasks"("id", "user_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task_tags" ADD CONSTRAINT "task_tags_tag_id_user_id_fkey" FOREIGN KEY ("tag_id", "user_id") REFERENCES "tags"("id", "user_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: rules Prisma's schema language cannot express. A bad row must be impossible.

-- AddCheckConstraint
ALTER TABLE "users" ADD CONSTRAINT "users_email_lower_case" CHECK (email = lower(email));
ALTER TABLE "users" ADD CONSTRAINT "users_email_shape" CHECK (email ~ '^[^@\s]+@[^@\s]+$');
ALTER TABLE "users" ADD CONSTRAINT "users_identity_present" CHECK (email IS NOT NULL OR external_id IS NOT NULL);
ALTER TABLE "users" ADD CONSTRAINT "users_password_needs_email" CHECK (password_hash IS NULL OR email IS NOT NULL);
ALTER TABLE "users" ADD CONSTRAINT "users_name_length" CHECK (char_length(name) <= 200);
ALTER TABLE "users" ADD CONSTRAINT "users_time_zone_not_blank" CHECK (time_zone <> '' AND char_length(time_zone) <= 64);

ALTER TABLE "tasks" ADD CONSTRAINT "tasks_title_not_blank" CHECK (btrim(title) <> '');
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_description_length" CHECK (char_length(description) <= 20000);
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_recurrence_needs_due_at" CHECK (recurrence IS NULL OR due_at IS NOT NULL);
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_recurrence_length" CHECK (char_length(recurrence) BETWEEN 1 AND 500);
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_completed_at_matches" CHECK ((completed AND completed_at IS NOT NULL) OR (NOT completed AND completed_at IS NULL));
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_version_positive" CHECK (version >= 1);

ALTER TABLE "tags" ADD CONSTRAINT "tags_name_length" CHECK (char_length(btrim(name)) BETWEEN 1 AND 64 AND char_length(name) <= 64);
ALTER TABLE "tags" ADD CONSTRAINT "tags_color_hex" CHECK (color ~ '^#[0-9a-fA-F]{6}$');

-- CreateFunction: every change to a row moves updated_at. A change a client can see bumps version by
-- one (optimistic concurrency), and so does an explicit increment (a change to the task's tags).
-- The reminder worker marking a reminder sent does not.
CREATE FUNCTION "touch_row"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE FUNCTION "bump_task_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  IF NEW.version > OLD.version
     OR (to_jsonb(NEW) - 'reminder_sent_at' - 'updated_at' - 'version') IS DISTINCT FROM (to_jsonb(OLD) - 'reminder_sent_at' - 'updated_at' - 'version') THEN
    NEW.version := OLD.version + 1;
  ELSE
    NEW.version := OLD.version;
  END IF;
  RETURN NEW;
END $$;

-- CreateTrigger
CREATE TRIGGER "users_touch" BEFORE UPDATE ON "users" FOR EACH ROW EXECUTE FUNCTION "touch_row"();
CREATE TRIGGER "tasks_bump_version" BEFORE UPDATE ON "tasks" FOR EACH ROW EXECUTE FUNCTION "bump_task_version"();
