CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "tasks_top_level_live_position_key" ON "tasks"("user_id", "list_id", "position") WHERE (parent_id IS NULL AND deleted_at IS NULL);
