-- A nullable column without a default: catalog only. The unique index is built CONCURRENTLY next.
SET LOCAL lock_timeout = '10s';

ALTER TABLE "reminders" ADD COLUMN "idempotency_key" VARCHAR(128);
