-- Proves the foreign keys for the rows that existed before them, under a lock that lets reads and
-- writes go on.
ALTER TABLE "tasks" VALIDATE CONSTRAINT "tasks_list_id_user_id_fkey";
ALTER TABLE "tasks" VALIDATE CONSTRAINT "tasks_parent_id_list_id_user_id_fkey";
