-- A nullable column without a default changes only the catalog: no rewrite, the lock is held for
-- milliseconds once it is granted.
SET LOCAL lock_timeout = '10s';

ALTER TABLE "tasks" ADD COLUMN "deleted_at" TIMESTAMPTZ(3);
