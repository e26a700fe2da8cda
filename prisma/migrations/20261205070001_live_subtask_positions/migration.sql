CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "tasks_subtask_live_position_key" ON "tasks"("user_id", "parent_id", "position") WHERE (parent_id IS NOT NULL AND deleted_at IS NULL);
