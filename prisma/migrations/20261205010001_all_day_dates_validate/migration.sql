-- Scans tasks under a lock that lets reads and writes go on.
ALTER TABLE "tasks" VALIDATE CONSTRAINT "tasks_due_date_or_due_at";
ALTER TABLE "tasks" VALIDATE CONSTRAINT "tasks_recurrence_needs_due";
