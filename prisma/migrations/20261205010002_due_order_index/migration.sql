-- The DUE_AT order and the dueOn, dueBefore and dueAfter filters: a timed task at its instant, an
-- all-day task at the start of its day, before the timed tasks of that day. Built CONCURRENTLY (the
-- only statement here, so PostgreSQL runs it outside a transaction): reads and writes go on.
-- Prisma's schema language cannot describe an index on expressions; test/db/drift.test.ts knows it.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "tasks_due_order_idx" ON "tasks" ("user_id", (COALESCE("due_at", "due_day_starts_at")), (("due_at" IS NOT NULL)), "id");
