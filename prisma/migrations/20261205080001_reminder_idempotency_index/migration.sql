CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "reminders_user_id_idempotency_key_key" ON "reminders"("user_id", "idempotency_key");
