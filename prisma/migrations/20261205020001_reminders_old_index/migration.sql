-- The worker reads reminders now; the index it used on tasks goes.
DROP INDEX "tasks_reminder_due_idx";
