-- Scans tasks under a lock that lets reads and writes go on.
ALTER TABLE "tasks" VALIDATE CONSTRAINT "tasks_list_id_not_null";
