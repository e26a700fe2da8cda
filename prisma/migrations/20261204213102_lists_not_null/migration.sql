-- The validated CHECK proves NOT NULL, so SET NOT NULL needs no scan: a moment's exclusive lock.
ALTER TABLE "tasks" ALTER COLUMN "list_id" SET NOT NULL, ALTER COLUMN "position" SET NOT NULL;
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_list_id_not_null";
