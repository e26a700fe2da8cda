-- Positions are unique among live tasks only (built beside the old indexes by the two migrations
-- before): a task in the trash keeps its position for its restore, and a new task or a move into the
-- same gap may take the same key meanwhile. Dropping and renaming take an exclusive lock on tasks for
-- milliseconds once granted; the lock_timeout keeps a long transaction from queueing everyone behind it.
SET LOCAL lock_timeout = '10s';

DROP INDEX "tasks_top_level_position_key";
DROP INDEX "tasks_subtask_position_key";
ALTER INDEX "tasks_top_level_live_position_key" RENAME TO "tasks_top_level_position_key";
ALTER INDEX "tasks_subtask_live_position_key" RENAME TO "tasks_subtask_position_key";
